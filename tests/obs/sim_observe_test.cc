// The simulator's observation hooks (RunOptions::observe / on_event), as `meshloop sim --serve` uses them: they see
// the world every virtual period and every agent event, and a run that is observed gives the same results.
#include <gtest/gtest.h>

#include "sim/meshloop_agent.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/world.h"

namespace meshloop::sim {
namespace {

Scenario small_scenario() {
  ScenarioParams p;
  p.nodes = 12;
  p.topology = "grid";
  p.duration = seconds(12);
  p.warmup = seconds(3);
  p.faults = 0;
  p.fault_list = {"node_crash 6 5s 3s"};
  p.flows = 6;
  return build_scenario(p).value();
}

TEST(SimObserve, AnObservedRunSeesEveryPeriodAndEventAndScoresTheSame) {
  const Scenario sc = small_scenario();
  mesh::NodeConfig config;
  config.hello_interval = sc.params.hello_interval;
  config.dead_multiplier = sc.params.dead_multiplier;
  const Protocol proto = meshloop_protocol(config);
  const RunStats plain = run_protocol(sc, proto);

  RunOptions opts;
  std::vector<double> seen;
  std::size_t crashed_seen = 0, failovers = 0;
  opts.observe_every = seconds(1);
  opts.observe = [&](const WorldView& v) {
    seen.push_back(to_seconds(v.now));
    if (v.agents[5] == nullptr) ++crashed_seen;
    return true;
  };
  opts.on_event = [&](NodeId, const mesh::Event& e) { failovers += e.kind == mesh::EventKind::kFailover ? 1 : 0; };
  const RunStats observed = run_protocol(sc, proto, opts);

  EXPECT_EQ(seen.size(), 12u);  // 0 s, 1 s, ..., 11 s
  EXPECT_EQ(seen.front(), 0.0);
  EXPECT_EQ(crashed_seen, 3u);  // 5, 6, 7 s: node 6 is down from 5 s to 8 s
  EXPECT_EQ(failovers, observed.agent_events.count("failover") ? observed.agent_events.at("failover") : 0u);
  auto strip = [](nlohmann::json j) {
    j.erase("sim");  // wall-clock section
    for (auto& r : j["runs"]) r.erase("wall_s");
    return j;
  };
  EXPECT_EQ(strip(report_json(sc, {plain})).dump(), strip(report_json(sc, {observed})).dump());
  EXPECT_EQ(plain.events, observed.events);
}

// POST /api/v1/faults in `meshloop sim --serve` goes through RunOptions::inject: a fault injected at 6 s joins the
// schedule after the scheduled one, starts then (its start moved to now, its duration kept), and has ground truth
// and a score like the scheduled one; the node is down in the world from then on.
TEST(SimObserve, AnInjectedFaultStartsNowWithGroundTruthLikeAScheduledOne) {
  const Scenario sc = small_scenario();
  mesh::NodeConfig config;
  config.hello_interval = sc.params.hello_interval;
  config.dead_multiplier = sc.params.dead_multiplier;
  RunOptions opts;
  bool injected = false;
  std::size_t faults_seen = 0, node9_down = 0;
  opts.observe = [&](const WorldView& v) {
    faults_seen = v.faults.size();
    if (v.agents[8] == nullptr) ++node9_down;
    return true;
  };
  opts.inject = [&](TimePoint now) {
    std::vector<Fault> out;
    if (!injected && now >= at(seconds(6))) {
      injected = true;
      out.push_back(parse_fault("node_crash 9 0s 3s", sc.topo).value());
    }
    return out;
  };
  const RunStats stats = run_protocol(sc, meshloop_protocol(config), opts);
  ASSERT_EQ(faults_seen, 2u);
  ASSERT_EQ(stats.truths.size(), 2u);
  EXPECT_EQ(stats.truths[1].kind, FaultKind::kNodeCrash);
  EXPECT_EQ(stats.truths[1].start, at(seconds(6)));
  EXPECT_EQ(stats.truths[1].end, at(seconds(9)));
  EXPECT_EQ(node9_down, 2u);  // observed down at 7 and 8 s (the 6 s observation came just before the injection)
  EXPECT_EQ(stats.score.outcomes.size(), 2u);
}

TEST(SimObserve, ReturningFalseEndsTheRun) {
  const Scenario sc = small_scenario();
  mesh::NodeConfig config;
  RunOptions opts;
  int calls = 0;
  opts.observe = [&](const WorldView& v) {
    ++calls;
    return v.now < at(seconds(4));
  };
  run_protocol(sc, meshloop_protocol(config), opts);
  EXPECT_EQ(calls, 5);  // 0..4 s; the run stops at the fifth
}

}  // namespace
}  // namespace meshloop::sim
