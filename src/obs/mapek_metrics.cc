#include "obs/mapek_metrics.h"

namespace meshloop::obs {

namespace {
constexpr const char* kModes[] = {"observe", "act", "paused"};
}

MapekMetrics::MapekMetrics(MetricsRegistry& registry)
    : decisions_(registry.counter("meshloop_mapek_decisions_total",
                                  "MAPE-K decisions recorded by this node's loop, by action and outcome "
                                  "(proposed = decided in observe mode, not applied).",
                                  {"action", "outcome"})),
      rate_limited_(registry.counter("meshloop_mapek_rate_limited_total",
                                     "MAPE-K actions not applied because a rate limit was reached, by scope (node, "
                                     "mesh).",
                                     {"scope"})),
      saves_(registry.counter("meshloop_mapek_knowledge_saves_total",
                              "Writes of the MAPE-K knowledge file (temp file, fsync, rename), by result (ok, error).",
                              {"result"})),
      mode_(registry.gauge("meshloop_mapek_mode",
                           "1 for the MAPE-K loop's current mode (observe, act, paused), 0 "
                           "for the others.",
                           {"mode"})),
      windows_(registry.counter("meshloop_mapek_windows_total", "Observation windows the MAPE-K loop analysed.").get()),
      overrides_(
          registry.gauge("meshloop_mapek_overrides_active", "Operator overrides in force on the MAPE-K loop.").get()),
      active_(registry
                  .gauge("meshloop_mapek_active_actions",
                         "MAPE-K actions applied to this node and not yet rolled back or released (pins included).")
                  .get()) {
  for (const char* m : kModes) mode_.with({m}).Set(0);
  rate_limited_.with({"node"});
  rate_limited_.with({"mesh"});
  saves_.with({"ok"});
  saves_.with({"error"});
}

void MapekMetrics::mode(const std::string& current) {
  for (const char* m : kModes) mode_.with({m}).Set(current == m ? 1 : 0);
}

}  // namespace meshloop::obs
