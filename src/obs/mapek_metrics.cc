#include "obs/mapek_metrics.h"

namespace meshloop::obs {

MapekMetrics::MapekMetrics(MetricsRegistry& r, const std::vector<std::string>& diagnoses,
                           const std::vector<std::string>& actions, const std::vector<std::string>& outcomes)
    : decisions_(r.counter("meshloop_mapek_decisions_total",
                           "Decisions of the MAPE-K loop, by diagnosis of the element and the action chosen (none: "
                           "leave it to routing).",
                           {"diagnosis", "action"})),
      outcomes_(r.counter("meshloop_mapek_outcomes_total",
                          "Applied MAPE-K actions whose verification ended, by action and outcome (recovered, "
                          "rolled_back, released, overridden).",
                          {"action", "outcome"})),
      pending_(
          r.gauge("meshloop_mapek_actions_pending", "Applied MAPE-K actions whose verification window is still open.")
              .get()) {
  for (const auto& d : diagnoses) {
    for (const auto& a : actions) decisions_.with({d, a});
  }
  for (const auto& a : actions) {
    for (const auto& o : outcomes) outcomes_.with({a, o});
  }
}

}  // namespace meshloop::obs
