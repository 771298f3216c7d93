// obs::MapekMetrics: what a node's MAPE-K loop decided and did, fed by its driver (mapek::NodeMapek on the node's
// driver thread). obs knows nothing of mapek: label values are passed as the loop's own names.
//
//   meshloop_mapek_decisions_total{action,outcome}   decisions recorded, by action (none, raise_link_cost, ...) and
//                                                    outcome (proposed, pending, recovered, rolled_back, released,
//                                                    overridden)
//   meshloop_mapek_windows_total                     observation windows analysed
//   meshloop_mapek_rate_limited_total{scope}         actions not applied because a rate limit was reached (node, mesh)
//   meshloop_mapek_mode{mode}                        1 for the current mode (observe, act, paused), 0 for the others
//   meshloop_mapek_overrides_active                  operator overrides in force
//   meshloop_mapek_active_actions                    actions applied and not yet rolled back or released
//   meshloop_mapek_knowledge_saves_total{result}     knowledge-file writes (ok, error)
//
// Labels are bounded: actions, outcomes, modes and scopes are the loop's fixed enumerations.
// Thread-safety: one thread updates (the driver's); exposition reads concurrently (series are atomic).
#pragma once

#include <string>

#include "obs/registry.h"

namespace meshloop::obs {

class MapekMetrics {
 public:
  // Declares the families in `registry` (the fixed series at zero). REQUIRES: `registry` outlives this object.
  explicit MapekMetrics(MetricsRegistry& registry);

  void decision(const std::string& action, const std::string& outcome) {
    decisions_.with({action, outcome}).Increment();
  }
  void windows(double n) { windows_.Increment(n); }
  void rate_limited(const std::string& scope, double n) { rate_limited_.with({scope}).Increment(n); }
  void mode(const std::string& current);
  void overrides_active(double n) { overrides_.Set(n); }
  void active_actions(double n) { active_.Set(n); }
  void knowledge_saved(bool ok) { saves_.with({ok ? "ok" : "error"}).Increment(); }

 private:
  CounterFamily decisions_, rate_limited_, saves_;
  GaugeFamily mode_;
  prometheus::Counter& windows_;
  prometheus::Gauge& overrides_;
  prometheus::Gauge& active_;
};

}  // namespace meshloop::obs
