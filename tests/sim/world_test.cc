#include "sim/world.h"

#include <gtest/gtest.h>

#include "sim/fake_agent.h"
#include "sim/report.h"

namespace meshloop::sim {
namespace {

using testing::static_protocol;

// A 4x4 grid, one flow 1 -> 4 (static path 1-2-3-4), and the given explicit faults.
Scenario grid_scenario(std::vector<std::string> faults, Duration duration = seconds(60)) {
  ScenarioParams p;
  p.nodes = 16;
  p.topology = "grid";
  p.duration = duration;
  p.warmup = seconds(5);
  p.faults = 0;
  p.fault_list = std::move(faults);
  p.flows = 1;
  p.rate = 10;
  auto sc = build_scenario(p);
  EXPECT_TRUE(sc.ok()) << sc.status().message();
  Scenario s = std::move(sc).value();
  s.flows[0].src = 1;
  s.flows[0].dst = 4;
  return s;
}

TEST(World, DeliversEverythingWithoutFaults) {
  const Scenario sc = grid_scenario({});
  const RunStats r = run_protocol(sc, static_protocol(sc.topo, false));
  EXPECT_DOUBLE_EQ(r.score.pdr, 1.0);
  EXPECT_EQ(r.score.sent, 540u);  // 10/s from 5 s to 59 s
  EXPECT_EQ(r.score.tail_excluded, 10u);
  EXPECT_EQ(r.data_transmissions, 550u * 3);  // three hops each
  // Latency: three hops of 2 ms plus serialisation of (12 + 64) bytes at 10 Mbit/s per hop.
  EXPECT_NEAR(r.score.latency_ms.p50, 3 * (2.0 + 76 * 8 / 10e3), 0.01);
  // Beacons: 10 + 28 bytes per port per second; 48 directed ports in a 4x4 grid, 60 beacons (t = 0..59).
  EXPECT_EQ(r.control_packets, 48u * 60);
  EXPECT_NEAR(r.control_bytes_per_node_s, 48.0 * 60 * 38 / 16 / 60, 1e-9);
  ASSERT_TRUE(r.convergence_s.has_value());
  EXPECT_NEAR(*r.convergence_s, 1.0, 0.101);
}

TEST(World, ALinkCutOnTheStaticPathIsUnrecoveredByRouting) {
  const Scenario sc = grid_scenario({"link_cut 2-3 20s 10s"});
  const RunStats r = run_protocol(sc, static_protocol(sc.topo, false));
  ASSERT_EQ(r.truths.size(), 1u);
  EXPECT_EQ(r.truths[0].covered_flows, std::vector<std::uint32_t>{0});
  EXPECT_EQ(r.score.outcomes[0].status, FaultStatus::kUnrecoveredByRouting);
  EXPECT_EQ(r.score.unrecovered_by_routing, 1u);
  EXPECT_EQ(r.score.sent - r.score.delivered, 100u);  // 10 s at 10/s
  EXPECT_GT(r.lost_link_down, 0u);
}

TEST(World, FloodingRidesThroughTheSameCut) {
  const Scenario sc = grid_scenario({"link_cut 2-3 20s 10s"});
  const RunStats r = run_protocol(sc, static_protocol(sc.topo, true));
  EXPECT_EQ(r.truths[0].covered_flows, std::vector<std::uint32_t>{0});  // next_hop still says 2-3
  EXPECT_EQ(r.score.outcomes[0].status, FaultStatus::kNotBroken);
  EXPECT_DOUBLE_EQ(r.score.pdr, 1.0);
}

TEST(World, ACrashedTransitNodeBreaksTheFlowAndRestartsWithItsPorts) {
  const Scenario sc = grid_scenario({"node_crash 3 20s 5s"});
  const RunStats r = run_protocol(sc, static_protocol(sc.topo, false));
  EXPECT_EQ(r.truths[0].covered_flows, std::vector<std::uint32_t>{0});
  EXPECT_EQ(r.score.outcomes[0].status, FaultStatus::kUnrecoveredByRouting);
  EXPECT_EQ(r.score.sent - r.score.delivered, 50u);  // after the restart the fresh agent forwards again
}

TEST(World, ACrashedEndpointExcludesTheFlow) {
  const Scenario sc = grid_scenario({"node_crash 4 20s 5s"});
  const RunStats r = run_protocol(sc, static_protocol(sc.topo, false));
  EXPECT_TRUE(r.truths[0].covered_flows.empty());
  EXPECT_EQ(r.truths[0].excluded_flows, std::vector<std::uint32_t>{0});
  EXPECT_DOUBLE_EQ(r.score.pdr, 1.0);
  EXPECT_EQ(r.score.disconnected_sent, 50u);
}

TEST(World, APartitionBetweenTheEndpointsIsReportedApart) {
  // The side grown from node 1 with 4 nodes: 1, 2, 5, 3 (breadth first, ids ascending): 4 is outside.
  const Scenario sc = grid_scenario({"partition 1:4 20s 5s"});
  const RunStats r = run_protocol(sc, static_protocol(sc.topo, true));
  EXPECT_EQ(r.truths[0].excluded_flows, std::vector<std::uint32_t>{0});
  EXPECT_EQ(r.score.disconnected_sent, 50u);
  EXPECT_DOUBLE_EQ(r.score.pdr, 1.0);
}

TEST(World, FlappingTogglesTheLinkEveryHalfPeriod) {
  const Scenario sc = grid_scenario({"flapping 2-3 20s 8s"});  // down 20-22, up 22-24, down 24-26, up 26-28
  const RunStats r = run_protocol(sc, static_protocol(sc.topo, false));
  EXPECT_EQ(r.score.sent - r.score.delivered, 40u);
}

TEST(World, DegradationRampsItsLoss) {
  const Scenario sc = grid_scenario({"degradation 2-3 10s 40s"});
  const RunStats r = run_protocol(sc, static_protocol(sc.topo, false));
  const auto lost = r.score.sent - r.score.delivered;
  // Mean loss over the ramp is 0.4 of 400 packets.
  EXPECT_GT(lost, 120u);
  EXPECT_LT(lost, 200u);
}

// Gray hole on transit node 2 of the path 1-2-3-4: every forwarded data packet is lost for the fault's 10 s, while
// its beacons (control) flow as in a run without the fault, so routing has nothing to see.
TEST(World, AGrayHoleDropsForwardedDataButNotItsControl) {
  const RunStats clean = run_protocol(grid_scenario({}), static_protocol(make_grid(16), false));
  const Scenario sc = grid_scenario({"gray_hole 2 20s 10s"});
  const RunStats r = run_protocol(sc, static_protocol(sc.topo, false));
  EXPECT_EQ(r.lost_gray_hole, 100u);
  EXPECT_EQ(r.score.sent - r.score.delivered, 100u);
  EXPECT_EQ(r.control_packets, clean.control_packets);
  EXPECT_EQ(r.lost_on_link + r.lost_link_down, 0u);
  ASSERT_EQ(r.truths.size(), 1u);
  EXPECT_EQ(r.truths[0].covered_flows, std::vector<std::uint32_t>{0});
  EXPECT_EQ(r.score.outcomes[0].status, FaultStatus::kUnrecoveredByRouting);  // routing cannot see it
}

TEST(World, AGrayHoleForwardsItsOwnData) {
  const Scenario sc = grid_scenario({"gray_hole 1 20s 10s"});  // the flow's source
  const RunStats r = run_protocol(sc, static_protocol(sc.topo, false));
  EXPECT_EQ(r.lost_gray_hole, 0u);
  EXPECT_DOUBLE_EQ(r.score.pdr, 1.0);
  EXPECT_TRUE(r.truths[0].covered_flows.empty());
}

TEST(World, AnOverloadedNodeDropsSomeDataAtItsQueuesAndKeepsItsControl) {
  Scenario sc = grid_scenario({"overload 2 10s 40s"});  // 400 packets through it
  const RunStats r = run_protocol(sc, static_protocol(sc.topo, false));
  EXPECT_EQ(r.score.sent - r.score.delivered, r.lost_overload);
  EXPECT_GT(r.lost_overload, 90u);  // 30% of 400: 120 expected
  EXPECT_LT(r.lost_overload, 150u);
  const RunStats clean = run_protocol(grid_scenario({}), static_protocol(make_grid(16), false));
  EXPECT_EQ(r.control_packets, clean.control_packets);
  // Its own data is dropped too: the overloaded source covers its flow.
  const Scenario src = grid_scenario({"overload 1 10s 40s"});
  const RunStats rs = run_protocol(src, static_protocol(src.topo, false));
  EXPECT_EQ(rs.truths[0].covered_flows, std::vector<std::uint32_t>{0});
  EXPECT_GT(rs.lost_overload, 90u);
}

TEST(World, ARegimeChangeRaisesLossEverywhereAndIsAShiftNotAFault) {
  Scenario sc = grid_scenario({"regime_change mesh 20s 30s"});
  sc.params.fault.regime_loss = 0.2;
  const RunStats r = run_protocol(sc, static_protocol(sc.topo, false));
  // Three hops at 20% each for 300 packets: 1 - 0.8^3 = 48.8% lost, about 146.
  const auto lost = r.score.sent - r.score.delivered;
  EXPECT_GT(lost, 110u);
  EXPECT_LT(lost, 185u);
  EXPECT_GT(r.lost_on_link, lost);  // beacons on every link are lost too
  EXPECT_EQ(r.score.faults, 0u);
  EXPECT_EQ(r.score.shifts, 1u);
  EXPECT_TRUE(r.score.mttr_by_kind.empty());
  EXPECT_TRUE(r.truths[0].covered_flows.empty());
  const auto report = report_json(sc, {r});
  EXPECT_EQ(report["scenario"]["regime_loss"], 0.2);
  EXPECT_EQ(report["protocols"]["static"]["faults_total"], 0);
}

TEST(World, ScenariosWithoutTheNewKindsReportNoneOfTheirKeys) {
  const Scenario sc = grid_scenario({"link_cut 2-3 20s 10s"});
  const auto report = report_json(sc, {run_protocol(sc, static_protocol(sc.topo, false))});
  EXPECT_FALSE(report["scenario"].contains("gray_hole_drop"));
  EXPECT_FALSE(report["scenario"].contains("regime_loss"));
  EXPECT_FALSE(report["protocols"]["static"]["losses"].contains("gray_hole"));
}

nlohmann::json without_wall_clock(nlohmann::json j) {
  j.erase("sim");
  return j;
}

TEST(World, ARandomScenarioIsDeterministic) {
  ScenarioParams p;
  p.nodes = 60;
  p.topology = "rgg";
  p.degree = 6;
  p.duration = seconds(90);
  p.warmup = seconds(10);
  p.faults = 12;
  p.fault_max = seconds(20);
  p.flows = 8;
  p.link.loss = 0.01;
  p.link.jitter = milliseconds(1);
  p.link.bursts.p_good_to_bad = 0.01;
  p.seed = 77;
  auto sc = build_scenario(p);
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  auto run_all = [&] {
    std::vector<RunStats> runs;
    runs.push_back(run_protocol(*sc, static_protocol(sc->topo, false)));
    runs.push_back(run_protocol(*sc, static_protocol(sc->topo, true)));
    return without_wall_clock(report_json(*sc, runs)).dump();
  };
  const std::string a = run_all();
  const std::string b = run_all();
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("\"static\""), std::string::npos);
  EXPECT_NE(a.find("\"mttr_by_kind\""), std::string::npos);
  // And a different seed gives a different run.
  p.seed = 78;
  auto other = build_scenario(p);
  ASSERT_TRUE(other.ok());
  std::vector<RunStats> runs{run_protocol(*other, static_protocol(other->topo, false))};
  EXPECT_NE(without_wall_clock(report_json(*other, runs)).dump(), a);
}

TEST(World, FloodingHealsBetterThanStaticRoutesUnderRandomFaults) {
  ScenarioParams p;
  p.nodes = 40;
  p.degree = 6;
  p.duration = seconds(120);
  p.warmup = seconds(10);
  p.faults = 20;
  p.fault_kinds = {FaultKind::kLinkCut, FaultKind::kNodeCrash};
  p.flows = 10;
  auto sc = build_scenario(p);
  ASSERT_TRUE(sc.ok());
  const RunStats st = run_protocol(*sc, static_protocol(sc->topo, false));
  const RunStats fl = run_protocol(*sc, static_protocol(sc->topo, true));
  EXPECT_GT(fl.score.pdr, st.score.pdr);
  EXPECT_EQ(fl.score.unrecovered_by_routing + fl.score.unrecovered_faults, 0u);
  // Same scenario, same ground truth: the covered flows come from the same (static) next hops.
  for (std::size_t i = 0; i < st.truths.size(); ++i) EXPECT_EQ(st.truths[i].covered_flows, fl.truths[i].covered_flows);
}

TEST(ScenarioConfig, ErrorsNameTheKey) {
  Config c;
  c.set("sim.nodes", "many", "flag --nodes");
  auto p = params_from_config(c);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("--nodes"), std::string::npos) << p.status().message();
  Config k;
  k.set("sim.fault_kinds", "link_cut,meteor", "test");
  EXPECT_NE(params_from_config(k).status().message().find("meteor"), std::string::npos);
}

TEST(ScenarioConfig, ReadsEveryLayeredKey) {
  Config c;
  c.set("sim.nodes", "30", "t");
  c.set("sim.topology", "ba", "t");
  c.set("sim.duration", "2m", "t");
  c.set("sim.fault_kinds", "link_cut,partition", "t");
  c.set("sim.hello_interval", "150ms", "t");
  c.set("sim.loss", "0.02", "t");
  auto p = params_from_config(c);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->nodes, 30u);
  EXPECT_EQ(p->topology, "ba");
  EXPECT_EQ(p->duration, seconds(120));
  EXPECT_EQ(p->fault_kinds.size(), 2u);
  EXPECT_EQ(p->hello_interval, milliseconds(150));
  EXPECT_DOUBLE_EQ(p->link.loss, 0.02);
}

}  // namespace
}  // namespace meshloop::sim
