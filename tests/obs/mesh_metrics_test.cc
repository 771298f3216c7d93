#include "obs/mesh_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/mini_mesh.h"
#include "metrics_test_util.h"

namespace meshloop::obs {
namespace {

using testing::sample;

mesh::NeighbourInfo neighbour(mesh::NodeId id, bool up, mesh::Cost cost) {
  mesh::NeighbourInfo n{};
  n.id = id;
  n.port = id;
  n.up = up;
  n.delivery_ratio_in = 0.9;
  n.delivery_ratio_out = 0.8;
  n.etx = 1.2;
  n.srtt_s = 0.004;
  n.cost = cost;
  return n;
}

TEST(MeshMetrics, GaugesTakeTheSnapshotAndCountersItsDelta) {
  MetricsRegistry r("7");
  MeshMetrics m(r);
  mesh::Telemetry t;
  t.self = 7;
  t.neighbours = {neighbour(3, true, 120), neighbour(5, false, mesh::kInfiniteCost)};
  t.routes = 4;
  t.routes_with_backup = 2;
  t.lsdb_size = 5;
  t.counters.data_forwarded = 10;
  t.counters.control_tx_bytes = 1000;
  t.counters.rejected_unauthenticated = 2;
  m.update(t);
  EXPECT_EQ(sample(r, "meshloop_mesh_neighbours_up"), 1);
  EXPECT_EQ(sample(r, "meshloop_mesh_neighbour_up", {{"peer", "3"}}), 1);
  EXPECT_EQ(sample(r, "meshloop_mesh_neighbour_up", {{"peer", "5"}}), 0);
  EXPECT_EQ(sample(r, "meshloop_mesh_link_cost", {{"peer", "3"}}), 120);
  EXPECT_TRUE(std::isinf(*sample(r, "meshloop_mesh_link_cost", {{"peer", "5"}})));
  EXPECT_DOUBLE_EQ(*sample(r, "meshloop_mesh_link_delivery_ratio", {{"peer", "3"}, {"direction", "in"}}), 0.9);
  EXPECT_DOUBLE_EQ(*sample(r, "meshloop_mesh_link_delivery_ratio", {{"peer", "3"}, {"direction", "out"}}), 0.8);
  EXPECT_DOUBLE_EQ(*sample(r, "meshloop_mesh_link_rtt_seconds", {{"peer", "3"}}), 0.004);
  EXPECT_EQ(sample(r, "meshloop_mesh_routes"), 4);
  EXPECT_EQ(sample(r, "meshloop_mesh_routes_with_backup"), 2);
  EXPECT_EQ(sample(r, "meshloop_mesh_lsdb_entries"), 5);
  EXPECT_EQ(sample(r, "meshloop_mesh_data_packets_forwarded_total"), 10);
  EXPECT_EQ(sample(r, "meshloop_mesh_control_bytes_total", {{"direction", "tx"}}), 1000);
  EXPECT_EQ(sample(r, "meshloop_mesh_control_bytes_total", {{"direction", "rx"}}), 0);
  EXPECT_EQ(sample(r, "meshloop_mesh_packets_rejected_total", {{"reason", "unauthenticated"}}), 2);

  t.counters.data_forwarded = 25;
  t.counters.control_tx_bytes = 1500;
  m.update(t);
  EXPECT_EQ(sample(r, "meshloop_mesh_data_packets_forwarded_total"), 25);
  EXPECT_EQ(sample(r, "meshloop_mesh_control_bytes_total", {{"direction", "tx"}}), 1500);
  m.update(t);  // nothing new
  EXPECT_EQ(sample(r, "meshloop_mesh_data_packets_forwarded_total"), 25);
}

TEST(MeshMetrics, ACounterThatGoesBackIsAResetAndAdvancesByTheNewValue) {
  MetricsRegistry r("7");
  MeshMetrics m(r);
  mesh::Telemetry t;
  t.counters.spf_runs = 40;
  m.update(t);
  t.counters.spf_runs = 3;  // the node restarted
  m.update(t);
  EXPECT_EQ(sample(r, "meshloop_mesh_spf_runs_total"), 43);
}

TEST(MeshMetrics, SeriesOfANeighbourThatLeftTheSnapshotAreRemoved) {
  MetricsRegistry r("7");
  MeshMetrics m(r);
  mesh::Telemetry t;
  t.neighbours = {neighbour(3, true, 100), neighbour(5, true, 100)};
  m.update(t);
  t.neighbours = {neighbour(3, true, 100)};
  m.update(t);
  EXPECT_TRUE(sample(r, "meshloop_mesh_link_cost", {{"peer", "3"}}).has_value());
  EXPECT_FALSE(sample(r, "meshloop_mesh_link_cost", {{"peer", "5"}}).has_value());
  EXPECT_FALSE(sample(r, "meshloop_mesh_link_delivery_ratio", {{"peer", "5"}}).has_value());
  EXPECT_EQ(sample(r, "meshloop_mesh_neighbours_up"), 1);
}

TEST(MeshMetrics, FixedLabelSeriesExistAtZeroBeforeAnyUpdate) {
  MetricsRegistry r("7");
  MeshMetrics m(r);
  for (const char* reason : {"malformed", "unauthenticated", "replay"}) {
    EXPECT_EQ(sample(r, "meshloop_mesh_packets_rejected_total", {{"reason", reason}}), 0) << reason;
  }
  for (const char* reason : {"no_route", "ttl"}) {
    EXPECT_EQ(sample(r, "meshloop_mesh_data_packets_dropped_total", {{"reason", reason}}), 0) << reason;
  }
  EXPECT_EQ(sample(r, "meshloop_mesh_reroute_duration_seconds"), 0);
}

TEST(MeshMetrics, HistogramsAndEventsAreRecorded) {
  MetricsRegistry r("7");
  MeshMetrics m(r);
  m.observe_spf_duration(0.0002);
  m.observe_reroute(0.15);
  m.observe_reroute(0.3);
  auto event = [](mesh::EventKind kind, mesh::NodeId peer) {
    mesh::Event e;
    e.kind = kind;
    e.peer = peer;
    return e;
  };
  m.observe(event(mesh::EventKind::kNeighbourDown, 3));
  m.observe(event(mesh::EventKind::kNeighbourUp, 3));
  m.observe(event(mesh::EventKind::kNeighbourUp, 4));
  m.observe(event(mesh::EventKind::kSpfRun, mesh::kNoNode));  // counted from snapshots, not events
  EXPECT_EQ(sample(r, "meshloop_mesh_spf_duration_seconds"), 1);
  EXPECT_EQ(sample(r, "meshloop_mesh_reroute_duration_seconds"), 2);
  EXPECT_EQ(sample(r, "meshloop_mesh_neighbour_changes_total", {{"state", "up"}}), 2);
  EXPECT_EQ(sample(r, "meshloop_mesh_neighbour_changes_total", {{"state", "down"}}), 1);
  EXPECT_EQ(sample(r, "meshloop_mesh_spf_runs_total"), 0);
}

// A real mesh: a square 1-2-3-4-1 with traffic 1 -> 3, then the link 1-2 on its path is cut. Every counter the
// metrics report equals the node's own count, and the failover shows.
TEST(MeshMetrics, MirrorRealNodesThroughAFailover) {
  testing::MiniMesh mesh;
  for (mesh::NodeId id : {1, 2, 3, 4}) mesh.add_node(id);
  mesh.link(1, 2);
  mesh.link(2, 3);
  mesh.link(3, 4);
  mesh.link(4, 1);
  std::map<mesh::NodeId, std::unique_ptr<MetricsRegistry>> registries;
  std::map<mesh::NodeId, std::unique_ptr<MeshMetrics>> metrics;
  for (mesh::NodeId id : {1, 2, 3, 4}) {
    registries[id] = std::make_unique<MetricsRegistry>(std::to_string(id));
    metrics[id] = std::make_unique<MeshMetrics>(*registries[id]);
  }
  mesh.on_event = [&](mesh::NodeId id, const mesh::Event& e) { metrics[id]->observe(e); };
  mesh.run_for(seconds(2));
  mesh.flow(1, 3, milliseconds(10));
  mesh.run_for(seconds(1));
  const mesh::NodeId first_hop = mesh.node(1)->next_hop(3);
  ASSERT_NE(first_hop, mesh::kNoNode);
  mesh.cut(1, first_hop);
  mesh.run_for(seconds(2));
  for (mesh::NodeId id : {1, 2, 3, 4}) metrics[id]->update(mesh.node(id)->telemetry(mesh.now()));

  const mesh::Telemetry t1 = mesh.node(1)->telemetry(mesh.now());
  const mesh::Telemetry t3 = mesh.node(3)->telemetry(mesh.now());
  const MetricsRegistry& r1 = *registries[1];
  const MetricsRegistry& r3 = *registries[3];
  EXPECT_GT(t1.counters.failovers, 0u);
  EXPECT_EQ(sample(r1, "meshloop_mesh_failovers_total"), t1.counters.failovers);
  EXPECT_EQ(sample(r1, "meshloop_mesh_data_packets_originated_total"), t1.counters.data_originated);
  EXPECT_EQ(sample(r3, "meshloop_mesh_data_packets_delivered_total"), t3.counters.data_delivered);
  EXPECT_EQ(sample(r3, "meshloop_mesh_data_packets_delivered_total"), mesh.delivered(1, 3));
  EXPECT_EQ(sample(r1, "meshloop_mesh_neighbours_up"), 1);  // 1-2 or 1-4 is cut
  EXPECT_EQ(sample(r1, "meshloop_mesh_neighbour_changes_total", {{"state", "down"}}), 1);
  EXPECT_EQ(sample(r1, "meshloop_mesh_neighbour_up", {{"peer", std::to_string(first_hop)}}), 0);
  EXPECT_EQ(sample(r1, "meshloop_mesh_control_bytes_total", {{"direction", "tx"}}), t1.counters.control_tx_bytes);
  EXPECT_EQ(sample(r1, "meshloop_mesh_routes"), t1.routes);
  EXPECT_EQ(sample(r1, "meshloop_mesh_spf_runs_total"), t1.counters.spf_runs);
}

}  // namespace
}  // namespace meshloop::obs
