// obs::SimMetrics: the simulator's ground truth, live (meshloop sim --serve), on the simulator process's registry:
//
//   meshloop_sim_time_seconds                          virtual time of the run in progress
//   meshloop_sim_nodes_alive                           simulated nodes up (not crashed)
//   meshloop_sim_faults_injected_total{protocol,kind}  faults injected so far
//   meshloop_sim_faults_active{protocol,kind}          faults in effect now
//   meshloop_sim_faults_scored_total{protocol,kind,outcome}
//                                                      faults whose outcome is final (DESIGN.md scoring rules):
//                                                      not_broken, recovered, unrecovered_by_routing, unrecovered
//   meshloop_sim_mttr_seconds{protocol,kind}           MTTR of each recovered fault, as scored
// and, when the MAPE-K loop runs (scored per element and 5 s window against the truth, DESIGN.md):
//   meshloop_sim_detection_{precision,recall,f1}_ratio{detector}   each detector's scores so far
//   meshloop_sim_time_to_detect_seconds{detector}      injection to the detector flagging the element, per fault
//   meshloop_sim_remediations_total{verdict}           actions applied on a faulty element (true) or not (false)
//
// obs knows nothing of the simulator: the caller passes names (fault kinds, outcomes, protocols), each from a
// fixed list, so every label is bounded. Series for the given protocols and kinds are created at zero.
//
// Thread-safety: one thread (the simulator's) writes; exposition reads concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "obs/registry.h"

namespace meshloop::obs {

class SimMetrics {
 public:
  // REQUIRES: `registry` outlives this object.
  SimMetrics(MetricsRegistry& registry, const std::vector<std::string>& protocols,
             const std::vector<std::string>& kinds, const std::vector<std::string>& outcomes,
             const std::vector<std::string>& detectors = {});

  void set_time(double virtual_seconds) { time_.Set(virtual_seconds); }
  void set_nodes_alive(std::size_t n) { alive_.Set(static_cast<double>(n)); }
  void injected(const std::string& protocol, const std::string& kind) { injected_.with({protocol, kind}).Increment(); }
  void set_active(const std::string& protocol, const std::string& kind, std::size_t n) {
    active_.with({protocol, kind}).Set(static_cast<double>(n));
  }
  // A fault's final outcome; `mttr_s` when it recovered.
  void scored(const std::string& protocol, const std::string& kind, const std::string& outcome,
              std::optional<double> mttr_s);
  void set_detection(const std::string& detector, double precision, double recall, double f1);
  void detected(const std::string& detector, double seconds) { ttd_.with({detector}).Observe(seconds); }
  void remediations(bool on_fault, std::uint64_t n) {
    remediations_.with({on_fault ? "true" : "false"}).Increment(static_cast<double>(n));
  }

 private:
  prometheus::Gauge& time_;
  prometheus::Gauge& alive_;
  CounterFamily injected_;
  GaugeFamily active_;
  CounterFamily scored_;
  HistogramFamily mttr_;
  GaugeFamily precision_, recall_, f1_;
  HistogramFamily ttd_;
  CounterFamily remediations_;
};

}  // namespace meshloop::obs
