// mapek::Loop on hand-built neighbourhoods with a scripted detector: the planner's choices, verification and
// rollback, release, rate limits, modes and overrides.
#include "mapek/loop.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "mapek/neighbourhood.h"

namespace meshloop::mapek {
namespace {

using ml::EdgeFeature;
using ml::NodeFeature;

// Flags exactly the nodes and directed entries (by id pair) it is told to.
class ScriptedDetector final : public ml::Detector {
 public:
  std::set<NodeId>* nodes;
  std::set<std::pair<NodeId, NodeId>>* links;
  ScriptedDetector(std::set<NodeId>* n, std::set<std::pair<NodeId, NodeId>>* l) : nodes(n), links(l) {}
  std::string_view name() const override { return "scripted"; }
  Status observe(const ml::Graph& g, TimePoint, ml::Verdicts& out) override {
    out.resize(g.num_nodes(), g.num_edges());
    for (std::size_t v = 0; v < g.num_nodes(); ++v) {
      const bool f = nodes->count(g.node_id(v)) > 0;
      out.node_flag[v] = f;
      out.node_score[v] = f ? 0.9f : 0.1f;
      for (std::int32_t e = g.offsets[v]; e < g.offsets[v + 1]; ++e) {
        const NodeId t = g.node_id(static_cast<std::size_t>(g.targets[static_cast<std::size_t>(e)]));
        const bool fe = links->count({g.node_id(v), t}) > 0 || links->count({t, g.node_id(v)}) > 0;
        out.edge_flag[static_cast<std::size_t>(e)] = fe;
        out.edge_score[static_cast<std::size_t>(e)] = fe ? 0.9f : 0.1f;
      }
    }
    return Status::Ok();
  }
};

// Node 1 (us) with neighbours 2, 3, 4; 2 and 3 also linked to 5. Healthy features everywhere.
struct World {
  ml::Graph g;
  std::set<NodeId> flagged_nodes;
  std::set<std::pair<NodeId, NodeId>> flagged_links;
  Knowledge knowledge;
  // Knowledge of `n` past incidents where raising a degrading link's cost was rolled back.
  void raising_cost_failed(int n) {
    for (int i = 0; i < n; ++i) {
      Incident inc;
      inc.diagnosis = Diagnosis::kDegradingLink;
      inc.action = ActionKind::kRaiseLinkCost;
      inc.outcome = Outcome::kRolledBack;
      knowledge.add(inc);
    }
  }
  TimePoint now = at(seconds(100));

  // Links by index (node i has id i + 1); healthy features everywhere.
  explicit World(const std::vector<std::pair<std::int32_t, std::int32_t>>& links = {
                     {0, 1}, {0, 2}, {0, 3}, {1, 4}, {2, 4}}) {
    std::int32_t n = 0;
    for (auto [a, b] : links) n = std::max({n, a + 1, b + 1});
    g = ml::Graph::from_links(static_cast<std::size_t>(n), links);
    for (std::int32_t v = 0; v < n; ++v) g.node_ids.push_back(static_cast<std::uint32_t>(v + 1));
    for (Eigen::Index v = 0; v < n; ++v) {
      set(v, NodeFeature::kCpu, 0.3f);
      set(v, NodeFeature::kMemory, 0.4f);
      set(v, NodeFeature::kQueueDropRatio, 0);
      set(v, NodeFeature::kForwardLossRatio, 0);
      set(v, NodeFeature::kTelemetryAgeS, 0.5f);
      set(v, NodeFeature::kUpNeighbourRatio, 1);
    }
    for (Eigen::Index e = 0; e < static_cast<Eigen::Index>(g.num_edges()); ++e) {
      for (auto [f, x] : {std::pair{EdgeFeature::kLossIn, 0.0f},
                          {EdgeFeature::kLossOut, 0.0f},
                          {EdgeFeature::kLinkAgeS, 300.0f},
                          {EdgeFeature::kUp, 1.0f},
                          {EdgeFeature::kThroughputMbps, 0.05f}}) {
        g.edge_features(e, static_cast<Eigen::Index>(ml::index(f))) = x;
      }
    }
  }
  void set(Eigen::Index v, NodeFeature f, float x) { g.node_features(v, static_cast<Eigen::Index>(ml::index(f))) = x; }
  void node(NodeId id, NodeFeature f, float x) { set(id - 1, f, x); }
  // Both entries of link a-b.
  void link(NodeId a, NodeId b, EdgeFeature f, float x) {
    for (auto [u, v] : {std::pair{a, b}, std::pair{b, a}}) {
      for (std::int32_t e = g.offsets[u - 1]; e < g.offsets[u]; ++e) {
        if (g.targets[static_cast<std::size_t>(e)] == static_cast<std::int32_t>(v - 1)) {
          g.edge_features(e, static_cast<Eigen::Index>(ml::index(f))) = x;
        }
      }
    }
  }
  std::unique_ptr<Loop> loop(LoopConfig c = {}, MeshBudget* budget = nullptr, NodeId self = 1) {
    c.exploration = c.exploration;  // tests set it explicitly when they want it
    return std::make_unique<Loop>(self, c, knowledge,
                                  std::make_unique<ScriptedDetector>(&flagged_nodes, &flagged_links), nullptr, budget);
  }
  // Link a-b changes state within every window and loses half its hellos: one window unflagged, then one flagged,
  // whose commands are returned (the planner's answer to a flapping link).
  std::vector<mesh::Command> flap_then_flag(Loop& l, NodeId a, NodeId b) {
    link(a, b, EdgeFeature::kLinkAgeS, 1.5f);
    link(a, b, EdgeFeature::kLossIn, 0.5f);
    tick(l);
    flagged_links = {{a, b}};
    return tick(l);
  }
  // One window: advances time by 5 s and ticks.
  std::vector<mesh::Command> tick(Loop& l, std::optional<mesh::Telemetry> routing = std::nullopt) {
    now += seconds(5);
    std::vector<mesh::Command> out;
    l.tick(Observation{now, &g, routing, nullptr}, out);
    return out;
  }
};

LoopConfig no_exploration() {
  LoopConfig c;
  c.exploration = 0;
  return c;
}

template <typename T>
const T* only(const std::vector<mesh::Command>& cmds) {
  if (cmds.size() != 1) return nullptr;
  return std::get_if<T>(&cmds[0]);
}

TEST(Planner, AvoidsANeighbourThatDropsForwardedTraffic) {
  World w;
  w.flagged_nodes = {2};
  w.node(2, NodeFeature::kForwardLossRatio, 1.0f);
  auto l = w.loop(no_exploration());
  const auto cmds = w.tick(*l);
  const auto* c = only<mesh::command::RaiseLinkCost>(cmds);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->neighbour, 2u);
  EXPECT_DOUBLE_EQ(c->factor, 20.0);
  ASSERT_FALSE(l->decisions().empty());
  const Decision& d = l->decisions().back();
  EXPECT_EQ(d.diagnosis, Diagnosis::kDroppingNode);
  EXPECT_EQ(d.action, ActionKind::kAvoidNode);
  EXPECT_EQ(d.outcome, Outcome::kPending);
  EXPECT_NE(d.reason.find("forward loss 1.00"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("chose avoid_node"), std::string::npos) << d.reason;
}

TEST(Planner, RaisesTheCostOfADegradingLinkBeforeDrainingIt) {
  World w;
  w.flagged_links = {{1, 2}};
  w.link(1, 2, EdgeFeature::kLossIn, 0.3f);
  auto l = w.loop(no_exploration());
  const auto cmds1 = w.tick(*l);
  const auto* c = only<mesh::command::RaiseLinkCost>(cmds1);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->neighbour, 2u);
  EXPECT_DOUBLE_EQ(c->factor, 4.0);
  EXPECT_EQ(l->decisions().back().diagnosis, Diagnosis::kDegradingLink);
}

// A regime change lifts every link's loss: a flagged link losing no more than twice what the links around it lose,
// plus loss_limit, is not a degrading link (no action); the same loss among clean links is.
TEST(Planner, ALinkLosingWhatItsNeighbourhoodLosesIsNotDegrading) {
  World w;
  w.flagged_links = {{1, 2}};
  for (auto [a, b] : {std::pair{1, 3}, {1, 4}, {2, 5}, {3, 5}}) w.link(a, b, EdgeFeature::kLossIn, 0.06f);
  w.link(1, 2, EdgeFeature::kLossIn, 0.16f);  // below 0.1 + 2 x 0.06
  auto l = w.loop(no_exploration());
  EXPECT_TRUE(w.tick(*l).empty());
  for (const Decision& d : l->decisions()) EXPECT_NE(d.diagnosis, Diagnosis::kDegradingLink) << d.reason;

  w.link(1, 2, EdgeFeature::kLossIn, 0.3f);  // clearly above its neighbourhood
  const auto* c = only<mesh::command::RaiseLinkCost>(w.tick(*l));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(l->decisions().back().diagnosis, Diagnosis::kDegradingLink);
}

TEST(Planner, DrainsAFlappingLink) {
  World w;
  w.flagged_links = {{1, 3}};
  w.link(1, 3, EdgeFeature::kLinkAgeS, 1.5f);  // changed state within each window
  w.link(1, 3, EdgeFeature::kLossIn, 0.5f);
  auto l = w.loop(no_exploration());
  auto first = w.tick(*l);  // one change: not yet flapping, but degrading
  EXPECT_EQ(l->decisions().back().diagnosis, Diagnosis::kDegradingLink);
  World w2;
  auto l2 = w2.loop(no_exploration());
  const auto cmds2 = w2.flap_then_flag(*l2, 1, 3);
  const auto* c = only<mesh::command::DrainLink>(cmds2);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->neighbour, 3u);
  EXPECT_TRUE(c->drained);
  EXPECT_EQ(l2->decisions().back().diagnosis, Diagnosis::kFlappingLink);
}

TEST(Planner, DrainsNoLinkItSeesNoWayAround) {
  // 1-3 flaps. Around it runs 1-2-5-3; with 2-5 down there is no way around, and a drain would cut 3 off.
  World w;
  w.link(2, 5, EdgeFeature::kUp, 0.0f);
  auto l = w.loop(no_exploration());
  const auto cmds = w.flap_then_flag(*l, 1, 3);
  EXPECT_EQ(l->decisions().back().diagnosis, Diagnosis::kFlappingLink);
  const auto* c = only<mesh::command::RaiseLinkCost>(cmds);  // the next best candidate
  ASSERT_NE(c, nullptr) << l->decisions().back().reason;
  EXPECT_EQ(c->neighbour, 3u);
  EXPECT_NE(l->decisions().back().reason.find("drain_link left out: no way around link 1-3"), std::string::npos)
      << l->decisions().back().reason;

  // A real node's view is a star (node_window.h): it cannot see a way around any link, so it does not judge.
  World star({{0, 1}, {0, 2}, {0, 3}});
  auto l3 = star.loop(no_exploration());
  const auto star_cmds = star.flap_then_flag(*l3, 1, 3);
  const auto* drained = only<mesh::command::DrainLink>(star_cmds);
  ASSERT_NE(drained, nullptr) << l3->decisions().back().reason;
  EXPECT_EQ(drained->neighbour, 3u);
}

TEST(Planner, ShedsTransitWhenItselfIsOverloaded) {
  World w;
  w.flagged_nodes = {1};
  w.node(1, NodeFeature::kCpu, 0.97f);
  w.node(1, NodeFeature::kQueueDropRatio, 0.3f);
  auto l = w.loop(no_exploration());
  const auto cmds3 = w.tick(*l);
  const auto* c = only<mesh::command::AvoidTransit>(cmds3);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->avoid);
}

TEST(Planner, DoesNothingWhenTheFaultHarmsNoTraffic) {
  World w;
  w.flagged_links = {{1, 2}};
  w.link(1, 2, EdgeFeature::kLossIn, 0.3f);
  w.link(1, 2, EdgeFeature::kThroughputMbps, 0.0f);
  auto l = w.loop(no_exploration());
  EXPECT_TRUE(w.tick(*l).empty());
  EXPECT_EQ(l->decisions().back().action, ActionKind::kNone);
  EXPECT_NE(l->decisions().back().reason.find("nothing to gain"), std::string::npos);
}

TEST(Planner, LeavesDownLinksAndCrashedNodesToRouting) {
  World w;
  w.flagged_links = {{1, 4}};
  w.link(1, 4, EdgeFeature::kUp, 0.0f);
  w.flagged_nodes = {3};
  w.node(3, NodeFeature::kCpu, std::nanf(""));
  w.node(3, NodeFeature::kTelemetryAgeS, 12.0f);
  auto l = w.loop(no_exploration());
  EXPECT_TRUE(w.tick(*l).empty());
  std::set<Diagnosis> seen;
  for (const Decision& d : l->decisions()) {
    EXPECT_EQ(d.action, ActionKind::kNone);
    EXPECT_NE(d.reason.find("left to routing"), std::string::npos) << d.reason;
    seen.insert(d.diagnosis);
  }
  EXPECT_EQ(seen, (std::set<Diagnosis>{Diagnosis::kDownLink, Diagnosis::kDownNode}));
}

TEST(Planner, RootCauseBlamesTheNodeNotItsLinks) {
  World w;
  w.flagged_nodes = {2};
  w.flagged_links = {{1, 2}};
  w.node(2, NodeFeature::kForwardLossRatio, 0.9f);
  w.link(1, 2, EdgeFeature::kLossIn, 0.2f);
  auto l = w.loop(no_exploration());
  w.tick(*l);
  for (const Decision& d : l->decisions()) EXPECT_EQ(d.element, Element::node(2)) << d.reason;
}

TEST(Planner, KnowledgeOfFailuresSteersToAnotherAction) {
  World w;
  w.raising_cost_failed(6);
  w.flagged_links = {{1, 2}};
  w.link(1, 2, EdgeFeature::kLossIn, 0.3f);
  auto l = w.loop(no_exploration());
  const auto cmds4 = w.tick(*l);
  ASSERT_NE(only<mesh::command::DrainLink>(cmds4), nullptr);
  EXPECT_NE(l->decisions().back().reason.find("(0/6 verified)"), std::string::npos) << l->decisions().back().reason;
}

TEST(Planner, ExplorationIsBoundedByItsGap) {
  World w;
  LoopConfig c;
  c.exploration = 1.0;
  c.exploration_gap = seconds(300);
  c.node_max_actions = 100;
  w.link(1, 2, EdgeFeature::kLossIn, 0.3f);
  w.link(1, 3, EdgeFeature::kLossIn, 0.3f);
  w.flagged_links = {{1, 2}, {1, 3}};
  auto l = w.loop(c);
  w.tick(*l);
  int explored = 0;
  for (const Decision& d : l->decisions()) explored += d.explored ? 1 : 0;
  EXPECT_EQ(explored, 1);  // the second finding in the same window is within the gap
  EXPECT_EQ(l->stats().explored, 1u);
}

TEST(AnomalyScores, AreTheDetectorsHighestOverTheNodeAndItsOwnLinksInTheLastWindow) {
  World w;
  auto l = w.loop(no_exploration());
  EXPECT_FALSE(l->anomaly_scores().has_value());  // no window analysed yet
  w.flagged_links = {{3, 5}};                     // not one of our links: it does not count
  w.tick(*l);
  ASSERT_TRUE(l->anomaly_scores().has_value());
  EXPECT_FLOAT_EQ(static_cast<float>(l->anomaly_scores()->node), 0.1f);
  EXPECT_FLOAT_EQ(static_cast<float>(l->anomaly_scores()->link), 0.1f);
  w.flagged_links = {{4, 1}};  // either direction of our link to 4
  w.flagged_nodes = {1};
  w.tick(*l);
  EXPECT_FLOAT_EQ(static_cast<float>(l->anomaly_scores()->node), 0.9f);
  EXPECT_FLOAT_EQ(static_cast<float>(l->anomaly_scores()->link), 0.9f);
  w.flagged_links.clear();
  w.flagged_nodes.clear();
  w.tick(*l);  // the last window only
  EXPECT_FLOAT_EQ(static_cast<float>(l->anomaly_scores()->node), 0.1f);
  EXPECT_FLOAT_EQ(static_cast<float>(l->anomaly_scores()->link), 0.1f);
}

TEST(Verify, KeepsAnActionWhoseEffectIsObservedAndCountsItInKnowledge) {
  World w;
  w.flagged_links = {{1, 2}};
  w.link(1, 2, EdgeFeature::kLossIn, 0.3f);
  auto l = w.loop(no_exploration());
  w.tick(*l);
  w.link(1, 2, EdgeFeature::kThroughputMbps, 0.0f);  // traffic moved off the link
  EXPECT_TRUE(w.tick(*l).empty());
  EXPECT_EQ(l->decisions().back().outcome, Outcome::kRecovered);
  const auto c = w.knowledge.counts(Diagnosis::kDegradingLink, ActionKind::kRaiseLinkCost);
  EXPECT_EQ(c.trials, 1u);
  EXPECT_EQ(c.successes, 1u);
  const Incident* inc = w.knowledge.find(l->decisions().back().incident);
  ASSERT_NE(inc, nullptr);
  EXPECT_EQ(inc->outcome, Outcome::kRecovered);
  EXPECT_DOUBLE_EQ(inc->time_to_recover_s, 5.0);
  EXPECT_EQ(l->stats().actions[static_cast<int>(ActionKind::kRaiseLinkCost)][static_cast<int>(Outcome::kRecovered)],
            1u);
}

TEST(Verify, RollsBackWhenDeliveryDidNotRecover) {
  World w;
  w.flagged_links = {{1, 2}};
  w.link(1, 2, EdgeFeature::kLossIn, 0.3f);
  auto l = w.loop(no_exploration());
  w.tick(*l);
  const auto cmds = w.tick(*l);  // same harm: rolled back, and the next best action tried
  ASSERT_EQ(cmds.size(), 2u);
  const auto* undo = std::get_if<mesh::command::RaiseLinkCost>(&cmds[0]);
  ASSERT_NE(undo, nullptr);
  EXPECT_DOUBLE_EQ(undo->factor, 1.0);
  const auto* drain = std::get_if<mesh::command::DrainLink>(&cmds[1]);
  ASSERT_NE(drain, nullptr);
  EXPECT_TRUE(drain->drained);
  EXPECT_EQ(l->stats().rollbacks, 1u);
  ASSERT_EQ(l->active().size(), 1u);
  EXPECT_EQ(l->active()[0].action, ActionKind::kDrainLink);
  const auto c = w.knowledge.counts(Diagnosis::kDegradingLink, ActionKind::kRaiseLinkCost);
  EXPECT_EQ(c.trials, 1u);
  EXPECT_EQ(c.successes, 0u);
}

TEST(Verify, RollsBackADrainThatCutOffTheFarEnd) {
  World w;
  w.raising_cost_failed(6);  // the planner drains instead
  w.flagged_links = {{1, 2}};
  w.link(1, 2, EdgeFeature::kLossIn, 0.3f);
  auto l = w.loop(no_exploration());
  bool bridge_cut = false;
  auto tick = [&] {
    w.now += seconds(5);
    std::vector<mesh::Command> out;
    Observation obs{w.now, &w.g, std::nullopt, [&](NodeId id) { return !(bridge_cut && id == 2); }};
    l->tick(obs, out);
    return out;
  };
  const auto first = tick();
  ASSERT_NE(only<mesh::command::DrainLink>(first), nullptr);
  w.link(1, 2, EdgeFeature::kThroughputMbps, 0.0f);  // no traffic on it any more ...
  bridge_cut = true;                                 // ... because node 2 is cut off
  const auto second = tick();
  ASSERT_FALSE(second.empty());
  const auto* undo = std::get_if<mesh::command::DrainLink>(&second[0]);
  ASSERT_NE(undo, nullptr);
  EXPECT_FALSE(undo->drained);
  const Decision* rolled = nullptr;
  for (const Decision& d : l->decisions()) {
    if (d.outcome == Outcome::kRolledBack) rolled = &d;
  }
  ASSERT_NE(rolled, nullptr);
  EXPECT_NE(rolled->reason.find("node 2 unreachable"), std::string::npos) << rolled->reason;
}

TEST(Verify, ReleasesAKeptActionOnceTheElementIsHealthy) {
  World w;
  LoopConfig c = no_exploration();
  c.hold = seconds(10);
  w.flagged_links = {{1, 2}};
  w.link(1, 2, EdgeFeature::kLossIn, 0.3f);
  auto l = w.loop(c);
  w.tick(*l);
  w.link(1, 2, EdgeFeature::kThroughputMbps, 0.0f);
  w.tick(*l);                       // verified
  w.tick(*l);                       // still lossy at hold end? not yet due
  EXPECT_TRUE(w.tick(*l).empty());  // due, but the link still loses 30 %: held
  w.flagged_links.clear();
  w.link(1, 2, EdgeFeature::kLossIn, 0.0f);
  w.tick(*l);
  const auto cmds7 = w.tick(*l);
  const auto* undo = only<mesh::command::RaiseLinkCost>(cmds7);
  ASSERT_NE(undo, nullptr);
  EXPECT_DOUBLE_EQ(undo->factor, 1.0);
  EXPECT_EQ(l->stats().releases, 1u);
}

TEST(RateLimit, PerNodeLimitHoldsBackFurtherActions) {
  World w;
  LoopConfig c = no_exploration();
  c.node_max_actions = 1;
  w.flagged_links = {{1, 2}, {1, 3}};
  w.link(1, 2, EdgeFeature::kLossIn, 0.3f);
  w.link(1, 3, EdgeFeature::kLossIn, 0.3f);
  auto l = w.loop(c);
  EXPECT_EQ(w.tick(*l).size(), 1u);
  EXPECT_EQ(l->stats().rate_limited_node, 1u);
  EXPECT_NE(l->decisions().back().reason.find("node limit"), std::string::npos);
}

TEST(RateLimit, PerMeshBudgetIsSharedByLoops) {
  World w;
  MeshBudget budget(1, seconds(60));
  w.flagged_links = {{1, 2}, {2, 5}};
  w.link(1, 2, EdgeFeature::kLossIn, 0.3f);
  auto a = w.loop(no_exploration(), &budget, 1);
  auto b = w.loop(no_exploration(), &budget, 3);
  w.flagged_links = {{1, 2}, {3, 5}};
  w.link(3, 5, EdgeFeature::kLossIn, 0.3f);
  EXPECT_EQ(w.tick(*a).size(), 1u);
  std::vector<mesh::Command> out;
  b->tick(Observation{w.now, &w.g, std::nullopt, nullptr}, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(b->stats().rate_limited_mesh, 1u);
  EXPECT_TRUE(budget.try_take(w.now + seconds(61)));  // the window slides
}

TEST(Modes, ObserveProposesAndChangesNothing) {
  World w;
  LoopConfig c = no_exploration();
  c.mode = Mode::kObserve;
  w.flagged_nodes = {2};
  w.node(2, NodeFeature::kForwardLossRatio, 1.0f);
  auto l = w.loop(c);
  EXPECT_TRUE(w.tick(*l).empty());
  EXPECT_EQ(l->decisions().back().outcome, Outcome::kProposed);
  EXPECT_EQ(l->decisions().back().action, ActionKind::kAvoidNode);
  EXPECT_TRUE(l->active().empty());
}

TEST(Modes, PausedDecidesNothingAndSwitchingUndoesActiveActions) {
  World w;
  w.flagged_nodes = {2};
  w.node(2, NodeFeature::kForwardLossRatio, 1.0f);
  auto l = w.loop(no_exploration());
  ASSERT_EQ(w.tick(*l).size(), 1u);
  std::vector<mesh::Command> out;
  l->set_mode(Mode::kPaused, w.now, out);
  const auto* undo = only<mesh::command::RaiseLinkCost>(out);
  ASSERT_NE(undo, nullptr);
  EXPECT_DOUBLE_EQ(undo->factor, 1.0);
  const auto n = l->decisions().size();
  EXPECT_TRUE(w.tick(*l).empty());
  EXPECT_EQ(l->decisions().size(), n);
}

TEST(Overrides, PinAppliesUntilExpiryThenUndoes) {
  World w;
  auto l = w.loop(no_exploration());
  w.tick(*l);
  std::vector<mesh::Command> out;
  ASSERT_TRUE(
      l->set_override(Override{Element::link(1, 4), ActionKind::kDrainLink, w.now + seconds(8)}, w.now, out).ok());
  const auto* drain = only<mesh::command::DrainLink>(out);
  ASSERT_NE(drain, nullptr);
  EXPECT_TRUE(drain->drained);
  EXPECT_TRUE(w.tick(*l).empty());  // t+5: still pinned
  const auto undo = w.tick(*l);     // t+10: expired
  const auto* u = only<mesh::command::DrainLink>(undo);
  ASSERT_NE(u, nullptr);
  EXPECT_FALSE(u->drained);
}

TEST(Overrides, ClearForbidsActionsOnTheElementAndUndoesTheLoopsOwn) {
  World w;
  w.flagged_nodes = {2};
  w.node(2, NodeFeature::kForwardLossRatio, 1.0f);
  auto l = w.loop(no_exploration());
  ASSERT_EQ(w.tick(*l).size(), 1u);
  std::vector<mesh::Command> out;
  ASSERT_TRUE(l->set_override(Override{Element::node(2), std::nullopt, w.now + seconds(60)}, w.now, out).ok());
  const auto* undo = only<mesh::command::RaiseLinkCost>(out);
  ASSERT_NE(undo, nullptr);
  EXPECT_DOUBLE_EQ(undo->factor, 1.0);
  EXPECT_TRUE(w.tick(*l).empty());  // still dropping, but the operator said no
  EXPECT_EQ(l->stats().overridden, 1u);
}

TEST(Overrides, RefusesElementsTheNodeCannotCommand) {
  World w;
  auto l = w.loop(no_exploration());
  w.tick(*l);
  std::vector<mesh::Command> out;
  EXPECT_FALSE(l->set_override(Override{Element::link(2, 5), ActionKind::kDrainLink, kTimeNever}, w.now, out).ok());
  EXPECT_FALSE(l->set_override(Override{Element::node(1), ActionKind::kDrainLink, kTimeNever}, w.now, out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(Neighbourhood, CutsTwoHopsWithTheirEntriesAndIds) {
  // A line 1-2-3-4-5: two hops from 1 are 1, 2, 3.
  std::vector<std::pair<std::int32_t, std::int32_t>> links = {{0, 1}, {1, 2}, {2, 3}, {3, 4}};
  ml::Graph g = ml::Graph::from_links(5, links);
  g.node_ids = {1, 2, 3, 4, 5};
  for (Eigen::Index e = 0; e < static_cast<Eigen::Index>(g.num_edges()); ++e)
    g.edge_features(e, 0) = static_cast<float>(e);
  const ml::Graph n = neighbourhood(g, 0, 2);
  ASSERT_TRUE(n.validate().ok());
  EXPECT_EQ(n.node_ids, (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(n.num_edges(), 4u);                             // 1-2 and 2-3, both ways
  EXPECT_EQ(n.edge_features(3, 0), g.edge_features(3, 0));  // 3->2 keeps its features
}

TEST(Elements, ParseTheirText) {
  EXPECT_EQ(parse_element("link 4-3"), Element::link(3, 4));
  EXPECT_EQ(parse_element("node 7"), Element::node(7));
  EXPECT_EQ(parse_element("7"), Element::node(7));
  EXPECT_FALSE(parse_element("link 3-3"));
  EXPECT_FALSE(parse_element("node x"));
  EXPECT_EQ(Element::link(9, 2).text(), "link 2-9");
}

}  // namespace
}  // namespace meshloop::mapek
