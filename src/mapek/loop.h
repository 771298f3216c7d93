// mapek::Loop: one node's autonomic loop (Monitor -> Analyze -> Plan -> Execute, over Knowledge), I/O-free and
// driven by ticks that carry `now`, as mesh::Node is (DESIGN.md). It reads as one heartbeat (tick()):
//
//   monitor   every tick: the node's own routing telemetry and, when a new window arrived, its neighbourhood graph
//   analyse   per window: the detector (GraphSAGE when a model is loaded, else the learned thresholds; the thresholds
//             also run beside the model as a second opinion), then root cause: which element (this node, a
//             neighbour, one of our links) and which signature (degrading, flapping, down link; dropping,
//             overloaded, down node)
//   verify    every tick: an applied action whose verification window has passed is kept only if the element's harm
//             to traffic fell and routing did not get worse (reachable destinations); else it is rolled back. A kept
//             action is released once the element looks healthy again after `hold`.
//   plan      per window: for each diagnosis, the candidate actions that exist in our mesh, valued by their success
//             rate in Knowledge (a prior until tried) minus their risk; doing nothing when the harm is small or
//             nothing beats it; bounded exploration (rate and minimum gap). Every decision records why.
//   execute   mesh::Commands appended to `out`, which the driver applies to its mesh::Node (every one of them is
//             advertised by the node). Nothing is reported as a success before verification observed it.
//
// Operators: modes observe (decide and record, change nothing), act (default) and paused (monitor only); an action
// rate limit per node and, through a shared MeshBudget, per mesh; overrides that pin an action on an element or
// forbid any, each with an expiry.
//
// What a loop may command: its own links (cost, drain, detection), itself (avoid transit), and the cost of its link
// to a neighbour (to avoid that neighbour). Elements further away are analysed (the 2-hop view) but left to the
// loops of their own ends.
// Thread-safety: none; one thread drives a loop (as it drives the node).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/time.h"
#include "mapek/knowledge.h"
#include "mapek/types.h"
#include "mesh/node.h"
#include "ml/detector.h"

namespace meshloop::mapek {

struct LoopConfig {
  Mode mode = Mode::kAct;
  Duration verify_after = seconds(5);  // an action is judged on the first full window after it
  Duration hold = seconds(30);         // a verified action is reconsidered (released if healthy) after this
  double recovered_ratio = 0.5;        // recovered: harm after <= this x harm before
  double min_harm_mbps = 0.001;        // below this much traffic harmed, doing nothing wins
  double act_margin = 0.25;            // the best action's value must exceed this (doing nothing's value)
  int node_max_actions = 4;            // per node, in any rate_window (rollbacks and releases are never limited)
  Duration rate_window = seconds(60);
  double exploration = 0.1;                 // chance to try a candidate other than the best ...
  Duration exploration_gap = seconds(300);  // ... at most once per this long per node
  double raise_factor = 4.0;                // RaiseLinkCost factor on a degrading link
  double avoid_factor = 20.0;               // RaiseLinkCost factor on the link to a node that drops forwarded traffic
  int widen_multiplier = 10;                // SetLinkDetection on a flapping link
  // Signatures (raw feature units, ml/features.h).
  double loss_limit = 0.1;          // a link losing more than this is degrading (hello loss over a window: 1 %
                                    // background loss shows 2 of 25 hellos lost on some direction of 1 link in 10)
  double forward_loss_limit = 0.2;  // a node not forwarding this share of transit is dropping
  double cpu_limit = 0.85, queue_drop_limit = 0.05;  // overloaded
  int flap_windows = 2;                              // state changes in this many of the last 4 windows: flapping
  std::size_t max_decisions = 256;                   // kept for inspection (the oldest are dropped)
  std::uint64_t seed = 1;                            // exploration draws
};

// Per-mesh action rate limit: at most `max` actions in any `window`. The simulator shares one among all loops; a
// real mesh would count the actions its advertisements carry. Thread-safety: none.
class MeshBudget {
 public:
  MeshBudget(int max, Duration window) : max_(max), window_(window) {}
  // Takes one action's worth when available (true); false when the mesh is at its limit.
  bool try_take(TimePoint now);
  int max() const { return max_; }

 private:
  int max_;
  Duration window_;
  std::deque<TimePoint> taken_;
};

// What the loop reads in one tick.
struct Observation {
  TimePoint now{};
  // The node's neighbourhood over the window that just ended (node_ids set; the node itself among them), or null
  // when no new window arrived this tick.
  const ml::Graph* neighbourhood = nullptr;
  // The node's own routing view (reachable destinations, neighbours); nullopt when the driver has none.
  std::optional<mesh::Telemetry> routing;
  // Whether routing has a route to a destination now (a read-only query into the node, valid during the tick);
  // null when the driver cannot say. Verification uses it: a drained link whose far end became unreachable was a
  // bridge, and the drain is rolled back whatever else it achieved.
  std::function<bool(NodeId)> reachable;
};

// One decision, visible with its reason.
struct Decision {
  TimePoint at{};
  Element element;
  Diagnosis diagnosis = Diagnosis::kUnexplained;
  ActionKind action = ActionKind::kNone;
  Outcome outcome = Outcome::kProposed;
  bool explored = false;
  std::uint64_t incident = 0;  // Knowledge id (0: not recorded, e.g. doing nothing)
  std::string reason;
};

// A pin (force `action` on `element`) or a clear (no action on `element`, any active one undone), until `expires`.
struct Override {
  Element element;
  std::optional<ActionKind> pin;
  TimePoint expires = kTimeNever;
};

struct LoopStats {
  std::uint64_t windows = 0, diagnoses = 0, decisions = 0;
  std::uint64_t actions[kActionKindCount][kOutcomeCount] = {};  // by kind and final (or current) outcome
  std::uint64_t rollbacks = 0, releases = 0, explored = 0;
  std::uint64_t rate_limited_node = 0, rate_limited_mesh = 0, overridden = 0;
  std::uint64_t detector_errors = 0;

  LoopStats& operator+=(const LoopStats& o) {
    windows += o.windows;
    diagnoses += o.diagnoses;
    decisions += o.decisions;
    for (std::size_t k = 0; k < kActionKindCount; ++k) {
      for (std::size_t c = 0; c < kOutcomeCount; ++c) actions[k][c] += o.actions[k][c];
    }
    rollbacks += o.rollbacks;
    releases += o.releases;
    explored += o.explored;
    rate_limited_node += o.rate_limited_node;
    rate_limited_mesh += o.rate_limited_mesh;
    overridden += o.overridden;
    detector_errors += o.detector_errors;
    return *this;
  }
};

class Loop {
 public:
  // `knowledge` and `budget` (optional) must outlive the loop. `detector`: the primary (GraphSAGE, or thresholds
  // when no model is loaded); `second`: an optional second opinion whose verdict is recorded in the reasons.
  // REQUIRES: detector != nullptr.
  Loop(NodeId self, LoopConfig config, Knowledge& knowledge, std::unique_ptr<ml::Detector> detector,
       std::unique_ptr<ml::Detector> second = nullptr, MeshBudget* budget = nullptr);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // The heartbeat. Appends the commands to apply to this node now (in order) to `out`.
  void tick(const Observation& obs, std::vector<mesh::Command>& out);

  // Switching to observe or paused undoes every active action (observe and paused change nothing).
  void set_mode(Mode mode, TimePoint now, std::vector<mesh::Command>& out);
  Mode mode() const { return config_.mode; }
  // InvalidArgument when this node cannot command the element (not one of its links, not itself or a neighbour) or
  // the pinned action does not apply to it.
  Status set_override(const Override& o, TimePoint now, std::vector<mesh::Command>& out);
  void clear_override(const Element& element, TimePoint now, std::vector<mesh::Command>& out);
  // The overrides in force (an expired one is dropped at the next tick).
  const std::vector<Override>& overrides() const { return overrides_; }
  const LoopConfig& config() const { return config_; }

  NodeId self() const { return self_; }
  std::string_view detector_name() const { return detector_->name(); }
  const std::deque<Decision>& decisions() const { return decisions_; }
  const LoopStats& stats() const { return stats_; }

  // The primary detector's highest score, in [0, 1], over this node itself (`node`) and over its links, either
  // direction (`link`; 0 without links), in the last window it analysed; nullopt before the first one.
  struct AnomalyScores {
    double node = 0;
    double link = 0;
  };
  const std::optional<AnomalyScores>& anomaly_scores() const { return anomaly_; }

  struct Active {
    std::uint64_t incident = 0;
    Element element;
    Diagnosis diagnosis = Diagnosis::kUnexplained;
    ActionKind action = ActionKind::kNone;
    NodeId knob = mesh::kNoNode;  // the neighbour whose link it changes; self for avoid_transit
    TimePoint detected{}, applied{}, verify_at{}, release_at{};
    double harm_before = 0;
    bool far_end_reachable_before = false;  // drains: the neighbour was reachable when we drained the link
    bool verified = false;
    bool pinned = false;  // an operator's: never verified or rolled back, undone at expiry
    TimePoint expires = kTimeNever;
  };
  const std::vector<Active>& active() const { return active_; }

 private:
  struct Finding {
    Element element;
    Diagnosis diagnosis;
    double score;
    double harm;
    std::string evidence;
  };
  struct View;  // the current window, indexed for this node

  void analyse(const ml::Graph& g, TimePoint now, std::vector<Finding>& findings);
  void verify(TimePoint now, std::vector<mesh::Command>& out);
  void plan(const std::vector<Finding>& findings, TimePoint now, std::vector<mesh::Command>& out);
  void expire_overrides(TimePoint now, std::vector<mesh::Command>& out);

  std::vector<ActionKind> candidates(const Finding& f) const;
  double prior(Diagnosis d, ActionKind a) const;
  std::optional<double> harm_of(const Active& a) const;  // from the latest window; nullopt when unmeasurable
  bool healthy(const Active& a) const;
  NodeId knob_of(const Element& e, ActionKind a) const;
  void command(const Active& a, bool undo, std::vector<mesh::Command>& out) const;
  void finish(Active& a, Outcome outcome, TimePoint now, std::optional<double> harm_after);
  void undo_all(TimePoint now, Outcome outcome, std::vector<mesh::Command>& out);
  bool node_budget(TimePoint now);
  void record(Decision d);

  NodeId self_;
  LoopConfig config_;
  Knowledge& knowledge_;
  std::unique_ptr<ml::Detector> detector_, second_;
  MeshBudget* budget_;
  Rng rng_;
  ml::Verdicts verdicts_, second_verdicts_;
  std::unique_ptr<View> view_;
  std::optional<mesh::Telemetry> routing_;
  std::function<bool(NodeId)> reachable_;       // this tick's (null outside ticks)
  std::map<NodeId, std::deque<bool>> changed_;  // per neighbour: did the link change state in each recent window
  std::vector<Active> active_;
  std::vector<Override> overrides_;
  std::deque<TimePoint> taken_;  // this node's recent actions
  TimePoint last_explore_ = kTimeZero;
  bool explored_once_ = false;
  std::deque<Decision> decisions_;
  LoopStats stats_;
  std::optional<AnomalyScores> anomaly_;
};

}  // namespace meshloop::mapek
