// mapek::SimMapek: one mapek::Loop per simulated node, driven by the simulator's telemetry windows
// (sim::RunOptions::on_control), and the scoring of detection and remediation against the ground truth.
//
// Each window, every live node's loop gets its 2-hop neighbourhood cut from the mesh-wide telemetry (standing in
// for the summaries neighbours would advertise) and its own mesh::Telemetry, and the commands it returns are applied
// to its mesh::Node (which advertises them). A node that crashes loses its loop with the rest of its state; the
// Knowledge store is the mesh's and survives. Beside the loops, the four detectors run over the whole mesh each
// window and are scored per (element, 5 s window) and per fault (time to detect), as DESIGN.md defines.
// Thread-safety: none; one simulator run drives it.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mapek/knowledge.h"
#include "mapek/loop.h"
#include "ml/detector.h"
#include "ml/train.h"
#include "sim/scenario.h"
#include "sim/world.h"

namespace meshloop::mapek {

struct SimMapekOptions {
  Mode mode = Mode::kAct;
  LoopConfig loop;
  std::shared_ptr<const ml::GraphModel> model;  // null: the loops use the learned thresholds
  std::string model_note;                       // where the model came from, or why there is none (for the report)
  bool second_opinion = true;                   // thresholds beside the model in every loop
  int hops = 2;
  int mesh_max_actions = 40;           // per-mesh action limit ...
  Duration mesh_window = seconds(60);  // ... per this long
  bool score_detection = true;
};

class SimMapek {
 public:
  // `scenario` and `knowledge` must outlive this object and the run it is attached to.
  SimMapek(const sim::Scenario& scenario, SimMapekOptions options, Knowledge& knowledge);
  ~SimMapek();

  // Sets options.on_control (and the telemetry window parameters it needs).
  void attach(sim::RunOptions& options);

  // {"mode", "detector", "windows", "decisions", "actions": {kind: {outcome: n}}, "rollbacks", "releases",
  //  "explored", "rate_limited": {node, mesh}, "remediations": {true, false}, "sample_decisions": [...]}
  nlohmann::json mapek_json() const;
  // {detector: {precision, recall, f1, tp, fp, fn, tn, ttd_s: {p50, p95, max, count}, detected_faults, faults}}
  nlohmann::json detection_json() const;

  // Each detector's scores so far, and its time to detect for every fault it has detected (in detection order).
  struct DetectorScore {
    std::string name;
    double precision = 0, recall = 0, f1 = 0;
    std::vector<double> ttd_s;
  };
  std::vector<DetectorScore> detector_scores() const;
  Mode mode() const { return opts_.mode; }

  // Per window and detector: false positives / negative element-windows (the regime-change plot).
  struct FpRow {
    double t_s = 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> fp_neg;  // by detector, in detector_names() order
  };
  const std::vector<FpRow>& fp_timeline() const { return fp_timeline_; }
  std::vector<std::string> detector_names() const;

  // Every decision of every loop, in time order (bounded per loop by LoopConfig::max_decisions).
  std::vector<std::pair<NodeId, Decision>> decisions() const;
  LoopStats totals() const;
  // Each live loop's anomaly scores from its last analysed window, by node id - 1 (nullopt: crashed, or no window
  // analysed yet).
  std::vector<std::optional<Loop::AnomalyScores>> anomaly_scores() const;
  std::uint64_t false_remediations() const { return false_remediations_; }
  std::uint64_t true_remediations() const { return true_remediations_; }

 private:
  struct Scored;
  struct NodeLoop;
  void on_window(const sim::TelemetryWindow& w, sim::ControlView& view);
  void score(const sim::TelemetryWindow& w);
  std::unique_ptr<Loop> make_loop(NodeId id) const;
  bool matches_fault(const Element& e, TimePoint now) const;

  const sim::Scenario& sc_;
  SimMapekOptions opts_;
  Knowledge& knowledge_;
  mutable MeshBudget budget_;                     // shared by the loops (make_loop hands it out)
  std::vector<std::unique_ptr<NodeLoop>> loops_;  // by id - 1
  LoopStats retired_;                             // stats of loops lost to crashes
  std::vector<std::pair<NodeId, Decision>> retired_decisions_;
  std::vector<std::unique_ptr<Scored>> scored_;
  std::uint64_t windows_ = 0;
  std::vector<FpRow> fp_timeline_;
  std::uint64_t false_remediations_ = 0, true_remediations_ = 0;
};

}  // namespace meshloop::mapek
