// A real Prometheus (Debian's 2.42, started on 127.0.0.1 with a generated config and a 1 s scrape interval)
// scrapes our exposition served by cpp-httplib in this process: two mesh nodes' metrics (as the simulator will
// expose them, one registry per node) fed from real mesh::Node snapshots, plus process and build metrics. Through
// Prometheus's HTTP API the test asserts that the target is up, that values and labels are what the nodes report,
// that they move when the mesh does, that every series carries `node`, and that Prometheus was served gzip.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "common/mini_mesh.h"
#include "common/wait_for.h"
#include "metrics_test_util.h"
#include "obs/exposition.h"
#include "obs/http_route.h"
#include "obs/mesh_metrics.h"
#include "obs/process_metrics.h"

extern char** environ;

namespace meshloop::obs {
namespace {

using meshloop::testing::wait_for;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// A temp dir and a child process, both cleaned up whatever happens.
class PrometheusProcess {
 public:
  PrometheusProcess() {
    char tmpl[] = "/tmp/meshloop-prom-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~PrometheusProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      const auto deadline = Clock::now() + std::chrono::seconds(5);
      while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (Clock::now() > deadline) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  bool start(int target_port, int listen_port) {
    port_ = listen_port;
    std::ofstream(dir_ / "prometheus.yml") << "global:\n"
                                              "  scrape_interval: 1s\n"
                                              "  scrape_timeout: 1s\n"
                                              "  evaluation_interval: 1s\n"
                                              "scrape_configs:\n"
                                              "  - job_name: meshloop\n"
                                              "    static_configs:\n"
                                              "      - targets: ['127.0.0.1:"
                                           << target_port << "']\n";
    const std::vector<std::string> args = {"/usr/bin/prometheus",
                                           "--config.file=" + (dir_ / "prometheus.yml").string(),
                                           "--storage.tsdb.path=" + (dir_ / "data").string(),
                                           "--web.listen-address=127.0.0.1:" + std::to_string(listen_port),
                                           "--log.level=warn"};
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = (dir_ / "prometheus.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0;
  }

  std::string log() const {
    std::ifstream in(dir_ / "prometheus.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // GET on Prometheus's API; null JSON on any failure.
  json get(const std::string& path) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(1, 0);
    c.set_read_timeout(2, 0);
    auto res = c.Get(path.c_str());
    if (!res || res->status != 200) return nullptr;
    return json::parse(res->body, nullptr, false);
  }
  json query(const std::string& promql) const {
    json j = get("/api/v1/query?query=" + httplib::detail::encode_query_param(promql));
    if (j.is_null() || j.value("status", "") != "success") return json::array();
    return j["data"]["result"];
  }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

double value_of(const json& result_entry) { return std::stod(result_entry["value"][1].get<std::string>()); }

// Our route: one Content-Encoding, a body that is gzip exactly once, identity when gzip is refused.
TEST(MetricsRoute, ServesGzipOnceAndIdentityWhenRefused) {
  MetricsRegistry r("1");
  Exposition e(r);
  MeshMetrics m(r);
  httplib::Server server;
  register_metrics_route(server, e);
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  httplib::Client c("127.0.0.1", port);
  auto gz = c.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  auto plain = c.Get("/metrics", {{"Accept-Encoding", "gzip;q=0, br;q=0"}});
  server.stop();
  t.join();
  ASSERT_TRUE(gz && plain);
  EXPECT_EQ(gz->status, 200);
  EXPECT_EQ(gz->get_header_value_count("Content-Encoding"), 1u);
  EXPECT_EQ(gz->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(gz->get_header_value("Content-Type"), kTextContentType);
  // cpp-httplib's client inflates gzip bodies itself: what arrives is the text, so it was compressed exactly once.
  EXPECT_NE(gz->body.find("meshloop_mesh_neighbours_up{node=\"1\"} 0"), std::string::npos) << gz->body.substr(0, 64);
  EXPECT_EQ(plain->get_header_value_count("Content-Encoding"), 0u);
  EXPECT_NE(plain->body.find("# TYPE meshloop_mesh_routes gauge"), std::string::npos);
}

TEST(PrometheusScrape, RealPrometheusScrapesMeshMetricsWithNodeLabels) {
  const auto started = Clock::now();
  // Two real nodes, wired by hand, with traffic 1 -> 2.
  testing::MiniMesh mesh;
  mesh.add_node(1);
  mesh.add_node(2);
  mesh.link(1, 2);
  mesh.flow(1, 2, milliseconds(10));
  mesh.run_for(seconds(2));

  // Node 1's registry is the process's (process and build metrics, the exposition's own); node 2 is exposed beside
  // it, as the simulator exposes its nodes.
  MetricsRegistry r1("1"), r2("2");
  Exposition exposition(r1);
  exposition.expose(r2);
  register_process_metrics(r1);
  register_build_info(r1);
  MeshMetrics m1(r1), m2(r2);
  auto update = [&] {
    m1.update(mesh.node(1)->telemetry(mesh.now()));
    m2.update(mesh.node(2)->telemetry(mesh.now()));
  };
  update();
  const std::uint64_t delivered_first = mesh.delivered(1, 2);
  ASSERT_GT(delivered_first, 0u);

  httplib::Server server;
  register_metrics_route(server, exposition);
  const int target_port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(target_port, 0);
  std::thread serving([&] { server.listen_after_bind(); });
  struct StopServer {
    httplib::Server& s;
    std::thread& t;
    ~StopServer() {
      s.stop();
      t.join();
    }
  } stop_server{server, serving};

  PrometheusProcess prometheus;
  ASSERT_TRUE(prometheus.start(target_port, free_port()));

  // The target is up once Prometheus has scraped it successfully.
  ASSERT_TRUE(wait_for(
      [&] {
        json t = prometheus.get("/api/v1/targets");
        if (t.is_null() || t["data"]["activeTargets"].empty()) return false;
        return t["data"]["activeTargets"][0].value("health", "") == "up";
      },
      std::chrono::seconds(20)))
      << prometheus.log();

  json up;
  ASSERT_TRUE(wait_for(
      [&] {
        up = prometheus.query("meshloop_mesh_neighbours_up");
        return up.size() == 2;
      },
      std::chrono::seconds(5)))
      << up.dump();
  for (const json& s : up) {
    EXPECT_EQ(value_of(s), 1) << s.dump();
    EXPECT_EQ(s["metric"]["job"], "meshloop");
  }
  std::set<std::string> nodes = {up[0]["metric"]["node"], up[1]["metric"]["node"]};
  EXPECT_EQ(nodes, (std::set<std::string>{"1", "2"}));

  json delivered = prometheus.query("meshloop_mesh_data_packets_delivered_total{node=\"2\"}");
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(value_of(delivered[0]), static_cast<double>(delivered_first));

  json cost = prometheus.query("meshloop_mesh_link_cost{node=\"1\",peer=\"2\"}");
  ASSERT_EQ(cost.size(), 1u);
  EXPECT_GT(value_of(cost[0]), 0);

  json info = prometheus.query("meshloop_build_info");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(value_of(info[0]), 1);
  EXPECT_FALSE(info[0]["metric"].value("version", "").empty());
  EXPECT_FALSE(info[0]["metric"].value("revision", "").empty());

  json rss = prometheus.query("process_resident_memory_bytes{node=\"1\"}");
  ASSERT_EQ(rss.size(), 1u);
  EXPECT_GT(value_of(rss[0]), 1e5);

  // Prometheus asks for gzip, and got it (a scrape counts itself after rendering: the second scrape shows the first).
  EXPECT_TRUE(wait_for(
      [&] {
        json gz = prometheus.query("meshloop_obs_scrapes_total{encoding=\"gzip\"}");
        return gz.size() == 1 && value_of(gz[0]) >= 1;
      },
      std::chrono::seconds(5)));
  json identity = prometheus.query("meshloop_obs_scrapes_total{encoding=\"identity\"}");
  ASSERT_EQ(identity.size(), 1u);
  EXPECT_EQ(value_of(identity[0]), 0);

  // Every series from our target carries `node` (Prometheus's own per-target series, up and scrape_*, aside).
  json series = prometheus.get("/api/v1/series?match[]=" + httplib::detail::encode_query_param("{job=\"meshloop\"}"));
  ASSERT_FALSE(series.is_null());
  std::size_t ours = 0;
  for (const json& s : series["data"]) {
    const std::string name = s["__name__"];
    if (name == "up" || name.rfind("scrape_", 0) == 0) continue;
    ++ours;
    EXPECT_TRUE(s.contains("node")) << s.dump();
  }
  EXPECT_GT(ours, 40u);

  // The mesh moves; the next scrapes show it.
  mesh.run_for(seconds(1));
  update();
  const std::uint64_t delivered_later = mesh.delivered(1, 2);
  ASSERT_GT(delivered_later, delivered_first);
  EXPECT_TRUE(wait_for(
      [&] {
        json d = prometheus.query("meshloop_mesh_data_packets_delivered_total{node=\"2\"}");
        return d.size() == 1 && value_of(d[0]) == static_cast<double>(delivered_later);
      },
      std::chrono::seconds(5)));

  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  RecordProperty("elapsed_seconds", std::to_string(elapsed));
  EXPECT_LT(elapsed, 30);
}

}  // namespace
}  // namespace meshloop::obs
