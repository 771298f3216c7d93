#include "sim/telemetry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "sim/fake_agent.h"
#include "sim/report.h"
#include "sim/world.h"

namespace meshloop::sim {
namespace {

using ml::EdgeFeature;
using ml::NodeFeature;
using testing::static_protocol;

float node_f(const TelemetryWindow& w, NodeId u, NodeFeature f) {
  return w.data.graph.node_features(u - 1, static_cast<Eigen::Index>(ml::index(f)));
}
// The CSR entry u -> v.
std::size_t entry(const ml::Graph& g, NodeId u, NodeId v) {
  for (std::int32_t e = g.offsets[u - 1]; e < g.offsets[u]; ++e) {
    if (g.targets[static_cast<std::size_t>(e)] == static_cast<std::int32_t>(v - 1)) return static_cast<std::size_t>(e);
  }
  ADD_FAILURE() << "no entry " << u << "->" << v;
  return 0;
}
float edge_f(const TelemetryWindow& w, NodeId u, NodeId v, EdgeFeature f) {
  return w.data.graph.edge_features(static_cast<Eigen::Index>(entry(w.data.graph, u, v)),
                                    static_cast<Eigen::Index>(ml::index(f)));
}

// A 4x4 grid, flow 1 -> 4 along 1-2-3-4, windows of 5 s recorded.
std::vector<TelemetryWindow> record(std::vector<std::string> faults, double regime_loss = 0.05,
                                    RunStats* stats = nullptr) {
  ScenarioParams p;
  p.nodes = 16;
  p.topology = "grid";
  p.duration = seconds(60);
  p.warmup = seconds(5);
  p.faults = 0;
  p.fault_list = std::move(faults);
  p.flows = 1;
  p.fault.regime_loss = regime_loss;
  auto sc = build_scenario(p);
  EXPECT_TRUE(sc.ok()) << sc.status().message();
  sc->flows[0].src = 1;
  sc->flows[0].dst = 4;
  std::vector<TelemetryWindow> out;
  RunOptions opts;
  opts.on_telemetry = [&out](const TelemetryWindow& w) { out.push_back(w); };
  RunStats r = run_protocol(*sc, static_protocol(sc->topo, false), opts);
  if (stats != nullptr) *stats = std::move(r);
  return out;
}

TEST(Radio, SnrFallsWithLossAndIsCappedByTheLinksBase) {
  const TelemetryParams p;
  EXPECT_DOUBLE_EQ(radio_snr_db(25, 0.0, p), 25);
  EXPECT_NEAR(radio_snr_db(25, 0.5, p), p.snr50_db, 1e-9);
  EXPECT_GT(radio_snr_db(25, 0.05, p), radio_snr_db(25, 0.2, p));
  EXPECT_GT(radio_snr_db(25, 0.2, p), radio_snr_db(25, 0.8, p));
}

TEST(Labels, AWindowIsPositiveWhenAFaultCoversHalfOfIt) {
  const Topology topo = make_grid(16);
  const Adjacency adj(topo);
  std::vector<std::int32_t> dir_entry(2 * topo.edges.size());
  for (NodeId u = 1; u <= 16; ++u) {
    for (PortId p = 0; p < adj.degree(u); ++p) {
      const auto& port = adj.port(u, p);
      dir_entry[2 * port.edge + (u < port.peer ? 0 : 1)] = static_cast<std::int32_t>(adj.offsets[u - 1] + p);
    }
  }
  std::vector<Fault> faults = {*parse_fault("link_cut 2-3 12500ms 10s", topo), *parse_fault("gray_hole 7 11s 1s", topo),
                               *parse_fault("regime_change mesh 0s 60s", topo), *parse_fault("overload 9 9s 10s", topo)};
  ml::LabelledWindow w;
  w.node_labels.assign(16, 0);
  w.edge_labels.assign(adj.ports.size(), 0);
  label_window(faults, at(seconds(10)), at(seconds(15)), dir_entry, w);
  const auto e23 = static_cast<std::size_t>(topo.find_edge(2, 3));
  EXPECT_EQ(w.edge_labels[static_cast<std::size_t>(dir_entry[2 * e23])], 1.0f);  // 2.5 s of 5: exactly half
  EXPECT_EQ(w.edge_labels[static_cast<std::size_t>(dir_entry[2 * e23 + 1])], 1.0f);
  EXPECT_EQ(w.node_labels[6], 0.0f);  // 1 s of 5
  EXPECT_EQ(w.node_labels[8], 1.0f);
  float positives = 0;
  for (float x : w.node_labels) positives += x;
  for (float x : w.edge_labels) positives += x;
  EXPECT_EQ(positives, 3.0f);  // the regime change labels nothing
}

TEST(Telemetry, AGrayHoleShowsInForwardLossOnlyAndIsLabelled) {
  const auto windows = record({"gray_hole 2 20s 10s"});
  ASSERT_EQ(windows.size(), 12u);  // [0,5) .. [55,60)
  const TelemetryWindow& before = windows[3];  // [15, 20)
  const TelemetryWindow& during = windows[4];  // [20, 25)
  EXPECT_EQ(during.start, at(seconds(20)));
  EXPECT_FLOAT_EQ(node_f(before, 2, NodeFeature::kForwardLossRatio), 0.0f);
  EXPECT_FLOAT_EQ(node_f(during, 2, NodeFeature::kForwardLossRatio), 1.0f);
  EXPECT_TRUE(std::isnan(node_f(during, 9, NodeFeature::kForwardLossRatio)));  // forwards nothing
  EXPECT_EQ(during.data.node_labels[1], 1.0f);
  EXPECT_EQ(before.data.node_labels[1], 0.0f);
  // Its hellos still flow: the links around it look healthy.
  EXPECT_FLOAT_EQ(edge_f(during, 1, 2, EdgeFeature::kLossIn), 0.0f);
  EXPECT_FLOAT_EQ(edge_f(during, 1, 2, EdgeFeature::kUp), 1.0f);
  EXPECT_FLOAT_EQ(node_f(during, 2, NodeFeature::kUpNeighbourRatio), 1.0f);
  // Throughput 1 -> 2 is the flow's 10 x (12 + 64) bytes/s; 2 -> 3 carries nothing while it drops.
  EXPECT_NEAR(edge_f(before, 1, 2, EdgeFeature::kThroughputMbps), 10 * 76 * 8 / 1e6, 1e-4);
  EXPECT_FLOAT_EQ(edge_f(during, 2, 3, EdgeFeature::kThroughputMbps), 0.0f);
}

TEST(Telemetry, ACutLinkIsDownLossyAndSilentOnTheRadio) {
  const auto windows = record({"link_cut 2-3 20s 10s"});
  const TelemetryWindow& during = windows[4];
  EXPECT_FLOAT_EQ(edge_f(during, 2, 3, EdgeFeature::kUp), 0.0f);
  EXPECT_FLOAT_EQ(edge_f(during, 2, 3, EdgeFeature::kLossIn), 1.0f);
  EXPECT_FLOAT_EQ(edge_f(during, 3, 2, EdgeFeature::kLossOut), 1.0f);
  EXPECT_LT(edge_f(during, 2, 3, EdgeFeature::kSnrDb), 0.0f);
  EXPECT_GT(edge_f(windows[3], 2, 3, EdgeFeature::kSnrDb), 12.0f);
  EXPECT_LE(edge_f(during, 2, 3, EdgeFeature::kLinkAgeS), 5.0f);
  EXPECT_EQ(during.data.edge_labels[entry(during.data.graph, 2, 3)], 1.0f);
  EXPECT_EQ(during.data.edge_labels[entry(during.data.graph, 3, 2)], 1.0f);
  EXPECT_FLOAT_EQ(node_f(during, 2, NodeFeature::kUpNeighbourRatio), 2.0f / 3.0f);
}

TEST(Telemetry, AnOverloadedNodeRunsHotAndDropsAtItsQueues) {
  const auto windows = record({"overload 2 20s 10s"});
  const TelemetryWindow& during = windows[4];
  EXPECT_GT(node_f(during, 2, NodeFeature::kCpu), 0.9f);
  EXPECT_LT(node_f(windows[3], 2, NodeFeature::kCpu), 0.6f);
  EXPECT_GT(node_f(during, 2, NodeFeature::kMemory), node_f(windows[3], 2, NodeFeature::kMemory) + 0.2f);
  EXPECT_GT(node_f(during, 2, NodeFeature::kQueueDropRatio), 0.02f);
  EXPECT_FLOAT_EQ(node_f(windows[3], 2, NodeFeature::kQueueDropRatio), 0.0f);
  EXPECT_EQ(during.data.node_labels[1], 1.0f);
}

TEST(Telemetry, ARegimeChangeRaisesLossEverywhereWithoutALabel) {
  const auto windows = record({"regime_change mesh 20s 30s"}, 0.3);
  double before = 0, during = 0;
  int n = 0;
  for (NodeId u = 1; u <= 16; ++u) {
    for (NodeId v : {u + 1, u + 4}) {
      if (v > 16 || (v == u + 1 && u % 4 == 0)) continue;
      before += edge_f(windows[3], u, v, EdgeFeature::kLossIn);
      during += edge_f(windows[5], u, v, EdgeFeature::kLossIn);
      ++n;
    }
  }
  EXPECT_LT(before / n, 0.01);
  EXPECT_NEAR(during / n, 0.3, 0.1);
  for (float x : windows[5].data.edge_labels) EXPECT_EQ(x, 0.0f);
  for (float x : windows[5].data.node_labels) EXPECT_EQ(x, 0.0f);
}

TEST(Telemetry, ACrashedNodeGoesStaleAndIsTheOnlyPositive) {
  const auto windows = record({"node_crash 6 20s 10s"});
  const TelemetryWindow& during = windows[5];  // [25, 30)
  EXPECT_NEAR(node_f(during, 6, NodeFeature::kTelemetryAgeS), 10.0f, 1e-4);
  EXPECT_TRUE(std::isnan(node_f(during, 6, NodeFeature::kCpu)));
  EXPECT_FLOAT_EQ(edge_f(during, 2, 6, EdgeFeature::kLossIn), 1.0f);
  EXPECT_FLOAT_EQ(edge_f(during, 2, 6, EdgeFeature::kUp), 0.0f);
  EXPECT_EQ(during.data.node_labels[5], 1.0f);
  for (float x : during.data.edge_labels) EXPECT_EQ(x, 0.0f);
  EXPECT_TRUE(during.data.graph.validate().ok());
}

TEST(Telemetry, ObservingChangesNothingAndIsDeterministic) {
  ScenarioParams p;
  p.nodes = 30;
  p.degree = 5;
  p.duration = seconds(60);
  p.warmup = seconds(10);
  p.faults = 8;
  p.fault_max = seconds(15);
  p.fault_kinds = *parse_fault_kinds({"every"});
  p.link.loss = 0.01;
  auto sc = build_scenario(p);
  ASSERT_TRUE(sc.ok()) << sc.status().message();
  const auto proto = static_protocol(sc->topo, false);
  auto report = [&](const RunStats& r) {
    auto j = report_json(*sc, {r});
    j.erase("sim");
    return j.dump();
  };
  const std::string plain = report(run_protocol(*sc, proto));
  std::vector<float> first, second;
  for (auto* sink : {&first, &second}) {
    RunOptions opts;
    opts.on_telemetry = [sink](const TelemetryWindow& w) {
      const auto& x = w.data.graph.edge_features;
      sink->insert(sink->end(), x.data(), x.data() + x.size());
      sink->insert(sink->end(), w.data.edge_labels.begin(), w.data.edge_labels.end());
    };
    EXPECT_EQ(report(run_protocol(*sc, proto, opts)), plain);
  }
  ASSERT_EQ(first.size(), second.size());
  EXPECT_EQ(0, std::memcmp(first.data(), second.data(), first.size() * sizeof(float)));
}

}  // namespace
}  // namespace meshloop::sim
