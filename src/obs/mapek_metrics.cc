#include "obs/mapek_metrics.h"

namespace meshloop::obs {
namespace {
constexpr const char* kModes[] = {"observe", "act", "paused"};
}

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
      rate_limited_(r.counter("meshloop_mapek_rate_limited_total",
                              "MAPE-K actions not applied because a rate limit was reached, by scope (node, mesh).",
                              {"scope"})),
      saves_(r.counter("meshloop_mapek_knowledge_saves_total",
                       "Writes of the MAPE-K knowledge file (temp file, fsync, rename), by result (ok, error).",
                       {"result"})),
      mode_(r.gauge("meshloop_mapek_mode",
                    "1 for the MAPE-K loop's current mode (observe, act, paused), 0 for the others.", {"mode"})),
      anomaly_(r.gauge("meshloop_mapek_anomaly_score",
                       "The MAPE-K detector's highest anomaly score (0 to 1) in the last analysed window, over the "
                       "node itself (element=node) or over its links in either direction (element=link).",
                       {"element"})),
      anomaly_node_(anomaly_.with({"node"})),
      anomaly_link_(anomaly_.with({"link"})),
      pending_(r.gauge("meshloop_mapek_actions_pending",
                       "Applied MAPE-K actions not yet verified, rolled back or released (pins included).")
                   .get()),
      windows_(r.counter("meshloop_mapek_windows_total", "Observation windows the MAPE-K loop analysed.").get()),
      overrides_(r.gauge("meshloop_mapek_overrides_active", "Operator overrides in force on the MAPE-K loop.").get()) {
  for (const auto& d : diagnoses) {
    for (const auto& a : actions) decisions_.with({d, a});
  }
  for (const auto& a : actions) {
    for (const auto& o : outcomes) outcomes_.with({a, o});
  }
  for (const char* m : kModes) mode_.with({m}).Set(0);
  for (const char* s : {"node", "mesh"}) rate_limited_.with({s});
  for (const char* s : {"ok", "error"}) saves_.with({s});
}

void MapekMetrics::mode(const std::string& current) {
  for (const char* m : kModes) mode_.with({m}).Set(current == m ? 1 : 0);
}

}  // namespace meshloop::obs
