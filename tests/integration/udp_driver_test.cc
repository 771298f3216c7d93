// The UDP driver in-process: two real drivers on 127.0.0.1 (no child processes).
#include "transport/udp_driver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "api/client.h"
#include "api/node_routes.h"
#include "transport/process.h"

namespace meshloop::transport {
namespace {

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

bool neighbour_up(const UdpDriver& d, mesh::NodeId peer) {
  auto s = d.snapshot();
  if (!s.ok()) return false;
  for (const auto& n : s->telemetry.neighbours) {
    if (n.id == peer && n.up) return true;
  }
  return false;
}

class UdpDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_a_ = free_udp_port().value();
    port_b_ = free_udp_port().value();
  }
  DriverOptions options(mesh::NodeId id, std::uint16_t port, std::uint16_t peer_port) {
    DriverOptions o;
    o.id = id;
    o.listen = HostPort{"127.0.0.1", port};
    o.peers = {HostPort{"127.0.0.1", peer_port}};
    o.node.hello_interval = milliseconds(20);
    o.node.dead_multiplier = 3;
    o.node.mesh_key = "driver-test";
    return o;
  }
  std::uint16_t port_a_ = 0, port_b_ = 0;
};

TEST_F(UdpDriverTest, TwoDriversBecomeNeighboursAndDeliverTraffic) {
  auto oa = options(1, port_a_, port_b_);
  oa.traffic = {TrafficSpec{2, 100}};
  std::atomic<int> delivered{0};
  UdpDriver::Callbacks cb;
  cb.on_deliver = [&](const mesh::DeliverOutput& d) {
    if (d.origin == 1) ++delivered;
  };
  auto a = UdpDriver::create(oa);
  auto b = UdpDriver::create(options(2, port_b_, port_a_), cb);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  ASSERT_TRUE(b.ok()) << b.status().to_string();
  EXPECT_EQ((*a)->local_address().port, port_a_);
  (*a)->start();
  (*b)->start();
  EXPECT_TRUE(eventually([&] { return neighbour_up(**a, 2) && neighbour_up(**b, 1); }));
  EXPECT_TRUE(eventually([&] { return delivered.load() >= 10; }));
  auto snap = (*b)->snapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->receiving.size(), 1u);
  EXPECT_EQ(snap->receiving[0].origin, 1u);
  EXPECT_GE(snap->receiving[0].received, 10u);
  EXPECT_EQ(snap->peers[0].node, 1u);
  auto sa = (*a)->snapshot();
  ASSERT_TRUE(sa.ok());
  EXPECT_GE(sa->sending.at(0).sent, 10u);
  // The status JSON carries the same facts.
  const auto j = api::status_json(*snap);
  EXPECT_EQ(j["node"]["id"], 2);
  EXPECT_EQ(j["neighbours"][0]["state"], "up");
  EXPECT_EQ(j["traffic"]["receiving"][0]["origin"], 1);
}

TEST_F(UdpDriverTest, DropCutsTheLinkBothWaysUntilHealed) {
  auto a = UdpDriver::create(options(1, port_a_, port_b_));
  auto b = UdpDriver::create(options(2, port_b_, port_a_));
  ASSERT_TRUE(a.ok() && b.ok());
  (*a)->start();
  (*b)->start();
  ASSERT_TRUE(eventually([&] { return neighbour_up(**a, 2) && neighbour_up(**b, 1); }));
  EXPECT_EQ((*a)->resolve_peer("2").value(), 0u);
  EXPECT_EQ((*a)->resolve_peer("127.0.0.1:" + std::to_string(port_b_)).value(), 0u);
  EXPECT_FALSE((*a)->resolve_peer("9").ok());
  EXPECT_FALSE((*a)->set_drop(5, true).ok());
  ASSERT_TRUE((*a)->set_drop(0, true).ok());
  // Only A drops, yet both sides lose the neighbour: A sends nothing and hears nothing.
  EXPECT_TRUE(eventually([&] { return !neighbour_up(**a, 2) && !neighbour_up(**b, 1); }));
  auto snap = (*a)->snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_GT(snap->driver.dropped_fault_in, 0u);
  EXPECT_GT(snap->driver.dropped_fault_out, 0u);
  EXPECT_TRUE(snap->peers[0].dropping);
  ASSERT_TRUE((*a)->set_drop(0, false).ok());
  EXPECT_TRUE(eventually([&] { return neighbour_up(**a, 2) && neighbour_up(**b, 1); }));
}

TEST_F(UdpDriverTest, LossDropsAShareOfTheLinksDatagramsUntilRestored) {
  auto a = UdpDriver::create(options(1, port_a_, port_b_));
  auto b = UdpDriver::create(options(2, port_b_, port_a_));
  ASSERT_TRUE(a.ok() && b.ok());
  (*a)->start();
  (*b)->start();
  ASSERT_TRUE(eventually([&] { return neighbour_up(**a, 2) && neighbour_up(**b, 1); }));
  EXPECT_EQ((*a)->set_loss(0, 1.5).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*a)->set_loss(5, 0.1).code(), StatusCode::kNotFound);
  ASSERT_TRUE((*a)->set_loss(0, 0.5).ok());
  // B hears about half of A's hellos, and A drops about half of B's on arrival.
  EXPECT_TRUE(eventually([&] {
    auto s = (*b)->snapshot();
    return s.ok() && !s->telemetry.neighbours.empty() && s->telemetry.neighbours[0].delivery_ratio_in < 0.8;
  }));
  auto snap = (*a)->snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_GT(snap->driver.dropped_fault_in, 0u);
  EXPECT_GT(snap->driver.dropped_fault_out, 0u);
  EXPECT_DOUBLE_EQ(snap->peers[0].loss, 0.5);
  EXPECT_FALSE(snap->peers[0].dropping);
  ASSERT_TRUE((*a)->set_loss(0, 0).ok());
  EXPECT_TRUE(eventually([&] {
    auto s = (*b)->snapshot();
    return s.ok() && !s->telemetry.neighbours.empty() && s->telemetry.neighbours[0].delivery_ratio_in > 0.95;
  }));
}

TEST_F(UdpDriverTest, ControlRunsOnTheDriverThreadAndItsCommandsReachTheNode) {
  std::atomic<int> ticks{0};
  std::atomic<std::size_t> ports{0};
  UdpDriver::Callbacks cb;
  cb.control = [&](ControlContext& ctx) {
    ++ticks;
    ports = ctx.data_tx_bytes.size();
  };
  auto oa = options(1, port_a_, port_b_);
  oa.control_interval = milliseconds(20);
  auto a = UdpDriver::create(oa, cb);
  auto b = UdpDriver::create(options(2, port_b_, port_a_));
  ASSERT_TRUE(a.ok() && b.ok());
  (*a)->start();
  (*b)->start();
  ASSERT_TRUE(eventually([&] { return neighbour_up(**a, 2) && neighbour_up(**b, 1); }));
  EXPECT_TRUE(eventually([&] { return ticks.load() >= 5; }));  // periodic
  EXPECT_EQ(ports.load(), 1u);
  auto cost = [&] {
    auto s = (*a)->snapshot();
    return s.ok() && !s->telemetry.neighbours.empty() ? s->telemetry.neighbours[0].cost : mesh::Cost{0};
  };
  const mesh::Cost before = cost();
  ASSERT_GT(before, 0u);
  ASSERT_TRUE((*a)->control([](ControlContext& ctx) {
                    ctx.commands.emplace_back(mesh::command::RaiseLinkCost{2, 4.0});
                  })
                  .ok());
  EXPECT_TRUE(eventually([&] { return cost() >= 3 * before; })) << cost();
  (*a)->stop();
  (*a)->wait();
  EXPECT_EQ((*a)->control([](ControlContext&) {}).code(), StatusCode::kUnavailable);
}

TEST_F(UdpDriverTest, DatagramsFromUnknownAddressesAreDroppedAndCounted) {
  auto a = UdpDriver::create(options(1, port_a_, port_b_));
  ASSERT_TRUE(a.ok());
  (*a)->start();
  asio::io_context io;
  asio::ip::udp::socket stranger(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const asio::ip::udp::endpoint to(asio::ip::make_address("127.0.0.1"), port_a_);
  for (int i = 0; i < 5; ++i) stranger.send_to(asio::buffer(std::string("hello?")), to);
  EXPECT_TRUE(eventually([&] {
    auto s = (*a)->snapshot();
    return s.ok() && s->driver.dropped_unknown_sender == 5;
  }));
  auto s = (*a)->snapshot();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->telemetry.counters.rx_packets, 0u);  // the node never saw them
}

TEST_F(UdpDriverTest, RejectsBadOptionsAndBusyAddresses) {
  auto o = options(1, port_a_, port_b_);
  o.id = mesh::kNoNode;
  EXPECT_FALSE(UdpDriver::create(o).ok());
  o = options(1, port_a_, port_b_);
  o.peers.push_back(o.peers[0]);
  EXPECT_FALSE(UdpDriver::create(o).ok());
  o = options(1, port_a_, port_b_);
  o.traffic = {TrafficSpec{1, 10}};
  EXPECT_FALSE(UdpDriver::create(o).ok());
  auto first = UdpDriver::create(options(1, port_a_, port_b_));
  ASSERT_TRUE(first.ok());
  auto second = UdpDriver::create(options(3, port_a_, port_b_));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
}

TEST_F(UdpDriverTest, SnapshotIsUnavailableOnceStopped) {
  auto a = UdpDriver::create(options(1, port_a_, port_b_));
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE((*a)->snapshot().ok());  // not started
  (*a)->start();
  EXPECT_TRUE(eventually([&] { return (*a)->snapshot().ok(); }));
  (*a)->stop();
  (*a)->wait();
  EXPECT_FALSE((*a)->snapshot(std::chrono::milliseconds(100)).ok());
}

TEST_F(UdpDriverTest, NodeRoutesServeStatusAndFaults) {
  auto a = UdpDriver::create(options(1, port_a_, port_b_));
  auto b = UdpDriver::create(options(2, port_b_, port_a_));
  ASSERT_TRUE(a.ok() && b.ok());
  (*a)->start();
  (*b)->start();
  api::Server server(api::ServerOptions{});
  api::add_node_routes(server, **a);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return neighbour_up(**a, 2); }));
  auto health = api::http_get("127.0.0.1", server.port(), "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  auto status = api::get_status("127.0.0.1", server.port());
  ASSERT_TRUE(status.ok()) << status.status().to_string();
  EXPECT_EQ((*status)["node"]["id"], 1);
  EXPECT_EQ((*status)["peers"][0]["node"], 2);
  auto post = [&](const std::string& body) {
    return api::http_post("127.0.0.1", server.port(), "/api/v1/faults/drop", body)->status;
  };
  EXPECT_EQ(post("not json"), 400);
  EXPECT_EQ(post(R"({"peer": 2})"), 400);
  EXPECT_EQ(post(R"({"peer": 7, "drop": true})"), 404);
  EXPECT_EQ(post(R"({"peer": "nonsense", "drop": true})"), 400);
  EXPECT_EQ(post(R"({"peer": 2, "drop": true, "loss": 0.1})"), 400);  // one fault at a time
  EXPECT_EQ(post(R"({"peer": 2, "loss": 1.5})"), 400);
  EXPECT_EQ(post(R"({"peer": 2, "loss": "some"})"), 400);
  EXPECT_EQ(post(R"({"peer": 2, "loss": 0.1})"), 200);
  EXPECT_EQ(post(R"({"peer": 2, "loss": 0})"), 200);
  EXPECT_EQ(post(R"({"peer": 2, "drop": true})"), 200);
  EXPECT_TRUE(eventually([&] { return !neighbour_up(**a, 2); }));
  EXPECT_TRUE(api::set_drop("127.0.0.1", server.port(), "127.0.0.1:" + std::to_string(port_b_), false).ok());
  EXPECT_TRUE(eventually([&] { return neighbour_up(**a, 2); }));
  server.stop();
}

}  // namespace
}  // namespace meshloop::transport
