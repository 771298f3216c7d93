#include "obs/sim_metrics.h"

namespace meshloop::obs {

namespace {

// Fast reroute repairs within a detection time (hundreds of ms); reconvergence takes seconds; healing, tens.
const std::vector<double> kMttrBuckets = {0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30, 60};

}  // namespace

SimMetrics::SimMetrics(MetricsRegistry& r, const std::vector<std::string>& protocols,
                       const std::vector<std::string>& kinds, const std::vector<std::string>& outcomes,
                       const std::vector<std::string>& detectors)
    : time_(r.gauge("meshloop_sim_time_seconds", "Virtual time of the simulation run in progress, in seconds.").get()),
      alive_(r.gauge("meshloop_sim_nodes_alive", "Simulated nodes up (not crashed by an injected fault).").get()),
      injected_(r.counter("meshloop_sim_faults_injected_total",
                          "Faults the simulator injected (ground truth), by protocol under test and fault kind.",
                          {"protocol", "kind"})),
      active_(r.gauge("meshloop_sim_faults_active", "Injected faults in effect now, by protocol and fault kind.",
                      {"protocol", "kind"})),
      scored_(r.counter("meshloop_sim_faults_scored_total",
                        "Faults whose outcome is final under the scoring rules, by protocol, kind and outcome "
                        "(not_broken, recovered, unrecovered_by_routing, unrecovered).",
                        {"protocol", "kind", "outcome"})),
      mttr_(r.histogram("meshloop_sim_mttr_seconds",
                        "Time to repair of each recovered fault (injection to every broken flow delivering again, "
                        "as scored against the ground truth), by protocol and fault kind, in seconds.",
                        kMttrBuckets, {"protocol", "kind"})),
      precision_(
          r.gauge("meshloop_sim_detection_precision_ratio",
                  "Precision of each MAPE-K detector so far, per (element, 5 s window) against the ground truth.",
                  {"detector"})),
      recall_(r.gauge("meshloop_sim_detection_recall_ratio",
                      "Recall of each MAPE-K detector so far, per (element, 5 s window) against the ground truth.",
                      {"detector"})),
      f1_(r.gauge("meshloop_sim_detection_f1_ratio",
                  "F1 score of each MAPE-K detector so far, per (element, 5 s window) against the ground truth.",
                  {"detector"})),
      ttd_(r.histogram("meshloop_sim_time_to_detect_seconds",
                       "Time from a fault's injection to a detector flagging its element, per detected fault and "
                       "detector, in seconds.",
                       kMttrBuckets, {"detector"})),
      remediations_(r.counter("meshloop_sim_remediations_total",
                              "MAPE-K actions applied, by verdict against the ground truth: true when a fault was "
                              "active on the element acted on, false otherwise.",
                              {"verdict"})) {
  for (const auto& d : detectors) {
    precision_.with({d});
    recall_.with({d});
    f1_.with({d});
    ttd_.with({d});
  }
  if (!detectors.empty()) {
    remediations_.with({"true"});
    remediations_.with({"false"});
  }
  for (const auto& p : protocols) {
    for (const auto& k : kinds) {
      injected_.with({p, k});
      active_.with({p, k});
      mttr_.with({p, k});
      for (const auto& o : outcomes) scored_.with({p, k, o});
    }
  }
}

void SimMetrics::scored(const std::string& protocol, const std::string& kind, const std::string& outcome,
                        std::optional<double> mttr_s) {
  scored_.with({protocol, kind, outcome}).Increment();
  if (mttr_s) mttr_.with({protocol, kind}).Observe(*mttr_s);
}

void SimMetrics::set_detection(const std::string& detector, double precision, double recall, double f1) {
  precision_.with({detector}).Set(precision);
  recall_.with({detector}).Set(recall);
  f1_.with({detector}).Set(f1);
  ttd_.with({detector});  // at zero until the detector's first detection
}

}  // namespace meshloop::obs
