// A real `meshloop node` serves GET /metrics on its one HTTP server: every series with its `node` label, gzip when
// asked, the mesh's series moving with the mesh (a cut link shows as a failover and a reroute time measured by the
// node), HTTP requests counted by route and code; malformed and unexpected requests get proper errors and the node
// keeps running; promtool finds nothing to say about what it serves.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "api/client.h"
#include "common/exposition_text.h"
#include "transport/local_mesh.h"
#include "common/raw_http.h"
#include "common/wait_for.h"

namespace meshloop::transport {
namespace {

using meshloop::testing::wait_for;

using mesh::NodeId;
using testing::exposition_value;

using testing::raw_status;

class NodeMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("MESHLOOP_BIN");
    ASSERT_NE(bin, nullptr) << "MESHLOOP_BIN must name the meshloop binary (ctest sets it)";
    dir_ = make_temp_dir("meshloop-metrics-it").value();
    LocalMesh::Options o;
    o.binary = bin;
    o.work_dir = dir_;
    o.key = "metrics-key";
    mesh_ = std::make_unique<LocalMesh>(o);
  }
  void TearDown() override {
    mesh_->stop_all();
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }

  std::string scrape(NodeId id) {
    httplib::Client c("127.0.0.1", mesh_->node(id).http_port);
    c.set_read_timeout(2, 0);
    auto r = c.Get("/metrics", {{"Accept-Encoding", "identity"}});
    return r && r->status == 200 ? r->body : std::string();
  }
  std::optional<double> value(NodeId id, const std::string& name, std::map<std::string, std::string> labels = {}) {
    labels["node"] = std::to_string(id);
    return exposition_value(scrape(id), name, labels);
  }
  NodeId next_hop(NodeId at, NodeId dst) {
    auto s = api::get_status("127.0.0.1", mesh_->node(at).http_port);
    if (!s.ok()) return mesh::kNoNode;
    for (const auto& r : (*s)["routes"]) {
      if (r["destination"] == dst && !r["next_hop"].is_null()) return r["next_hop"].get<NodeId>();
    }
    return mesh::kNoNode;
  }

  std::string dir_;
  std::unique_ptr<LocalMesh> mesh_;
};

// A square 1-2-3-4-1 with traffic 1 -> 3 (two hops, two disjoint paths): cutting node 1's link to its next hop makes
// it fail over to the other side.
TEST_F(NodeMetricsTest, ServesItsMeshWithNodeLabelsAndShowsACutLinkAsARerouteTime) {
  for (NodeId id = 1; id <= 4; ++id) ASSERT_TRUE(mesh_->add_node(id).ok());
  for (auto [a, b] : std::vector<std::pair<NodeId, NodeId>>{{1, 2}, {2, 3}, {3, 4}, {4, 1}}) {
    ASSERT_TRUE(mesh_->link(a, b).ok());
  }
  mesh_->add_traffic(1, TrafficSpec{3, 50});
  ASSERT_TRUE(mesh_->start_all().ok());

  ASSERT_TRUE(wait_for([&] { return value(3, "meshloop_mesh_data_packets_delivered_total").value_or(0) > 20; },
                       std::chrono::seconds(15)))
      << scrape(3);
  const std::string text = scrape(1);
  EXPECT_EQ(exposition_value(text, "meshloop_mesh_neighbours_up", {{"node", "1"}}), 2);
  EXPECT_EQ(exposition_value(text, "meshloop_build_info", {{"node", "1"}}), 1);
  EXPECT_GT(exposition_value(text, "process_resident_memory_bytes", {{"node", "1"}}).value_or(0), 1e5);
  EXPECT_EQ(exposition_value(text, "meshloop_mesh_encode_failures_total", {{"node", "1"}}), 0);
  EXPECT_GT(exposition_value(text, "meshloop_mesh_spf_duration_seconds_count", {{"node", "1"}}).value_or(0), 0);
  // Every sample carries node="1", and no other node's.
  std::istringstream lines(text);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    ++samples;
    EXPECT_NE(line.find("node=\"1\""), std::string::npos) << line;
  }
  EXPECT_GT(samples, 100);
  // promtool's linter has nothing to say about a live node's exposition.
  const std::string path = dir_ + "/node1.prom";
  std::ofstream(path) << text;
  FILE* p = popen(("promtool check metrics < " + path + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string lint;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) lint += buf;
  EXPECT_EQ(pclose(p), 0) << lint;
  EXPECT_EQ(lint, "");

  // gzip when asked, exactly once (cpp-httplib's client inflates it).
  httplib::Client c("127.0.0.1", mesh_->node(1).http_port);
  auto gz = c.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(gz->get_header_value_count("Content-Encoding"), 1u);
  EXPECT_NE(gz->body.find("meshloop_mesh_routes{node=\"1\"} 3"), std::string::npos);

  // Cut the link to the next hop at node 1: a locally measured reroute time. (Whether node 1 fails over first or
  // learns of the loss from the other end's advertisement first is a race; either way traffic moves.)
  const NodeId via = next_hop(1, 3);
  ASSERT_TRUE(via == 2 || via == 4) << via;
  ASSERT_TRUE(api::set_drop("127.0.0.1", mesh_->node(1).http_port, std::to_string(via), true).ok());
  ASSERT_TRUE(wait_for(
      [&] {
        return value(1, "meshloop_mesh_reroute_duration_seconds_count").value_or(0) >= 1;
      },
      std::chrono::seconds(10)))
      << scrape(1);
  const std::string after = scrape(1);
  const double count = exposition_value(after, "meshloop_mesh_reroute_duration_seconds_count").value_or(0);
  const double sum = exposition_value(after, "meshloop_mesh_reroute_duration_seconds_sum").value_or(0);
  std::cout << "[measured] link 1-" << via << " cut: node 1 reroute time " << sum / count * 1000 << " ms (mean of "
            << count << "), failovers " << exposition_value(after, "meshloop_mesh_failovers_total").value_or(-1)
            << "\n";
  // Detection is 3 x 100 ms hellos; traffic at 50/s is on the backup within a packet interval of failing over.
  EXPECT_GT(sum / count, 0.1);
  EXPECT_LT(sum / count, 1.0);
  // Snapshot gauges follow within a telemetry interval (1 s).
  EXPECT_TRUE(wait_for(
      [&] {
        return value(1, "meshloop_mesh_neighbour_changes_total", {{"state", "down"}}).value_or(0) >= 1 &&
               value(1, "meshloop_mesh_neighbours_up") == 1;
      },
      std::chrono::seconds(5)))
      << scrape(1);
}

TEST_F(NodeMetricsTest, MalformedAndUnexpectedHttpRequestsGetErrorsAndTheNodeKeepsRunning) {
  ASSERT_TRUE(mesh_->add_node(1).ok());
  ASSERT_TRUE(mesh_->start_all().ok());
  const int port = mesh_->node(1).http_port;
  ASSERT_TRUE(wait_for([&] { return api::http_get("127.0.0.1", port, "/healthz").ok(); }, std::chrono::seconds(10)));
  const std::string end = "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(raw_status(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n" + end), 405);
  EXPECT_EQ(raw_status(port, "DELETE /metrics HTTP/1.1\r\n" + end), 405);
  EXPECT_EQ(raw_status(port, "TRACE /metrics HTTP/1.1\r\n" + end), 405);
  EXPECT_EQ(raw_status(port, "GET /metrics/extra HTTP/1.1\r\n" + end), 404);
  EXPECT_EQ(raw_status(port, "GET /nope HTTP/1.1\r\n" + end), 404);
  EXPECT_EQ(raw_status(port, "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(20000, 'h') + "\r\n" + end), 431);
  std::string many;
  for (int i = 0; i < 400; ++i) many += "X-H" + std::to_string(i) + ": " + std::string(100, 'h') + "\r\n";
  EXPECT_EQ(raw_status(port, "GET /metrics HTTP/1.1\r\n" + many + end), 431);
  EXPECT_EQ(raw_status(port, "GET /" + std::string(10000, 'u') + " HTTP/1.1\r\n" + end), 414);
  EXPECT_EQ(raw_status(port, std::string("\x16\x03\x01 not http\r\n\r\n")), 400);
  EXPECT_EQ(raw_status(port, "POST /api/v1/faults/drop HTTP/1.1\r\nContent-Length: 5\r\n" + end + "{bad}"), 400);
  // Still running and serving; the refusals are counted.
  ASSERT_TRUE(mesh_->running(1));
  auto health = api::http_get("127.0.0.1", port, "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  const std::string text = scrape(1);
  EXPECT_EQ(exposition_value(text, "meshloop_http_requests_total", {{"route", "/metrics"}, {"code", "405"}}), 2);
  EXPECT_EQ(exposition_value(text, "meshloop_http_requests_total", {{"route", "none"}, {"code", "404"}}), 2);
  EXPECT_EQ(exposition_value(text, "meshloop_http_requests_total", {{"route", "none"}, {"code", "431"}}), 2);
  EXPECT_GE(exposition_value(text, "meshloop_http_requests_total", {{"route", "/healthz"}, {"code", "200"}}).value_or(0),
            1);
}

}  // namespace
}  // namespace meshloop::transport
