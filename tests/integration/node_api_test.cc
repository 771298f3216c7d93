// The node's HTTP API on real `meshloop node` processes (127.0.0.1, free ports): readiness, topology, routes,
// incidents and the MAPE-K operator controls. A pinned action really moves a route and observe mode really undoes
// it and refuses new ones; an override with an expiry lapses on its own; bad requests get precise JSON errors
// (and are counted) while the node keeps serving; write routes need the token when one is configured; a node
// refuses to serve its API on a non-loopback address without one.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/exposition_text.h"
#include "common/http_send.h"
#include "common/wait_for.h"
#include "transport/local_mesh.h"
#include "transport/process.h"

namespace meshloop::transport {
namespace {

using meshloop::testing::exposition_value;
using meshloop::testing::wait_for;
using nlohmann::json;
using std::chrono::seconds;

struct Reply {
  int status = 0;
  std::string body;
  std::string allow;
  json j() const { return json::parse(body, nullptr, false); }
};

class NodeApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("MESHLOOP_BIN");
    ASSERT_NE(bin, nullptr) << "MESHLOOP_BIN must name the meshloop binary (ctest sets it)";
    bin_ = bin;
    dir_ = make_temp_dir("meshloop-api-it").value();
  }
  void TearDown() override {
    if (mesh_) mesh_->stop_all();
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }
  // A triangle 1-2-3 (so node 1 reaches 2 directly or via 3), plus `alone` nodes without peers.
  void plan(std::vector<std::string> extra_args = {}, bool triangle = true) {
    LocalMesh::Options o;
    o.binary = bin_;
    o.work_dir = dir_;
    o.key = "api-key";
    o.extra_args = std::move(extra_args);
    mesh_ = std::make_unique<LocalMesh>(o);
    for (mesh::NodeId id = 1; id <= (triangle ? 3u : 1u); ++id) ASSERT_TRUE(mesh_->add_node(id).ok());
    if (triangle) {
      ASSERT_TRUE(mesh_->link(1, 2).ok());
      ASSERT_TRUE(mesh_->link(2, 3).ok());
      ASSERT_TRUE(mesh_->link(1, 3).ok());
    }
  }
  Reply send(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& auth = "", mesh::NodeId node = 1) {
    const auto r = testing::http_send(mesh_->node(node).http_port, method, path, body, auth);
    return Reply{r.status, r.body, r.allow};
  }
  Reply get(const std::string& path, mesh::NodeId node = 1) { return send("GET", path, "", "", node); }
  bool healthy(mesh::NodeId node = 1) { return get("/healthz", node).status == 200; }
  // Node 1's next hop towards `dst` (0 when it has no route).
  mesh::NodeId next_hop(mesh::NodeId dst) {
    auto r = get("/api/v1/routes").j();
    if (r.is_discarded() || !r.contains("routes")) return 0;
    for (const auto& x : r["routes"]) {
      if (x["destination"] == dst && x["next_hop"].is_number()) return x["next_hop"].get<mesh::NodeId>();
    }
    return 0;
  }
  static std::string error_code(const Reply& r) {
    auto j = r.j();
    if (j.is_discarded() || !j.contains("error")) return "(not a JSON error: " + r.body + ")";
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty()) << r.body;
    return j["error"]["code"].get<std::string>();
  }
  void start_triangle_and_wait() {
    ASSERT_TRUE(mesh_->start_all().ok());
    ASSERT_TRUE(wait_for([&] { return next_hop(2) == 2 && next_hop(3) == 3; }, seconds(20)))
        << get("/api/v1/routes").body;
  }

  std::string bin_, dir_;
  std::unique_ptr<LocalMesh> mesh_;
};

TEST_F(NodeApiTest, ReadinessTopologyRoutesIncidentsAndMapekDescribeTheRunningNode) {
  plan();
  ASSERT_TRUE(mesh_->add_node(9).ok());  // configured alone: ready without neighbours
  ASSERT_TRUE(mesh_->start(1).ok());
  ASSERT_TRUE(mesh_->start(9).ok());
  ASSERT_TRUE(wait_for([&] { return healthy(1) && healthy(9); }, seconds(20)));
  Reply r = get("/readyz");
  EXPECT_EQ(r.status, 503) << r.body;  // its peers are not running yet
  EXPECT_EQ(error_code(r), "not_ready");
  EXPECT_EQ(get("/readyz", 9).status, 200);

  ASSERT_TRUE(mesh_->start(2).ok());
  ASSERT_TRUE(mesh_->start(3).ok());
  EXPECT_TRUE(wait_for([&] { return get("/readyz").status == 200; }, seconds(20)));
  ASSERT_TRUE(wait_for([&] { return next_hop(2) == 2 && next_hop(3) == 3; }, seconds(20)));

  // The whole mesh from node 1's database: three nodes up, three links up.
  ASSERT_TRUE(wait_for(
      [&] {
        auto t = get("/api/v1/topology").j();
        return !t.is_discarded() && t["nodes"].size() == 3 && t["links"].size() == 3;
      },
      seconds(20)))
      << get("/api/v1/topology").body;
  json t = get("/api/v1/topology").j();
  EXPECT_EQ(t["observer"], 1);
  EXPECT_GT(t["time_s"].get<double>(), 1.6e9);
  for (const auto& n : t["nodes"]) {
    EXPECT_NE(n["health"], "down") << t.dump();
    EXPECT_EQ(n["neighbours"], 2) << t.dump();
  }
  for (const auto& l : t["links"]) {
    EXPECT_EQ(l["up"], true);
    EXPECT_GT(l["cost"].get<double>(), 0);
    EXPECT_GE(l["quality"].get<double>(), 0);
    EXPECT_LE(l["quality"].get<double>(), 1);
  }

  json routes = get("/api/v1/routes").j();
  ASSERT_EQ(routes["routes"].size(), 2u) << routes.dump();
  for (const auto& x : routes["routes"]) EXPECT_TRUE(x["backups"].is_array()) << x.dump();

  r = get("/api/v1/incidents?limit=5");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.j()["incidents"].is_array());
  EXPECT_EQ(error_code(get("/api/v1/incidents?limit=0")), "invalid_argument");
  EXPECT_EQ(get("/api/v1/incidents?limit=ten").status, 400);

  json m = get("/api/v1/mapek").j();
  EXPECT_EQ(m["mode"], "act");
  EXPECT_EQ(m["rate_limits"]["node_max_actions"], 4);
  EXPECT_EQ(m["detector"], "thresholds");
  EXPECT_TRUE(m["overrides"].is_array());
  // The loop ticks on real telemetry: windows are being analysed.
  EXPECT_TRUE(wait_for([&] { return get("/api/v1/mapek").j()["stats"]["windows"].get<int>() >= 1; }, seconds(20)));
}

TEST_F(NodeApiTest, APinMovesARouteAndObserveModeUndoesItAndRefusesNewPins) {
  plan();
  start_triangle_and_wait();
  const std::string pin = R"({"action":"raise_link_cost","element":"link 1-2"})";
  Reply r = send("POST", "/api/v1/mapek/overrides", pin);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.j()["override"]["action"], "raise_link_cost");
  // Cost 4 x 100 on 1-2 against 100 + 100 via 3: node 1 now reaches 2 through 3.
  EXPECT_TRUE(wait_for([&] { return next_hop(2) == 3; }, seconds(10))) << get("/api/v1/routes").body;

  r = send("PUT", "/api/v1/mapek/mode", R"({"mode":"observe"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.j()["mode"], "observe");
  EXPECT_TRUE(r.j()["active_actions"].empty()) << r.body;
  EXPECT_TRUE(wait_for([&] { return next_hop(2) == 2; }, seconds(10))) << get("/api/v1/routes").body;

  r = send("POST", "/api/v1/mapek/overrides", pin);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(error_code(r), "failed_precondition");
  EXPECT_TRUE(get("/api/v1/mapek").j()["active_actions"].empty());
  EXPECT_EQ(next_hop(2), 2);
  EXPECT_EQ(exposition_value(get("/metrics").body, "meshloop_mapek_mode", {{"mode", "observe"}}), 1.0);

  ASSERT_EQ(send("PUT", "/api/v1/mapek/mode", R"({"mode":"act"})").status, 200);
  ASSERT_EQ(send("POST", "/api/v1/mapek/overrides", pin).status, 201);
  EXPECT_TRUE(wait_for([&] { return next_hop(2) == 3; }, seconds(10)));
}

TEST_F(NodeApiTest, AnOverrideWithAnExpiryLapsesAndOneWithoutIsDeletedById) {
  plan();
  start_triangle_and_wait();
  Reply r =
      send("POST", "/api/v1/mapek/overrides", R"({"action":"raise_link_cost","element":"link 1-2","expires_in_s":2})");
  ASSERT_EQ(r.status, 201) << r.body;
  const int expiring = r.j()["override"]["id"];
  json listed = get("/api/v1/mapek/overrides").j()["overrides"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["id"], expiring);
  EXPECT_GT(listed[0]["expires_in_s"].get<double>(), 0);
  EXPECT_TRUE(wait_for([&] { return next_hop(2) == 3; }, seconds(10)));
  EXPECT_TRUE(wait_for([&] { return get("/api/v1/mapek/overrides").j()["overrides"].empty(); }, seconds(15)));
  EXPECT_TRUE(wait_for([&] { return next_hop(2) == 2; }, seconds(10))) << "the expired pin was not undone";
  EXPECT_EQ(send("DELETE", "/api/v1/mapek/overrides/" + std::to_string(expiring)).status, 404);

  r = send("POST", "/api/v1/mapek/overrides", R"({"action":"drain_link","element":"link 1-2"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const int drain = r.j()["override"]["id"];
  EXPECT_TRUE(r.j()["override"]["expires_in_s"].is_null());
  EXPECT_TRUE(wait_for([&] { return next_hop(2) == 3; }, seconds(10)));
  r = send("DELETE", "/api/v1/mapek/overrides/" + std::to_string(drain));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(wait_for([&] { return next_hop(2) == 2; }, seconds(10)));
  EXPECT_TRUE(get("/api/v1/mapek/overrides").j()["overrides"].empty());
}

// The loop itself on real telemetry: five nodes in a full mesh (so one link is a small share of a node's view),
// traffic 1 -> 2, 1 s windows; after the detector's warm-up, node 1's driver drops 25 % of the datagrams on its link
// to 2. `act`: node 1's loop diagnoses the link, acts on it and lists the incident. `observe`: the same incident is
// recorded as observed and nothing is applied (routing may still move on its own: the loss raises the link's ETX
// and now and then takes it down, so routes are not the measure here; the pin test above covers them).
class NodeLoopTest : public NodeApiTest {
 protected:
  void run_lossy_link(const std::string& mode) {
    plan({"--mapek-window", "1s", "--mapek-interval", "250ms", "--mapek-mode", mode}, false);
    for (mesh::NodeId id = 2; id <= 5; ++id) ASSERT_TRUE(mesh_->add_node(id).ok());
    for (mesh::NodeId a = 1; a <= 5; ++a) {
      for (mesh::NodeId b = a + 1; b <= 5; ++b) ASSERT_TRUE(mesh_->link(a, b).ok());
    }
    mesh_->add_traffic(1, TrafficSpec{2, 100});
    ASSERT_TRUE(mesh_->start_all().ok());
    ASSERT_TRUE(wait_for([&] { return next_hop(2) == 2; }, seconds(20)));
    // Warm-up: the thresholds learn the healthy baseline first.
    ASSERT_TRUE(wait_for([&] { return get("/api/v1/mapek").j()["stats"]["windows"].get<int>() >= 5; }, seconds(20)));
    ASSERT_EQ(send("POST", "/api/v1/faults/drop", R"({"peer":2,"loss":0.25})").status, 200);
  }
  // The newest incident of node 1's loop on link 1-2, once there is one.
  json incident() {
    const json all = get("/api/v1/incidents").j();
    if (all.is_discarded() || !all.contains("incidents")) return nullptr;
    for (const auto& i : all["incidents"]) {
      if (i["element"] == "link 1-2") return i;
    }
    return nullptr;
  }
};

TEST_F(NodeLoopTest, ActsOnADegradedLinkAndListsTheIncident) {
  run_lossy_link("act");
  ASSERT_TRUE(wait_for([&] { return !incident().is_null(); }, seconds(30)))
      << get("/api/v1/mapek").body << "\nlogs in " << dir_;
  const json i = incident();
  EXPECT_EQ(i["node"], 1);
  EXPECT_EQ(i["mode"], "act");
  EXPECT_NE(i["action"], "none");
  EXPECT_FALSE(i["reason"].get<std::string>().empty());
  EXPECT_TRUE(i["diagnosis"] == "degrading_link" || i["diagnosis"] == "flapping_link") << i.dump();
  const std::string outcome = i["outcome"];
  EXPECT_TRUE(outcome == "pending" || outcome == "recovered" || outcome == "rolled_back") << i.dump();
  // Decisions are counted too.
  EXPECT_TRUE(wait_for(
      [&] {
        const std::string m = get("/metrics").body;
        const auto n = exposition_value(
            m, "meshloop_mapek_decisions_total",
            {{"diagnosis", i["diagnosis"].get<std::string>()}, {"action", i["action"].get<std::string>()}});
        return n.value_or(0) >= 1;
      },
      seconds(5)));
}

TEST_F(NodeLoopTest, InObserveModeRecordsTheIncidentButAppliesNothing) {
  run_lossy_link("observe");
  ASSERT_TRUE(wait_for([&] { return !incident().is_null(); }, seconds(30)))
      << get("/api/v1/mapek").body << "\nlogs in " << dir_;
  const json i = incident();
  EXPECT_EQ(i["mode"], "observe");
  EXPECT_EQ(i["outcome"], "observed");
  EXPECT_NE(i["action"], "none");
  EXPECT_TRUE(get("/api/v1/mapek").j()["active_actions"].empty());
  const std::string metrics = get("/metrics").body;
  EXPECT_GE(
      exposition_value(metrics, "meshloop_mapek_decisions_total",
                       {{"diagnosis", i["diagnosis"].get<std::string>()}, {"action", i["action"].get<std::string>()}})
          .value_or(0),
      1);
  EXPECT_EQ(exposition_value(metrics, "meshloop_mapek_actions_pending").value_or(-1), 0);
}

TEST_F(NodeApiTest, BadRequestsGetPreciseJsonErrorsAndTheNodeKeepsServing) {
  plan({}, false);
  ASSERT_TRUE(mesh_->start_all().ok());
  ASSERT_TRUE(wait_for([&] { return healthy(); }, seconds(20)));
  struct Case {
    std::string method, path, body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"PUT", "/api/v1/mapek/mode", R"({"mode": "obs)", 400, "invalid_argument"},
      {"PUT", "/api/v1/mapek/mode", R"({"mode": "chaos"})", 400, "invalid_argument"},
      {"PUT", "/api/v1/mapek/mode", "", 400, "invalid_argument"},
      {"POST", "/api/v1/mapek/overrides", "{not json", 400, "invalid_argument"},
      {"POST", "/api/v1/mapek/overrides", R"({"action":"reboot","element":"link 1-2"})", 400, "invalid_argument"},
      {"POST", "/api/v1/mapek/overrides", R"({"action":"drain_link","element":"link 7-8"})", 400, "invalid_argument"},
      {"POST", "/api/v1/mapek/overrides", std::string(70 * 1024, 'x'), 413, "payload_too_large"},
      {"DELETE", "/api/v1/mapek/overrides/abc", "", 400, "invalid_argument"},
      {"DELETE", "/api/v1/mapek/overrides/", "", 400, "invalid_argument"},
      {"DELETE", "/api/v1/mapek/overrides/999", "", 404, "not_found"},
      {"GET", "/api/v1/nothing-here", "", 404, "not_found"},
      {"GET", "/api/v2/topology", "", 404, "not_found"},
      {"GET", "/api/v1/mapek/mode", "", 405, "method_not_allowed"},
      {"DELETE", "/api/v1/topology", "", 405, "method_not_allowed"},
      {"POST", "/readyz", "{}", 405, "method_not_allowed"},
  };
  for (const Case& c : cases) {
    const Reply r = send(c.method, c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path << ": " << r.body;
    EXPECT_EQ(error_code(r), c.code) << c.method << " " << c.path;
    ASSERT_TRUE(healthy()) << "the node stopped serving after " << c.method << " " << c.path;
  }
  EXPECT_EQ(send("GET", "/api/v1/mapek/mode").allow, "PUT");
  // Counted: every refusal is in the request metrics by route and code.
  const std::string metrics = get("/metrics").body;
  EXPECT_EQ(exposition_value(metrics, "meshloop_http_requests_total",
                             {{"route", "/api/v1/mapek/overrides"}, {"code", "400"}}),
            3.0)
      << metrics.substr(0, 4000);
  EXPECT_EQ(get("/api/v1/mapek").j()["mode"], "act");  // nothing bad got through
}

TEST_F(NodeApiTest, WriteRoutesNeedTheConfiguredTokenAndReadRoutesDoNot) {
  plan({"--api-token", "s3cret-token"}, false);
  ASSERT_TRUE(mesh_->start_all().ok());
  ASSERT_TRUE(wait_for([&] { return healthy(); }, seconds(20)));
  const std::string mode = R"({"mode":"paused"})";
  Reply r = send("PUT", "/api/v1/mapek/mode", mode);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(error_code(r), "unauthenticated");
  r = send("PUT", "/api/v1/mapek/mode", mode, "Bearer wrong-token");
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(send("POST", "/api/v1/mapek/overrides", R"({"action":"clear","element":"node 1"})", "Bearer x").status,
            401);
  EXPECT_EQ(send("DELETE", "/api/v1/mapek/overrides/1", "", "Basic czNjcmV0").status, 401);
  ASSERT_TRUE(healthy());
  EXPECT_EQ(get("/api/v1/mapek").j()["mode"], "act");  // none of them got through
  r = send("PUT", "/api/v1/mapek/mode", mode, "Bearer s3cret-token");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(get("/api/v1/mapek").j()["mode"], "paused");
  for (const char* path : {"/readyz", "/api/v1/topology", "/api/v1/routes", "/api/v1/incidents", "/api/v1/mapek"}) {
    EXPECT_EQ(get(path).status, 200) << path;
  }
}

TEST_F(NodeApiTest, RefusesToServeTheApiOnANonLoopbackAddressWithoutAToken) {
  const std::string log = dir_ + "/refused.log";
  SpawnOptions o;
  o.argv = {bin_, "node", "--id", "1", "--listen", "127.0.0.1:0", "--http-listen", "0.0.0.0:0"};
  o.output_path = log;
  auto child = ChildProcess::spawn(o);
  ASSERT_TRUE(child.ok());
  auto status = child->wait_for(std::chrono::milliseconds(10000));
  ASSERT_TRUE(status.has_value()) << "the node did not exit";
  EXPECT_EQ(describe_wait_status(*status), "exit 2");
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("api.token"), std::string::npos) << ss.str();
  EXPECT_NE(ss.str().find("0.0.0.0"), std::string::npos) << ss.str();
}

}  // namespace
}  // namespace meshloop::transport
