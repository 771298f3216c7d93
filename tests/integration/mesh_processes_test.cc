// Real `meshloop node` processes on 127.0.0.1: six in a ring with chords, traffic 1 -> 3 at 50 packets/s,
// hello 100 ms x 3. Kill the node on the path, or cut the link to it at the driver, and measure from node 3's
// delivery statistics how long the flow paused; a seventh node with the wrong mesh key must stay a stranger.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "api/client.h"
#include "transport/local_mesh.h"
#include "transport/udp_driver.h"

namespace meshloop::transport {
namespace {

using nlohmann::json;
using mesh::NodeId;

constexpr NodeId kSrc = 1;
constexpr NodeId kDst = 3;  // two hops from 1 by three node-disjoint paths (via 2, 4 or 6)
constexpr double kRate = 50;
constexpr std::int64_t kRecoveryBoundUs = 3'000'000;  // generous: detection is 300 ms, failover immediate

class MeshProcessesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("MESHLOOP_BIN");
    ASSERT_NE(bin, nullptr) << "MESHLOOP_BIN must name the meshloop binary (ctest sets it)";
    auto dir = make_temp_dir("meshloop-it");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    LocalMesh::Options o;
    o.binary = bin;
    o.work_dir = dir_;
    o.hello_interval = milliseconds(100);
    o.dead_multiplier = 3;
    o.key = "integration-key";
    o.log_level = "debug";
    mesh_ = std::make_unique<LocalMesh>(o);
  }
  void TearDown() override {
    mesh_->stop_all();
    if (HasFailure()) {
      std::cout << "node logs kept in " << dir_ << "\n";
    } else {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // Plans 1..6 in a ring with chords, plus `extra` nodes linked as given.
  void plan(const std::vector<std::pair<NodeId, NodeId>>& extra_links = {}, int extra_nodes = 0) {
    for (NodeId id = 1; id <= static_cast<NodeId>(6 + extra_nodes); ++id) ASSERT_TRUE(mesh_->add_node(id).ok());
    for (auto [a, b] : ring_with_chords(6)) ASSERT_TRUE(mesh_->link(a, b).ok());
    for (auto [a, b] : extra_links) ASSERT_TRUE(mesh_->link(a, b).ok());
    mesh_->add_traffic(kSrc, TrafficSpec{kDst, kRate});
  }

  std::optional<json> status(NodeId id) {
    auto s = api::get_status("127.0.0.1", mesh_->node(id).http_port, std::chrono::milliseconds(1000));
    if (!s.ok()) return std::nullopt;
    return *s;
  }
  std::optional<json> flow_stats(NodeId dst, NodeId src) {
    auto s = status(dst);
    if (!s) return std::nullopt;
    for (const auto& f : (*s)["traffic"]["receiving"]) {
      if (f["origin"] == src) return f;
    }
    return std::nullopt;
  }
  NodeId next_hop(NodeId at, NodeId dst) {
    auto s = status(at);
    if (!s) return mesh::kNoNode;
    for (const auto& r : (*s)["routes"]) {
      if (r["destination"] == dst && !r["next_hop"].is_null()) return r["next_hop"].get<NodeId>();
    }
    return mesh::kNoNode;
  }

  // Waits until the flow kSrc -> kDst has delivered steadily for a second.
  bool wait_for_flow(std::chrono::seconds timeout = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto f = flow_stats(kDst, kSrc);
      if (f && unix_now_us() - (*f)["last_arrival_unix_us"].get<std::int64_t>() < 200'000 &&
          unix_now_us() - (*f)["first_arrival_unix_us"].get<std::int64_t>() > 1'000'000) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  // The longest delivery gap of kSrc -> kDst ending after `fault_us`, once the flow delivers again; nullopt if it
  // does not within 10 s.
  std::optional<std::int64_t> recovery_after(std::int64_t fault_us) {
    while (unix_now_us() < fault_us + 10'000'000) {
      auto f = flow_stats(kDst, kSrc);
      if (f) {
        const std::int64_t interval = (*f)["interval_us"].get<std::int64_t>();
        const std::int64_t last = (*f)["last_arrival_unix_us"].get<std::int64_t>();
        std::int64_t worst = 0;
        for (const auto& g : (*f)["recent_gaps"]) {
          if (g["end_unix_us"].get<std::int64_t>() > fault_us) {
            worst = std::max(worst, g["end_unix_us"].get<std::int64_t>() - g["start_unix_us"].get<std::int64_t>());
          }
        }
        const bool flowing = last > fault_us && unix_now_us() - last < 3 * interval;
        if (flowing && (worst > 0 || unix_now_us() > fault_us + 2'000'000)) return worst;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::nullopt;
  }

  std::string dir_;
  std::unique_ptr<LocalMesh> mesh_;
};

TEST_F(MeshProcessesTest, TrafficResumesWithinBoundWhenTheNodeOnItsPathIsKilled) {
  plan();
  ASSERT_TRUE(mesh_->start_all().ok());
  ASSERT_TRUE(wait_for_flow()) << "flow 1 -> 3 never delivered steadily";
  const NodeId victim = next_hop(kSrc, kDst);
  ASSERT_TRUE(victim == 2 || victim == 4 || victim == 6) << "next hop " << victim;
  const std::int64_t fault = unix_now_us();
  mesh_->kill(victim, SIGKILL);
  auto outage = recovery_after(fault);
  ASSERT_TRUE(outage.has_value()) << "flow 1 -> 3 did not resume within 10 s of killing node " << victim;
  std::cout << "[measured] node " << victim << " killed: flow 1->3 delivery gap " << *outage / 1000 << " ms\n";
  RecordProperty("recovery_ms", static_cast<int>(*outage / 1000));
  EXPECT_LT(*outage, kRecoveryBoundUs);
  const NodeId now_via = next_hop(kSrc, kDst);
  EXPECT_NE(now_via, victim);
  EXPECT_NE(now_via, mesh::kNoNode);
}

TEST_F(MeshProcessesTest, TrafficResumesWithinBoundWhenTheLinkOnItsPathIsCut) {
  plan();
  ASSERT_TRUE(mesh_->start_all().ok());
  ASSERT_TRUE(wait_for_flow()) << "flow 1 -> 3 never delivered steadily";
  const NodeId via = next_hop(kSrc, kDst);
  ASSERT_TRUE(via == 2 || via == 4 || via == 6) << "next hop " << via;
  const std::int64_t fault = unix_now_us();
  ASSERT_TRUE(api::set_drop("127.0.0.1", mesh_->node(kSrc).http_port, std::to_string(via), true).ok());
  auto outage = recovery_after(fault);
  ASSERT_TRUE(outage.has_value()) << "flow 1 -> 3 did not resume within 10 s of cutting link 1-" << via;
  std::cout << "[measured] link 1-" << via << " cut: flow 1->3 delivery gap " << *outage / 1000 << " ms\n";
  RecordProperty("recovery_ms", static_cast<int>(*outage / 1000));
  EXPECT_LT(*outage, kRecoveryBoundUs);
  EXPECT_NE(next_hop(kSrc, kDst), via);
  // Node 1 sees the neighbour down; the other end, which drops nothing, notices by silence too.
  auto s1 = status(kSrc);
  ASSERT_TRUE(s1.has_value());
  for (const auto& n : (*s1)["neighbours"]) {
    if (n["id"] == via) {
      EXPECT_EQ(n["state"], "down");
    }
  }
  EXPECT_GT((*s1)["counters"]["driver"]["dropped_fault_in"].get<std::uint64_t>(), 0u);
  // Heal: the neighbour comes back.
  ASSERT_TRUE(api::set_drop("127.0.0.1", mesh_->node(kSrc).http_port, to_string(mesh_->node(via).udp), false).ok());
  bool back = false;
  for (int i = 0; i < 50 && !back; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto s = status(kSrc);
    for (const auto& n : s ? (*s)["neighbours"] : json::array()) back = back || (n["id"] == via && n["state"] == "up");
  }
  EXPECT_TRUE(back) << "link 1-" << via << " did not come back after the heal";
}

TEST_F(MeshProcessesTest, ANodeWithTheWrongMeshKeyIsIgnored) {
  constexpr NodeId kIntruder = 7;
  plan({{kIntruder, 1}, {kIntruder, 2}}, /*extra_nodes=*/1);
  mesh_->set_key(kIntruder, "not-the-mesh-key");
  ASSERT_TRUE(mesh_->start_all().ok());
  ASSERT_TRUE(wait_for_flow()) << "the six honest nodes should still carry traffic";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (NodeId honest : {NodeId{1}, NodeId{2}}) {
    auto s = status(honest);
    ASSERT_TRUE(s.has_value());
    for (const auto& n : (*s)["neighbours"]) {
      EXPECT_NE(n["id"], kIntruder) << "node " << honest << " lists the intruder as a neighbour";
    }
    for (const auto& r : (*s)["routes"]) EXPECT_NE(r["destination"], kIntruder);
    EXPECT_GT((*s)["counters"]["rejected_unauthenticated"].get<std::uint64_t>(), 0u)
        << "node " << honest << " should count the intruder's packets as unauthenticated";
  }
  auto intruder = status(kIntruder);
  ASSERT_TRUE(intruder.has_value());
  for (const auto& n : (*intruder)["neighbours"]) EXPECT_NE(n["state"], "up");
  EXPECT_TRUE((*intruder)["routes"].empty());
  EXPECT_GT((*intruder)["counters"]["rejected_unauthenticated"].get<std::uint64_t>(), 0u);
  auto nodes3 = status(3);
  ASSERT_TRUE(nodes3.has_value());
  for (const auto& r : (*nodes3)["routes"]) EXPECT_NE(r["destination"], kIntruder);
}

}  // namespace
}  // namespace meshloop::transport
