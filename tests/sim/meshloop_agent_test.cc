// The simulator driving the real mesh::Node: a small grid with a link cut and a node crash on a flow's path.
#include "sim/meshloop_agent.h"

#include <gtest/gtest.h>

#include "sim/world.h"

namespace meshloop::sim {
namespace {

Protocol meshloop(const ScenarioParams& p) {
  mesh::NodeConfig c;
  c.hello_interval = p.hello_interval;
  c.dead_multiplier = p.dead_multiplier;
  return meshloop_protocol(c);
}

TEST(MeshloopInSim, RecoversFromALinkCutAndANodeCrashOnAGrid) {
  ScenarioParams p;
  p.nodes = 16;
  p.topology = "grid";
  p.duration = seconds(60);
  p.warmup = seconds(10);
  p.faults = 0;
  p.flows = 1;
  auto built = build_scenario(p);
  ASSERT_TRUE(built.ok()) << built.status().message();
  Scenario sc = std::move(built).value();
  // Flow 1 -> 4 along the top row: its only shortest path is 1-2-3-4 (any detour is 5 hops). Cut 2-3 (the
  // detour goes down through 6-7), heal it, then crash node 2 (on the shortest path again by then).
  sc.flows[0].src = 1;
  sc.flows[0].dst = 4;
  const Protocol proto = meshloop(p);
  Fault cut;
  cut.kind = FaultKind::kLinkCut;
  cut.start = at(seconds(20));
  cut.end = at(seconds(35));
  cut.edge = static_cast<std::uint32_t>(sc.topo.find_edge(2, 3));
  Fault crash;
  crash.kind = FaultKind::kNodeCrash;
  crash.start = at(seconds(40));
  crash.end = at(seconds(50));
  crash.node = 2;
  sc.faults = {cut, crash};
  const RunStats r = run_protocol(sc, proto);
  ASSERT_TRUE(r.convergence_s.has_value());
  EXPECT_LT(*r.convergence_s, 5.0);
  EXPECT_GT(r.score.pdr, 0.97);
  EXPECT_EQ(r.score.unrecovered_faults, 0u);
  EXPECT_EQ(r.score.unrecovered_by_routing, 0u);
  ASSERT_EQ(r.truths.size(), 2u);
  EXPECT_EQ(r.truths[0].covered_flows, std::vector<std::uint32_t>{0});
  EXPECT_EQ(r.truths[1].covered_flows, std::vector<std::uint32_t>{0});
  for (const FaultOutcome& o : r.score.outcomes) {
    // Either routing repaired it within a second, or the repair was so quick no window fell below 90%.
    EXPECT_TRUE(o.status == FaultStatus::kRecovered || o.status == FaultStatus::kNotBroken);
    if (o.mttr_s) {
      EXPECT_LT(*o.mttr_s, 1.0);
    }
  }
  EXPECT_GT(r.control_bytes_per_node_s, 0.0);
}

}  // namespace
}  // namespace meshloop::sim
