// Must-show of issue 4: a real Prometheus (Debian's, on 127.0.0.1, generated config, 1 s scrape interval, its own
// temp storage, stopped afterwards) scrapes a running `meshloop sim --serve --realtime` and four real
// `meshloop node` processes. Through Prometheus's HTTP API: every target is up, the simulated mesh has one `node`
// label per simulated node, and series move as the meshes do: the simulator's injected node crash shows in the
// ground truth (faults injected, nodes alive, the fault's scored outcome), in the failover and reroute-time series
// of the crashed node's neighbours; a link cut on the real nodes shows in node 1's reroute time.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "api/client.h"
#include "common/prometheus_process.h"
#include "common/wait_for.h"
#include "transport/local_mesh.h"
#include "transport/process.h"

namespace meshloop::obs {
namespace {

using meshloop::testing::wait_for;

using Clock = std::chrono::steady_clock;
using mesh::NodeId;
using nlohmann::json;

TEST(PrometheusMesh, ScrapesALiveSimulationAndRealNodesAndSeesTheirFaults) {
  const auto started = Clock::now();
  const char* bin = std::getenv("MESHLOOP_BIN");
  ASSERT_NE(bin, nullptr) << "MESHLOOP_BIN must name the meshloop binary (ctest sets it)";
  const std::string dir = transport::make_temp_dir("meshloop-prom-it").value();
  struct RemoveDir {
    std::string d;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
  } remove_dir{dir};

  // The simulator: a 4x4 grid, node 6 crashes at 6 s for 4 s; virtual time paced to wall time.
  const int sim_port = transport::free_tcp_port().value();
  auto sim = transport::ChildProcess::spawn(
      {{bin, "sim", "--nodes", "16", "--topology", "grid", "--duration", "60s", "--warmup", "2s", "--faults", "0",
        "--fault-list", "node_crash 6 6s 4s", "--flows", "8", "--seed", "3", "--quiet", "--serve",
        "127.0.0.1:" + std::to_string(sim_port), "--realtime"},
       dir + "/sim.log", {}, false});
  ASSERT_TRUE(sim.ok()) << sim.status().to_string();

  // Real nodes: a square 1-2-3-4-1 with traffic 1 -> 3.
  transport::LocalMesh::Options o;
  o.binary = bin;
  o.work_dir = dir;
  o.key = "prometheus-it";
  transport::LocalMesh nodes(o);
  for (NodeId id = 1; id <= 4; ++id) ASSERT_TRUE(nodes.add_node(id).ok());
  for (auto [a, b] : std::vector<std::pair<NodeId, NodeId>>{{1, 2}, {2, 3}, {3, 4}, {4, 1}}) {
    ASSERT_TRUE(nodes.link(a, b).ok());
  }
  nodes.add_traffic(1, transport::TrafficSpec{3, 50});
  ASSERT_TRUE(nodes.start_all().ok());

  std::string targets;
  for (NodeId id = 1; id <= 4; ++id) {
    targets += (id == 1 ? "" : ", ") + std::string("'127.0.0.1:") + std::to_string(nodes.node(id).http_port) + "'";
  }
  const std::string config = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                             "scrape_configs:\n"
                             "  - job_name: sim\n    static_configs:\n      - targets: ['127.0.0.1:" +
                             std::to_string(sim_port) + "']\n" +
                             "  - job_name: nodes\n    static_configs:\n      - targets: [" + targets + "]\n";
  testing::PrometheusProcess prometheus;
  ASSERT_TRUE(prometheus.start(config, transport::free_tcp_port().value()));

  // Every target up.
  ASSERT_TRUE(wait_for(
      [&] {
        json t = prometheus.get("/api/v1/targets");
        if (t.is_null() || t.is_discarded() || t["data"]["activeTargets"].size() != 5) return false;
        for (const json& a : t["data"]["activeTargets"]) {
          if (a.value("health", "") != "up") return false;
        }
        return true;
      },
      std::chrono::seconds(20)))
      << prometheus.get("/api/v1/targets").dump() << prometheus.log();

  // The simulated mesh: one node label per simulated node, the simulator's own series under node="sim".
  json up = prometheus.query("meshloop_mesh_neighbours_up{job=\"sim\"}");
  std::set<std::string> labels;
  for (const json& s : up) labels.insert(s["metric"]["node"].get<std::string>());
  EXPECT_EQ(labels.size(), 16u) << up.dump();
  EXPECT_EQ(prometheus.scalar("meshloop_build_info{job=\"sim\"}"), 1);
  EXPECT_EQ(prometheus.scalar("count(meshloop_build_info{job=\"nodes\"})"), 4);

  // The real mesh delivers, and its counters move between scrapes.
  double delivered = 0;
  ASSERT_TRUE(wait_for(
      [&] {
        delivered = prometheus.scalar("meshloop_mesh_data_packets_delivered_total{job=\"nodes\",node=\"3\"}", 0);
        return delivered > 20;
      },
      std::chrono::seconds(15)));
  EXPECT_TRUE(wait_for(
      [&] {
        return prometheus.scalar("meshloop_mesh_data_packets_delivered_total{job=\"nodes\",node=\"3\"}", 0) >
               delivered + 50;
      },
      std::chrono::seconds(10)));

  // Cut node 1's link to its next hop towards 3: node 1 measures a reroute, Prometheus sees it.
  auto s1 = api::get_status("127.0.0.1", nodes.node(1).http_port);
  ASSERT_TRUE(s1.ok());
  NodeId via = mesh::kNoNode;
  for (const auto& r : (*s1)["routes"]) {
    if (r["destination"] == 3 && !r["next_hop"].is_null()) via = r["next_hop"].get<NodeId>();
  }
  ASSERT_TRUE(via == 2 || via == 4) << s1->dump();
  ASSERT_TRUE(api::set_drop("127.0.0.1", nodes.node(1).http_port, std::to_string(via), true).ok());
  EXPECT_TRUE(wait_for(
      [&] {
        return prometheus.scalar("meshloop_mesh_reroute_duration_seconds_count{job=\"nodes\",node=\"1\"}", 0) >= 1 &&
               prometheus.scalar("meshloop_mesh_neighbour_changes_total{job=\"nodes\",node=\"1\",state=\"down\"}",
                                 0) >= 1;
      },
      std::chrono::seconds(10)));
  const double node_reroute = prometheus.scalar(
      "meshloop_mesh_reroute_duration_seconds_sum{job=\"nodes\",node=\"1\"} / "
      "meshloop_mesh_reroute_duration_seconds_count{job=\"nodes\",node=\"1\"}");
  std::cout << "[measured] real node 1, link to " << via << " cut: reroute time " << node_reroute * 1000 << " ms\n";
  EXPECT_GT(node_reroute, 0.05);
  EXPECT_LT(node_reroute, 2.0);

  // The simulator's crash of node 6: ground truth, failovers and reroute times at its neighbours, the crashed node
  // reporting no neighbours, and the fault's outcome once it is final.
  EXPECT_TRUE(wait_for(
      [&] {
        return prometheus.scalar("meshloop_sim_faults_injected_total{kind=\"node_crash\"}", 0) == 1 &&
               prometheus.scalar("min_over_time(meshloop_sim_nodes_alive[1m])", 0) == 15 &&
               prometheus.scalar("sum(meshloop_mesh_failovers_total{job=\"sim\"})", 0) >= 1 &&
               prometheus.scalar("sum(meshloop_mesh_reroute_duration_seconds_count{job=\"sim\"})", 0) >= 1;
      },
      std::chrono::seconds(20)))
      << prometheus.query("{job=\"sim\",__name__=~\"meshloop_sim.*\"}").dump();
  EXPECT_EQ(prometheus.scalar("min_over_time(meshloop_mesh_neighbours_up{job=\"sim\",node=\"6\"}[1m])"), 0);
  // Reroutes in the simulator are detection-bound: three 200 ms hellos.
  const double sim_reroute = prometheus.scalar(
      "sum(meshloop_mesh_reroute_duration_seconds_sum{job=\"sim\"}) / "
      "sum(meshloop_mesh_reroute_duration_seconds_count{job=\"sim\"})");
  std::cout << "[measured] simulated node 6 crash: mean reroute time at its neighbours " << sim_reroute * 1000
            << " ms\n";
  EXPECT_GT(sim_reroute, 0.3);
  EXPECT_LT(sim_reroute, 1.5);
  EXPECT_TRUE(wait_for(
      [&] {
        return prometheus.scalar("sum(meshloop_sim_faults_scored_total{kind=\"node_crash\"})", 0) == 1;
      },
      std::chrono::seconds(15)))
      << prometheus.query("meshloop_sim_faults_scored_total{kind=\"node_crash\"}").dump();

  sim->terminate();
  nodes.stop_all();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  std::cout << "[measured] elapsed " << elapsed << " s\n";
  EXPECT_LT(elapsed, 45);
}

}  // namespace
}  // namespace meshloop::obs
