// The node API's pure parts: override and mode requests checked field by field, and the topology, routes and
// readiness views built from a driver snapshot (the JSON shapes the status page relies on).
#include <gtest/gtest.h>

#include "api/mapek_routes.h"
#include "api/node_routes.h"

namespace meshloop::api {
namespace {

using nlohmann::json;

TEST(ParseOverride, AcceptsAPinAClearAndAnExpiry) {
  auto r = parse_override(R"({"action":"raise_link_cost","element":"link 1-2","expires_in_s":2.5})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->element, mapek::Element::link(2, 1));
  EXPECT_EQ(r->pin, mapek::ActionKind::kRaiseLinkCost);
  EXPECT_EQ(r->expires_in_s, 2.5);
  r = parse_override(R"({"action":"clear","element":"node 4"})");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->pin.has_value());
  EXPECT_FALSE(r->expires_in_s.has_value());
}

TEST(ParseOverride, RefusesEachMalformedFieldByName) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"action":"raise_link_cost")", "not valid JSON"},
      {R"([1,2])", "JSON object"},
      {R"({"element":"link 1-2"})", "'action'"},
      {R"({"action":"reboot","element":"link 1-2"})", "unknown action 'reboot'"},
      {R"({"action":"clear"})", "'element'"},
      {R"({"action":"clear","element":"link 3-3"})", "'element'"},
      {R"({"action":"clear","element":"router five"})", "'element'"},
      {R"({"action":"clear","element":7})", "'element'"},
      {R"({"action":"clear","element":"node 1","expires_in_s":-1})", "'expires_in_s'"},
      {R"({"action":"clear","element":"node 1","expires_in_s":"soon"})", "'expires_in_s'"},
      {R"({"action":"clear","element":"node 1","colour":"red"})", "unknown field 'colour'"},
  };
  for (const auto& [body, expect] : cases) {
    auto r = parse_override(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << body;
    EXPECT_NE(r.status().message().find(expect), std::string::npos) << body << " -> " << r.status().message();
  }
}

TEST(ParseModeRequest, AcceptsTheThreeModesOnly) {
  EXPECT_EQ(*parse_mode_request(R"({"mode":"observe"})"), mapek::Mode::kObserve);
  EXPECT_EQ(*parse_mode_request(R"({"mode":"paused"})"), mapek::Mode::kPaused);
  EXPECT_EQ(*parse_mode_request(R"({"mode":"act"})"), mapek::Mode::kAct);
  for (const char* body : {R"({"mode":"chaos"})", R"({"mode":1})", "{}", "mode=act", R"({"mode":"act","x":1})"}) {
    EXPECT_EQ(parse_mode_request(body).status().code(), StatusCode::kInvalidArgument) << body;
  }
}

transport::DriverSnapshot triangle() {
  // Node 1, neighbours 2 (up, 20 % hello loss inbound) and 3 (down); node 4 beyond 2.
  transport::DriverSnapshot s;
  s.id = 1;
  s.now_unix_us = 1'700'000'000'500'000;
  s.peers.resize(2);
  s.telemetry.neighbours = {mesh::NeighbourInfo{2, 0, true, 0.8, 1.0, 1.25, 0.001, 125, kTimeZero},
                            mesh::NeighbourInfo{3, 1, false, 0, 0, 20, 0, mesh::kInfiniteCost, kTimeZero}};
  s.topology = {{1, 2, 125}, {2, 1, 110}, {2, 4, 200}, {4, 2, 200}};
  s.routes = {mesh::RouteInfo{2, 2, 125, {}, false}, mesh::RouteInfo{4, 2, 325, {3, 4}, true}};
  return s;
}

TEST(TopologyJson, DescribesTheMeshFromTheDatabaseWithMeasuredQualityOnOwnLinks) {
  const json t = topology_json(triangle());
  EXPECT_EQ(t["observer"], 1);
  EXPECT_DOUBLE_EQ(t["time_s"].get<double>(), 1'700'000'000.5);
  std::map<int, json> nodes;
  for (const auto& n : t["nodes"]) nodes[n["id"].get<int>()] = n;
  ASSERT_EQ(nodes.size(), 4u) << t.dump();
  EXPECT_EQ(nodes[1]["health"], "degraded");  // one of its links is down
  EXPECT_EQ(nodes[2]["health"], "degraded");  // its link to us delivers 80 %
  EXPECT_EQ(nodes[3]["health"], "down");      // known, absent from the database
  EXPECT_EQ(nodes[4]["health"], "up");
  EXPECT_EQ(nodes[2]["neighbours"], 2);
  EXPECT_EQ(nodes[1]["neighbours"], 1);
  ASSERT_EQ(t["links"].size(), 3u) << t.dump();
  for (const auto& l : t["links"]) {
    for (const char* key : {"a", "b", "up", "cost", "quality"}) EXPECT_TRUE(l.contains(key)) << l.dump();
    const int a = l["a"], b = l["b"];
    EXPECT_LT(a, b);
    if (a == 1 && b == 2) {
      EXPECT_EQ(l["up"], true);
      EXPECT_EQ(l["cost"], 125);  // the larger direction
      EXPECT_DOUBLE_EQ(l["quality"].get<double>(), 0.8);
    } else if (a == 1 && b == 3) {
      EXPECT_EQ(l["up"], false);
      EXPECT_DOUBLE_EQ(l["quality"].get<double>(), 0.0);
    } else {
      EXPECT_EQ(a, 2);
      EXPECT_EQ(b, 4);
      EXPECT_DOUBLE_EQ(l["quality"].get<double>(), 0.5);  // estimated from cost 200
    }
  }
}

TEST(RoutesJson, ListsThePrimaryNextHopAndTheBackups) {
  const json r = routes_json(triangle());
  ASSERT_EQ(r["routes"].size(), 2u);
  EXPECT_EQ(r["routes"][1]["destination"], 4);
  EXPECT_EQ(r["routes"][1]["next_hop"], 2);
  EXPECT_EQ(r["routes"][1]["backups"], json::array({3}));
  EXPECT_EQ(r["routes"][1]["backup_path"], json::array({3, 4}));
  EXPECT_EQ(r["routes"][0]["backups"], json::array());
}

TEST(Readiness, ReadyWithAnUpNeighbourOrAloneElseUnavailableWithAReason) {
  auto s = triangle();
  EXPECT_EQ(readiness(s).status, 200);
  s.telemetry.neighbours[0].up = false;
  const Response r = readiness(s);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "not_ready");
  EXPECT_NE(json::parse(r.body)["error"]["message"].get<std::string>().find("0 of 2"), std::string::npos);
  s.peers.clear();
  s.telemetry.neighbours.clear();
  EXPECT_EQ(readiness(s).status, 200);
}

}  // namespace
}  // namespace meshloop::api
