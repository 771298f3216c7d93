// obs::MapekMetrics: one node's MAPE-K loop, as the dashboards and alerts read it (a real node's loop and each
// simulated node's under `sim --serve` report the same families):
//
//   meshloop_mapek_decisions_total{diagnosis,action}  decisions the loop took (a diagnosis and what it chose to do)
//   meshloop_mapek_outcomes_total{action,outcome}     verified ends of applied actions: recovered, rolled_back,
//                                                     released (undone once healthy), overridden
//   meshloop_mapek_actions_pending                    applied actions not yet verified, rolled back or released
//   meshloop_mapek_windows_total                      observation windows analysed
//   meshloop_mapek_rate_limited_total{scope}          actions not applied because a rate limit was reached (node, mesh)
//   meshloop_mapek_mode{mode}                         1 for the current mode (observe, act, paused), 0 for the others
//   meshloop_mapek_overrides_active                   operator overrides in force
//   meshloop_mapek_knowledge_saves_total{result}      knowledge-file writes (ok, error)
//   meshloop_mapek_anomaly_score{element}             the detector's highest score in [0, 1] over the node itself
//                                                     (element="node") and over its links (element="link") in the
//                                                     last window the loop analysed
//
// obs knows nothing of the loop: the caller passes the names (mapek's fixed vocabularies), so every label is
// bounded, and reports each decision once when taken and once when its outcome becomes final. Every
// (diagnosis, action) and (action, outcome) series is created at zero, so queries see a loop that has not acted yet.
// Thread-safety: one thread (the driver's or the simulator's) writes; exposition reads concurrently.
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
  void windows(double n) { windows_.Increment(n); }
  void rate_limited(const std::string& scope, double n) { rate_limited_.with({scope}).Increment(n); }
  void mode(const std::string& current);
  void overrides_active(double n) { overrides_.Set(n); }
  void knowledge_saved(bool ok) { saves_.with({ok ? "ok" : "error"}).Increment(); }
  void anomaly_scores(double node, double link) {
    anomaly_node_.Set(node);
    anomaly_link_.Set(link);
  }

 private:
  CounterFamily decisions_, outcomes_, rate_limited_, saves_;
  GaugeFamily mode_, anomaly_;
  prometheus::Gauge& anomaly_node_;
  prometheus::Gauge& anomaly_link_;
  prometheus::Gauge& pending_;
  prometheus::Counter& windows_;
  prometheus::Gauge& overrides_;
};

}  // namespace meshloop::obs
