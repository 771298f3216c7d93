// Every `meshloop node` serves the knowledge base on its one HTTP server: a real node process starts with the
// runbooks, takes a document over POST /api/v1/kb/documents, finds it again through POST /api/v1/kb/query, keeps it
// across a restart when given a file, and answers malformed, oversized and wrong-method requests with a JSON error
// while it keeps serving.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/client.h"
#include "common/http_send.h"
#include "common/wait_for.h"
#include "transport/local_mesh.h"

namespace meshloop::transport {
namespace {

using meshloop::testing::wait_for;

using nlohmann::json;

class NodeKbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("MESHLOOP_BIN");
    ASSERT_NE(bin, nullptr) << "MESHLOOP_BIN must name the meshloop binary (ctest sets it)";
    dir_ = make_temp_dir("meshloop-kb-it").value();
    LocalMesh::Options o;
    o.binary = bin;
    o.work_dir = dir_;
    o.key = "kb-key";
    o.extra_args = {"--kb", dir_ + "/node.mlkb"};
    mesh_ = std::make_unique<LocalMesh>(o);
    ASSERT_TRUE(mesh_->add_node(1).ok());
  }
  void TearDown() override {
    mesh_->stop_all();
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }
  // Sends a request with any method and body; the reply (status 0 when there was none).
  std::pair<int, std::string> send(const std::string& method, const std::string& path, const std::string& body = "") {
    const auto r = testing::http_send(mesh_->node(1).http_port, method, path, body);
    return {r.status, r.body};
  }
  bool kb_ready() { return send("GET", "/api/v1/kb/stats").first == 200; }
  static std::string error_code(const std::string& body) {
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.contains("error") || !j["error"].contains("code"))
      return "(not a JSON error: " + body + ")";
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty()) << body;
    return j["error"]["code"].get<std::string>();
  }

  std::string dir_;
  std::unique_ptr<LocalMesh> mesh_;
};

TEST_F(NodeKbTest, AddsADocumentAndFindsItAgainEvenAfterARestart) {
  ASSERT_TRUE(mesh_->start_all().ok());
  ASSERT_TRUE(wait_for([&] { return kb_ready(); }, std::chrono::seconds(20)));
  // A new store starts with the runbooks, as `meshloop kb` does.
  auto stats = json::parse(send("GET", "/api/v1/kb/stats").second);
  EXPECT_GT(stats["documents_by_kind"].value("runbook", 0), 0) << stats.dump();

  const auto added = send("POST", "/api/v1/kb/documents", R"({"documents":[{"id":"inc-42",
      "title":"Gray hole at node 12","text":"node 12 kept its hellos but silently dropped forwarded data packets",
      "kind":"incident","node":"node-12","time":1700000000,"tags":["gray-hole"]}]})");
  ASSERT_EQ(added.first, 200) << added.second;
  EXPECT_EQ(json::parse(added.second)["added"], 1);

  const std::string query = R"({"query":"which node drops forwarded data while hellos continue","k":3})";
  auto q = send("POST", "/api/v1/kb/query", query);
  ASSERT_EQ(q.first, 200) << q.second;
  auto results = json::parse(q.second)["results"];
  ASSERT_FALSE(results.empty()) << q.second;
  EXPECT_EQ(results[0]["doc_id"], "inc-42") << q.second;
  EXPECT_EQ(results[0]["node"], "node-12");
  // Filters reach the store too.
  q = send("POST", "/api/v1/kb/query", R"({"query":"dropped data","filter":{"kind":"runbook"}})");
  ASSERT_EQ(q.first, 200) << q.second;
  for (const auto& r : json::parse(q.second)["results"]) EXPECT_EQ(r["kind"], "runbook");

  // Saved after the add: a restarted node serves it from the file.
  mesh_->kill(1, SIGTERM);
  ASSERT_TRUE(std::filesystem::exists(dir_ + "/node.mlkb"));
  ASSERT_TRUE(mesh_->start(1).ok());
  ASSERT_TRUE(wait_for([&] { return kb_ready(); }, std::chrono::seconds(20)));
  q = send("POST", "/api/v1/kb/query", query);
  ASSERT_EQ(q.first, 200) << q.second;
  ASSERT_FALSE(json::parse(q.second)["results"].empty());
  EXPECT_EQ(json::parse(q.second)["results"][0]["doc_id"], "inc-42") << q.second;
}

TEST_F(NodeKbTest, BadRequestsGetJsonErrorsAndTheNodeKeepsServing) {
  ASSERT_TRUE(mesh_->start_all().ok());
  ASSERT_TRUE(wait_for([&] { return kb_ready(); }, std::chrono::seconds(20)));

  auto r = send("POST", "/api/v1/kb/query", R"({"query": "unterminated)");
  EXPECT_EQ(r.first, 400);
  EXPECT_EQ(error_code(r.second), "invalid_argument");
  r = send("POST", "/api/v1/kb/documents", "{not json at all");
  EXPECT_EQ(r.first, 400);
  EXPECT_EQ(error_code(r.second), "invalid_argument");
  r = send("POST", "/api/v1/kb/query", R"({"query":"x","k":0})");
  EXPECT_EQ(r.first, 400) << r.second;
  r = send("POST", "/api/v1/kb/documents", R"({"documents":[{"id":"x","text":"t","colour":"blue"}]})");
  EXPECT_EQ(r.first, 400) << r.second;

  // Over the server's body limit (64 KiB), and over the per-request document count under it.
  const std::string huge = R"({"documents":[{"id":"big","text":")" + std::string(200 * 1024, 'a') + R"("}]})";
  r = send("POST", "/api/v1/kb/documents", huge);
  EXPECT_EQ(r.first, 413);
  EXPECT_EQ(error_code(r.second), "payload_too_large");
  std::string many = R"({"documents":[)";
  for (int i = 0; i < 1001; ++i)
    many += std::string(i ? "," : "") + R"({"id":"d)" + std::to_string(i) + R"(","text":"t"})";
  many += "]}";
  r = send("POST", "/api/v1/kb/documents", many);
  EXPECT_EQ(r.first, 413) << r.second.substr(0, 200);

  r = send("GET", "/api/v1/kb/query");
  EXPECT_EQ(r.first, 405);
  EXPECT_EQ(error_code(r.second), "method_not_allowed");
  r = send("DELETE", "/api/v1/kb/documents");
  EXPECT_EQ(r.first, 405);
  r = send("PUT", "/api/v1/kb/stats", "{}");
  EXPECT_EQ(r.first, 405);

  // Still serving, the KB and everything else; the store is unchanged by the refused requests.
  EXPECT_TRUE(mesh_->running(1));
  EXPECT_EQ(send("GET", "/healthz").first, 200);
  EXPECT_EQ(send("GET", "/metrics").first, 200);
  auto stats = json::parse(send("GET", "/api/v1/kb/stats").second);
  EXPECT_EQ(stats["documents"], stats["documents_by_kind"]["runbook"]) << stats.dump();
  r = send("POST", "/api/v1/kb/query", R"({"query":"neighbour flapping","k":1})");
  EXPECT_EQ(r.first, 200) << r.second;
}

// A node whose KB file is damaged keeps routing and serving; the KB routes say why they are unavailable.
TEST_F(NodeKbTest, ADamagedStoreIsReportedAndTheNodeRunsWithoutIt) {
  {
    std::ofstream f(dir_ + "/node.mlkb", std::ios::binary);
    f << "not a knowledge base file at all";
  }
  ASSERT_TRUE(mesh_->start_all().ok());
  ASSERT_TRUE(wait_for([&] { return send("GET", "/healthz").first == 200; }, std::chrono::seconds(10)));
  std::pair<int, std::string> r;
  ASSERT_TRUE(wait_for(
      [&] {
        r = send("POST", "/api/v1/kb/query", R"({"query":"x"})");
        return r.second.find("loading") == std::string::npos;
      },
      std::chrono::seconds(20)));
  EXPECT_EQ(r.first, 503);
  EXPECT_EQ(error_code(r.second), "unavailable");
  EXPECT_NE(r.second.find("corrupt"), std::string::npos) << r.second;
  EXPECT_EQ(send("GET", "/metrics").first, 200);
  EXPECT_TRUE(mesh_->running(1));
}

}  // namespace
}  // namespace meshloop::transport
