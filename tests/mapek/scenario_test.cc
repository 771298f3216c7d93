// One loop per simulated node on a 5x5 grid, one fault at a time on the centre (node 13, or its link 12-13), flows
// across it (row 11 -> 15, column 3 -> 23): each fault kind is diagnosed as what it is, on the right element, and
// answered with the right kind of action (or, for what routing repairs on its own, with none). Loop on vs off on the
// same scenario for the kinds routing cannot see or handles badly: delivery improves.
#include <gtest/gtest.h>

#include <cstdlib>

#include "mapek/sim_mapek.h"
#include "ml/model_file.h"
#include "sim/meshloop_agent.h"

namespace meshloop::mapek {
namespace {

std::shared_ptr<const ml::GraphModel> default_model() {
  const char* dir = std::getenv("MESHLOOP_SOURCE_DIR");
  auto m = ml::load_model(std::string(dir ? dir : MESHLOOP_TEST_SOURCE_DIR) + "/models/graphsage-default.bin");
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok()) return nullptr;
  return std::make_shared<const ml::GraphSage>(std::move(m).value());
}

struct Outcome2 {
  sim::RunStats off, on;
  std::vector<std::pair<NodeId, Decision>> decisions;
  LoopStats totals;
  std::uint64_t false_remediations = 0;
};

Outcome2 run(const std::string& fault, Mode mode = Mode::kAct) {
  sim::ScenarioParams p;
  p.nodes = 25;
  p.topology = "grid";
  p.seed = 7;
  p.duration = seconds(100);
  p.warmup = seconds(20);
  p.faults = 0;
  p.fault_list = {fault};
  p.flows = 2;
  p.hello_interval = milliseconds(200);
  auto sc = sim::build_scenario(p);
  EXPECT_TRUE(sc.ok()) << sc.status().message();
  sc->flows[0].src = 11;
  sc->flows[0].dst = 15;
  sc->flows[1].src = 3;
  sc->flows[1].dst = 23;
  mesh::NodeConfig nc;
  nc.hello_interval = p.hello_interval;
  nc.dead_multiplier = p.dead_multiplier;
  const sim::Protocol proto = sim::meshloop_protocol(nc);
  Outcome2 out;
  sim::RunOptions measured;  // the same measurements as the run with the loop (see sim_command.cc)
  measured.on_telemetry = [](const sim::TelemetryWindow&) {};
  out.off = sim::run_protocol(*sc, proto, measured);
  Knowledge knowledge;
  SimMapekOptions mo;
  mo.mode = mode;
  mo.model = default_model();
  mo.loop.exploration = 0;  // the scenario checks the planner's first choice
  SimMapek loops(*sc, mo, knowledge);
  sim::RunOptions opts;
  loops.attach(opts);
  out.on = sim::run_protocol(*sc, proto, opts);
  out.decisions = loops.decisions();
  out.totals = loops.totals();
  out.false_remediations = loops.false_remediations();
  return out;
}

// Whether some loop diagnosed `d` on `e` and (unless kNone) applied `a` to it.
bool acted(const Outcome2& o, Diagnosis d, const Element& e, ActionKind a) {
  for (const auto& [node, dec] : o.decisions) {
    if (dec.diagnosis == d && dec.element == e && dec.action == a) return true;
  }
  return false;
}
std::string dump(const Outcome2& o) {
  std::string s;
  for (const auto& [node, d] : o.decisions) s += "  node " + std::to_string(node) + ": " + d.reason + "\n";
  return s;
}
std::uint64_t applied(const Outcome2& o) {
  std::uint64_t n = 0;
  for (std::size_t k = 1; k < kActionKindCount; ++k) {
    for (std::size_t s = 1; s < kOutcomeCount; ++s) n += o.totals.actions[k][s];
  }
  return n;
}

TEST(Scenario, GrayHoleIsAvoidedByItsNeighboursAndDeliveryImproves) {
  const Outcome2 o = run("gray_hole 13 40s 40s");
  EXPECT_TRUE(acted(o, Diagnosis::kDroppingNode, Element::node(13), ActionKind::kAvoidNode)) << dump(o);
  EXPECT_GT(o.on.score.pdr, o.off.score.pdr + 0.05) << dump(o);
  EXPECT_EQ(o.false_remediations, 0u) << dump(o);
}

TEST(Scenario, DegradingLinkIsRoutedAroundAndDeliveryImproves) {
  const Outcome2 o = run("degradation 12-13 40s 40s");
  const bool raise = acted(o, Diagnosis::kDegradingLink, Element::link(12, 13), ActionKind::kRaiseLinkCost);
  const bool drain = acted(o, Diagnosis::kDegradingLink, Element::link(12, 13), ActionKind::kDrainLink);
  EXPECT_TRUE(raise || drain) << dump(o);
  EXPECT_GT(o.on.score.pdr, o.off.score.pdr) << dump(o);
}

// At 50% loss the link's hellos go missing three in a row now and then, so routing sees it flap and its flap
// damping may already hold it out; then no traffic is harmed and the loop rightly leaves it alone.
TEST(Scenario, LossBurstIsRoutedAround) {
  const Outcome2 o = run("loss_burst 12-13 40s 30s");
  const bool raise = acted(o, Diagnosis::kDegradingLink, Element::link(12, 13), ActionKind::kRaiseLinkCost);
  const bool drain = acted(o, Diagnosis::kDegradingLink, Element::link(12, 13), ActionKind::kDrainLink);
  bool harmless = false;
  for (const auto& [node, d] : o.decisions) {
    harmless = harmless || (d.diagnosis == Diagnosis::kDegradingLink && d.action == ActionKind::kNone &&
                            d.reason.find("nothing to gain") != std::string::npos);
  }
  EXPECT_TRUE(raise || drain || harmless) << dump(o);
  EXPECT_GE(o.on.score.pdr, o.off.score.pdr) << dump(o);
}

// A flapping link is drained while traffic still crosses it. When routing itself holds the link out of its
// advertisements (main's flap hold-down), no traffic is harmed and the loop correctly leaves it alone.
TEST(Scenario, FlappingLinkIsDrainedUnlessRoutingAlreadyHoldsItOut) {
  const Outcome2 o = run("flapping 12-13 40s 40s");
  const bool drained = acted(o, Diagnosis::kFlappingLink, Element::link(12, 13), ActionKind::kDrainLink);
  bool harmless = false;
  for (const auto& [node, d] : o.decisions) {
    harmless = harmless || (d.diagnosis == Diagnosis::kFlappingLink && d.action == ActionKind::kNone &&
                            d.reason.find("nothing to gain") != std::string::npos);
  }
  EXPECT_TRUE(drained || harmless) << dump(o);
  EXPECT_GE(o.on.score.pdr, o.off.score.pdr) << dump(o);
  if (drained) {
    EXPECT_GT(o.on.score.pdr, o.off.score.pdr) << dump(o);
  }
}

TEST(Scenario, OverloadedNodeShedsItsTransit) {
  const Outcome2 o = run("overload 13 40s 40s");
  EXPECT_TRUE(acted(o, Diagnosis::kOverloadedNode, Element::node(13), ActionKind::kAvoidTransit)) << dump(o);
  EXPECT_GT(o.on.score.pdr, o.off.score.pdr) << dump(o);
}

TEST(Scenario, LinkCutIsLeftToRouting) {
  const Outcome2 o = run("link_cut 12-13 40s 20s");
  EXPECT_EQ(applied(o), 0u) << dump(o);
  EXPECT_DOUBLE_EQ(o.on.score.pdr, o.off.score.pdr);
}

TEST(Scenario, NodeCrashIsLeftToRouting) {
  const Outcome2 o = run("node_crash 13 40s 20s");
  EXPECT_EQ(applied(o), 0u) << dump(o);
  EXPECT_DOUBLE_EQ(o.on.score.pdr, o.off.score.pdr);
}

TEST(Scenario, ObserveModeProposesButChangesNoRoute) {
  const Outcome2 o = run("gray_hole 13 40s 40s", Mode::kObserve);
  EXPECT_TRUE(acted(o, Diagnosis::kDroppingNode, Element::node(13), ActionKind::kAvoidNode)) << dump(o);
  EXPECT_EQ(applied(o), 0u);
  EXPECT_EQ(o.on.score.pdr, o.off.score.pdr);
  EXPECT_EQ(o.on.score.delivered, o.off.score.delivered);
  EXPECT_EQ(o.on.control_bytes, o.off.control_bytes);  // not one advertisement more
}

}  // namespace
}  // namespace meshloop::mapek
