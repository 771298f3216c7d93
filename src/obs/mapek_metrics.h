// obs::MapekMetrics: one node's MAPE-K loop, as the dashboards and alerts read it:
//
//   meshloop_mapek_decisions_total{diagnosis,action}  decisions the loop took (a diagnosis and what it chose to do)
//   meshloop_mapek_outcomes_total{action,outcome}     verified ends of applied actions: recovered, rolled_back,
//                                                     released (undone once healthy), overridden
//   meshloop_mapek_actions_pending                    applied actions whose verification window is still open
//
// obs knows nothing of the loop: the caller passes the names (mapek's fixed vocabularies), so every label is
// bounded, and reports each decision once when taken and once when its outcome becomes final. Every
// (diagnosis, action) and (action, outcome) series is created at zero, so queries see a loop that has not acted yet.
// Thread-safety: one thread (the driver's) writes; exposition reads concurrently.
#pragma once

#include <string>
#include <vector>

#include "obs/registry.h"

namespace meshloop::obs {

class MapekMetrics {
 public:
  // REQUIRES: `registry` outlives this object; one MapekMetrics per registry (per node).
  MapekMetrics(MetricsRegistry& registry, const std::vector<std::string>& diagnoses,
               const std::vector<std::string>& actions, const std::vector<std::string>& outcomes);

  void decided(const std::string& diagnosis, const std::string& action) {
    decisions_.with({diagnosis, action}).Increment();
  }
  void finished(const std::string& action, const std::string& outcome) {
    outcomes_.with({action, outcome}).Increment();
  }
  void set_pending(std::size_t n) { pending_.Set(static_cast<double>(n)); }

 private:
  CounterFamily decisions_;
  CounterFamily outcomes_;
  prometheus::Gauge& pending_;
};

}  // namespace meshloop::obs
