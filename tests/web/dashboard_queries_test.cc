// Every dashboard query works against live data: a real Prometheus (1 s scrapes) scrapes a running
// `meshloop sim --serve --realtime --mapek on` (a 3x3 grid with a loss burst, a node crash and a gray hole, so the
// loop detects and acts) and one real `meshloop node` serving its knowledge base (asked a few questions, one of them
// twice so the semantic cache answers it), and every target expression of every panel of dashboards/*.json is evaluated
// through Prometheus's /api/v1/query with Grafana's variables substituted ($node: the values of the dashboard's own
// label_values() variable, as Grafana's "All" would select them). A query that errors or returns no series fails,
// naming the dashboard, the panel and the expression.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "common/prometheus_process.h"
#include "common/wait_for.h"
#include "transport/local_mesh.h"
#include "transport/process.h"

namespace meshloop::web {
namespace {

using nlohmann::json;
using testing::wait_for;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// Prometheus's answer to an instant query, errors included (PrometheusProcess::query hides them).
json instant_query(int port, const std::string& promql) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(5, 0);
  auto res = c.Get(("/api/v1/query?query=" + httplib::detail::encode_query_param(promql)).c_str());
  if (!res) return json{{"status", "error"}, {"error", "no response"}};
  json j = json::parse(res->body, nullptr, false);
  return j.is_discarded() ? json{{"status", "error"}, {"error", res->body}} : j;
}

TEST(DashboardQueries, EveryPanelQueryReturnsSeriesFromALiveMesh) {
  const auto started = std::chrono::steady_clock::now();
  const char* bin = std::getenv("MESHLOOP_BIN");
  ASSERT_NE(bin, nullptr) << "MESHLOOP_BIN must name the meshloop binary (ctest sets it)";
  const std::filesystem::path dashboards = std::filesystem::path(MESHLOOP_TEST_SOURCE_DIR) / "dashboards";
  const std::string log =
      (std::filesystem::temp_directory_path() / ("meshloop-dash-sim-" + std::to_string(::getpid()) + ".log")).string();

  const int sim_port = transport::free_tcp_port().value();
  auto sim = transport::ChildProcess::spawn({{bin,
                                              "sim",
                                              "--nodes",
                                              "9",
                                              "--topology",
                                              "grid",
                                              "--duration",
                                              "300s",
                                              "--warmup",
                                              "3s",
                                              "--faults",
                                              "0",
                                              "--fault-list",
                                              "loss_burst 2-5 5s 20s, node_crash 7 6s 8s, gray_hole 5 8s 20s",
                                              "--flows",
                                              "8",
                                              "--seed",
                                              "4",
                                              "--mapek",
                                              "on",
                                              "--mapek-model",
                                              "none",
                                              "--quiet",
                                              "--serve",
                                              "127.0.0.1:" + std::to_string(sim_port),
                                              "--realtime"},
                                             log,
                                             {},
                                             false});
  ASSERT_TRUE(sim.ok()) << sim.status().to_string();
  struct Cleanup {
    transport::ChildProcess& p;
    std::string log;
    ~Cleanup() {
      p.terminate();
      std::error_code ec;
      std::filesystem::remove(log, ec);
    }
  } cleanup{*sim, log};

  // One real node with its knowledge base in memory (a new store: the runbooks), for the Knowledge base dashboard.
  // Its id is outside the simulated mesh's 1..9.
  const std::string node_dir = transport::make_temp_dir("meshloop-dash-node").value();
  transport::LocalMesh::Options mesh_options;
  mesh_options.binary = bin;
  mesh_options.work_dir = node_dir;
  mesh_options.extra_args = {"--kb", "memory"};
  transport::LocalMesh node_mesh(mesh_options);
  constexpr mesh::NodeId kKbNode = 100;
  ASSERT_TRUE(node_mesh.add_node(kKbNode).ok());
  ASSERT_TRUE(node_mesh.start_all().ok());
  struct NodeCleanup {
    transport::LocalMesh& mesh;
    std::string dir;
    ~NodeCleanup() {
      mesh.stop_all();
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } node_cleanup{node_mesh, node_dir};
  const int node_port = node_mesh.node(kKbNode).http_port;

  const std::string config =
      "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
      "scrape_configs:\n  - job_name: meshloop-sim\n    static_configs:\n      - targets: ['127.0.0.1:" +
      std::to_string(sim_port) + "']\n  - job_name: meshloop-node\n    static_configs:\n      - targets: ['127.0.0.1:" +
      std::to_string(node_port) + "']\n";
  testing::PrometheusProcess prometheus;
  const int prom_port = transport::free_tcp_port().value();
  ASSERT_TRUE(prometheus.start(config, prom_port));

  // Data: the faults injected, the loop deciding, and 20 s of virtual time (enough samples for 1m rates).
  ASSERT_TRUE(
      wait_for([&] { return prometheus.scalar("max(meshloop_sim_time_seconds)", 0) >= 20; }, std::chrono::seconds(60)))
      << "no data: " << prometheus.log();
  EXPECT_EQ(prometheus.scalar("sum(meshloop_sim_faults_injected_total)"), 3);
  EXPECT_GT(prometheus.scalar("sum(meshloop_mapek_decisions_total)"), 0) << "the loop never decided anything";

  // The node's knowledge base: ready (it loads in the background), then asked a few questions in two modes, one of
  // them twice (the second answer comes from the semantic cache), and scraped after that.
  httplib::Client kb("127.0.0.1", node_port);
  kb.set_read_timeout(10, 0);
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = kb.Get("/api/v1/kb/stats");
        return r && r->status == 200;
      },
      std::chrono::seconds(30)))
      << "the node's knowledge base never became ready";
  for (const char* q : {R"({"query":"a node silently drops forwarded packets"})",
                        R"({"query":"link flapping between two neighbours","mode":"keyword"})",
                        R"({"query":"high packet loss on a link","mode":"vector"})",
                        R"({"query":"a node silently drops forwarded packets"})"}) {
    auto r = kb.Post("/api/v1/kb/query", q, "application/json");
    ASSERT_TRUE(r && r->status == 200) << q << ": " << (r ? r->body : "no response");
  }
  ASSERT_TRUE(wait_for([&] { return prometheus.scalar("sum(meshloop_rag_cache_hits_total)", 0) >= 1; },
                       std::chrono::seconds(10)))
      << "the node's cache hit never reached Prometheus: " << prometheus.log();
  EXPECT_EQ(prometheus.scalar("sum(meshloop_rag_retrieval_duration_seconds_count)"), 4);

  int files = 0, queries = 0;
  std::vector<std::string> failures;
  for (const auto& entry : std::filesystem::directory_iterator(dashboards)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    std::ifstream in(entry.path());
    const json d = json::parse(in, nullptr, false);
    ASSERT_FALSE(d.is_discarded()) << entry.path();
    const std::string name = entry.path().filename().string();

    // $node: every value of the dashboard's label_values(<metric>, node) variable, as a regex alternation.
    std::string node_regex;
    for (const json& v : d["templating"]["list"]) {
      if (v.value("name", "") != "node") continue;
      const std::string q =
          v["query"].is_string() ? v["query"].get<std::string>() : v["query"]["query"].get<std::string>();
      std::smatch m;
      ASSERT_TRUE(std::regex_match(q, m, std::regex(R"(label_values\((\w+), node\))"))) << name << ": " << q;
      std::set<std::string> values;
      for (const json& s : prometheus.query("count by (node) (" + m[1].str() + ")")) values.insert(s["metric"]["node"]);
      ASSERT_FALSE(values.empty()) << name << ": the node variable's query " << q << " finds no node";
      for (const auto& value : values) node_regex += (node_regex.empty() ? "" : "|") + value;
    }
    ASSERT_FALSE(node_regex.empty()) << name << " has no node variable";

    for (const json& panel : d["panels"]) {
      if (panel.value("type", "") == "row") continue;
      for (const json& target : panel["targets"]) {
        const std::string expr = target.value("expr", "");
        std::string q = replace_all(expr, "$node", "(" + node_regex + ")");
        q = replace_all(q, "$__rate_interval", "1m");
        q = replace_all(q, "$__interval", "5s");
        q = replace_all(q, "$__range", "5m");
        ASSERT_EQ(q.find('$'), std::string::npos) << name << ": unsubstituted variable in " << expr;
        ++queries;
        const json r = instant_query(prom_port, q);
        const std::string where =
            name + " / panel \"" + panel.value("title", "") + "\" / " + target.value("refId", "") + ": " + expr;
        if (r.value("status", "") != "success") {
          failures.push_back(where + "\n    error: " + r.dump());
        } else if (r["data"]["result"].empty()) {
          failures.push_back(where + "\n    no series (as run: " + q + ")");
        }
      }
    }
  }
  EXPECT_GE(files, 5);
  EXPECT_GE(queries, 55);
  for (const auto& f : failures) ADD_FAILURE() << f;
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << files << " dashboards, " << queries << " queries, " << failures.size() << " failing, " << took << " s\n";
}

}  // namespace
}  // namespace meshloop::web
