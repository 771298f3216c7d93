#include "mesh/node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "common/mini_mesh.h"
#include "mesh/wire.h"

namespace meshloop::mesh {
namespace {

using testing::MiniMesh;

NodeConfig fast_config() {
  NodeConfig c;
  c.hello_interval = milliseconds(100);
  c.dead_multiplier = 3;
  c.emit_route_events = true;
  return c;
}

// 1 - 2 - 3
//  \     /
//     4
MiniMesh square() {
  MiniMesh m(fast_config());
  for (NodeId id = 1; id <= 4; ++id) m.add_node(id);
  m.link(1, 2);
  m.link(2, 3);
  m.link(1, 4);
  m.link(4, 3);
  return m;
}

TEST(NodeTest, NeighboursComeUpTwoWayWithinAFewHellos) {
  MiniMesh m(fast_config());
  m.add_node(1);
  m.add_node(2);
  m.link(1, 2);
  m.run_for(milliseconds(500));
  auto t = m.node(1)->telemetry(m.now());
  ASSERT_EQ(t.neighbours.size(), 1u);
  EXPECT_TRUE(t.neighbours[0].up);
  EXPECT_EQ(t.neighbours[0].id, 2u);
  EXPECT_NEAR(t.neighbours[0].delivery_ratio_in, 1.0, 0.01);
  EXPECT_GT(t.neighbours[0].srtt_s, 0.0015);  // two 1 ms link delays
  EXPECT_LT(t.neighbours[0].srtt_s, 0.0030);
}

// Each side answers a state change with a hello at once (BFD-style), so a healed link is two-way one round trip
// after the first hello crosses it, not one or two hello intervals later.
TEST(NodeTest, AHealedLinkIsUpARoundTripAfterItsFirstHello) {
  MiniMesh m(fast_config());
  m.add_node(1);
  m.add_node(2);
  m.link(1, 2);
  m.run_for(seconds(1));
  m.cut(1, 2);
  m.run_for(seconds(1));  // both sides have declared the other down
  std::map<NodeId, TimePoint> up_at;
  m.on_event = [&](NodeId id, const Event& e) {
    if (e.kind == EventKind::kNeighbourUp && !up_at.count(id)) up_at[id] = e.at;
  };
  m.heal(1, 2);
  const TimePoint healed = m.now();
  m.run_for(milliseconds(500));
  ASSERT_EQ(up_at.size(), 2u);
  // The first hello after the heal leaves within one interval (100 ms); three 1 ms crossings finish the handshake.
  EXPECT_LE(up_at[1] - healed, milliseconds(100) + milliseconds(4));
  EXPECT_LE(up_at[2] - healed, milliseconds(100) + milliseconds(4));
}

// A link that keeps failing is held out of the advertisement after its second flap (2 s, then 4 s, ...), so its
// flaps stop moving routes: the first return is used at once, the second only after the hold.
TEST(NodeTest, AFlappingLinkIsHeldOutOfRoutingAfterItsSecondFlap) {
  MiniMesh m = square();
  m.run_for(seconds(2));
  ASSERT_EQ(m.node(1)->next_hop(2), 2u);
  auto flap = [&] {
    m.cut(1, 2);
    m.run_for(milliseconds(500));
    EXPECT_NE(m.node(1)->next_hop(2), 2u);  // detected and routed around
    m.heal(1, 2);
    m.run_for(milliseconds(800));
  };
  flap();
  EXPECT_EQ(m.node(1)->next_hop(2), 2u) << "the first return is advertised at once";
  flap();
  EXPECT_EQ(m.node(1)->next_hop(2), 4u) << "the second return is held";
  m.run_for(seconds(2));
  EXPECT_EQ(m.node(1)->next_hop(2), 2u) << "and used once the 2 s hold has passed";
  // While held, the link coming and going changes nothing we advertise: no flood at all.
  int originated = 0;
  m.on_event = [&](NodeId id, const Event& e) { originated += id == 1 && e.kind == EventKind::kLsaOriginated; };
  flap();
  m.run_for(seconds(2));
  EXPECT_EQ(m.node(1)->next_hop(2), 4u) << "the third return is held twice as long";
  EXPECT_EQ(originated, 1) << "one advertisement for the link going down, none for the held return";
  m.run_for(seconds(2));
  EXPECT_EQ(m.node(1)->next_hop(2), 2u);
}

TEST(NodeTest, EveryDatabaseConvergesAndDataIsDelivered) {
  MiniMesh m = square();
  m.run_for(seconds(2));
  for (NodeId id = 1; id <= 4; ++id) {
    EXPECT_EQ(m.node(id)->telemetry(m.now()).lsdb_size, 4u) << "node " << id;
    EXPECT_EQ(m.node(id)->routes().size(), 3u) << "node " << id;
  }
  EXPECT_EQ(m.node(1)->topology(), m.node(3)->topology());
  m.send(1, 3);
  m.run_for(milliseconds(100));
  EXPECT_EQ(m.delivered(1, 3), 1u);
}

TEST(NodeTest, FailsOverToTheBackupWithinTheDetectionTime) {
  MiniMesh m = square();
  m.run_for(seconds(2));
  const NodeId primary = m.node(1)->next_hop(3);
  ASSERT_TRUE(primary == 2 || primary == 4);
  const NodeId other = primary == 2 ? 4 : 2;
  m.flow(1, 3, milliseconds(10));
  m.run_for(seconds(1));
  m.crash(primary);
  const TimePoint crash_at = m.now();
  TimePoint failover_at = kTimeNever;
  m.on_event = [&](NodeId id, const Event& e) {
    if (id == 1 && e.kind == EventKind::kFailover && failover_at == kTimeNever) failover_at = e.at;
  };
  m.run_for(seconds(2));
  ASSERT_NE(failover_at, kTimeNever);
  EXPECT_LE(failover_at - crash_at, milliseconds(300) + milliseconds(15));
  EXPECT_EQ(m.node(1)->next_hop(3), other);
  // At most the packets of one detection time (300 ms at 10 ms spacing) are lost.
  const auto lost = m.sent(1, 3) - m.delivered(1, 3);
  EXPECT_LE(lost, 32u);
  EXPECT_GE(m.delivered(1, 3), m.sent(1, 3) - 32);
}

TEST(NodeTest, IgnoresPacketsUnderAnotherMeshKey) {
  NodeConfig other = fast_config();
  other.mesh_key = "not-the-mesh-key";
  MiniMesh m(fast_config());
  m.add_node(1);
  m.add_node(2);
  m.link(1, 2);
  Node intruder(other, 9, 1);
  intruder.add_port(1, kTimeZero);
  intruder.tick(kTimeZero);
  std::vector<Output> out;
  intruder.drain_outputs(out);
  ASSERT_FALSE(out.empty());
  for (auto& o : out) {
    if (auto* s = std::get_if<SendOutput>(&o)) m.inject(2, 1, s->bytes);  // arrives on 1's port to 2
  }
  m.run_for(milliseconds(500));
  auto t = m.node(1)->telemetry(m.now());
  EXPECT_GE(t.counters.rejected_unauthenticated, 1u);
  for (const auto& n : t.neighbours) EXPECT_NE(n.id, 9u);
}

TEST(NodeTest, RejectsReplayedPackets) {
  MiniMesh m(fast_config());
  m.add_node(1);
  m.add_node(2);
  m.link(1, 2);
  std::vector<std::uint8_t> captured;
  NodeConfig c = fast_config();
  Node probe(c, 2, 77);
  probe.add_port(1, kTimeZero);
  probe.tick(kTimeZero);
  std::vector<Output> out;
  probe.drain_outputs(out);
  captured = std::get<SendOutput>(out.front()).bytes;
  m.inject(2, 1, captured);
  m.inject(2, 1, captured);
  m.run_for(milliseconds(50));
  EXPECT_GE(m.node(1)->telemetry(m.now()).counters.rejected_replay, 1u);
}

TEST(NodeTest, CountsTruncatedAndRandomBytesAndKeepsRunning) {
  MiniMesh m = square();
  m.run_for(seconds(1));
  m.inject(2, 1, {0x4D, 0x4C, 0x01});
  m.inject(2, 1, std::vector<std::uint8_t>(3000, 0xAB));
  m.inject(2, 1, {});
  m.run_for(seconds(1));
  auto t = m.node(1)->telemetry(m.now());
  EXPECT_EQ(t.counters.rejected_malformed, 3u);
  EXPECT_EQ(t.routes, 3u);
}

TEST(NodeTest, TtlBoundsForwarding) {
  NodeConfig c = fast_config();
  c.default_ttl = 2;
  MiniMesh m(c);
  for (NodeId id = 1; id <= 4; ++id) m.add_node(id);
  m.link(1, 2);
  m.link(2, 3);
  m.link(3, 4);
  m.run_for(seconds(2));
  m.send(1, 3);
  m.send(1, 4);
  m.run_for(milliseconds(100));
  EXPECT_EQ(m.delivered(1, 3), 1u);
  EXPECT_EQ(m.delivered(1, 4), 0u);
  EXPECT_EQ(m.node(3)->telemetry(m.now()).counters.dropped_ttl, 1u);
}

TEST(NodeTest, DrainedLinkIsAdvertisedAndAvoided) {
  MiniMesh m = square();
  m.run_for(seconds(2));
  const NodeId primary = m.node(1)->next_hop(3);
  m.node(1)->apply(command::DrainLink{primary, true}, m.now());
  m.run_for(milliseconds(500));
  EXPECT_NE(m.node(1)->next_hop(3), primary);
  // The far side learns it from our advertisement: its route back avoids the drained link too.
  EXPECT_NE(m.node(primary)->next_hop(1), 1u);
}

// Hello times depend only on the node's seed and hello schedule, not on how much it floods: the simulator keys link
// loss by send time (decision 0025), so a hello moved by a flood elsewhere would meet other loss draws.
TEST(NodeTest, FloodingElsewhereDoesNotMoveHelloTimes) {
  auto hello_times = [](bool raise) {
    MiniMesh m(fast_config());
    for (NodeId id = 1; id <= 3; ++id) m.add_node(id);
    m.link(1, 2);
    m.link(2, 3);
    const AuthKey key(fast_config().mesh_key);
    std::vector<std::int64_t> times;
    std::uint64_t lsa_updates = 0;
    m.on_send = [&](NodeId from, const SendOutput& s, TimePoint now) {
      if (from != 2) return;
      const DecodeOutcome d = decode(s.bytes, key);
      if (!d.ok()) return;
      if (d.packet.header.type == PacketType::kHello) times.push_back(now.time_since_epoch().count());
      if (d.packet.header.type == PacketType::kLsaUpdate) ++lsa_updates;
    };
    m.run_for(seconds(2));
    const std::uint64_t before = lsa_updates;
    // Node 3 re-advertises: node 2 floods it on to node 1 after a jittered delay (a draw node 2 makes only here).
    if (raise) m.node(3)->apply(command::RaiseLinkCost{2, 4.0}, m.now());
    m.run_for(seconds(3));
    EXPECT_EQ(lsa_updates > before, raise);
    return times;
  };
  const auto quiet = hello_times(false);
  EXPECT_GT(quiet.size(), 40u);
  EXPECT_EQ(quiet, hello_times(true));
}

// What flooding put on the wire, per (sender, receiver, origin, seq): copies of the LSA and acks of it.
struct FloodLog {
  std::map<std::tuple<NodeId, NodeId, NodeId, std::uint32_t>, int> copies, acks;
  void watch(MiniMesh& m) {
    m.on_send = [this](NodeId from, const SendOutput& s, TimePoint) {
      const DecodeOutcome d = decode(s.bytes, AuthKey(fast_config().mesh_key));
      if (!d.ok()) return;
      if (const auto* u = std::get_if<LsaUpdate>(&d.packet.body)) {
        for (const Lsa& l : u->lsas) ++copies[{from, s.port, l.origin, l.seq}];
      } else if (const auto* a = std::get_if<LsaAck>(&d.packet.body)) {
        for (const AckEntry& e : a->acks) ++acks[{from, s.port, e.origin, e.seq}];
      }
    };
  }
};

std::uint64_t retransmissions(MiniMesh& m, NodeId last) {
  std::uint64_t total = 0;
  for (NodeId id = 1; id <= last; ++id) total += m.node(id)->telemetry(m.now()).counters.retransmissions;
  return total;
}

// side x side grid, ids row by row from 1.
MiniMesh grid(NodeId side) {
  MiniMesh m(fast_config());
  const NodeId n = side * side;
  for (NodeId id = 1; id <= n; ++id) m.add_node(id);
  for (NodeId id = 1; id <= n; ++id) {
    if (id % side != 0) m.link(id, id + 1);
    if (id + side <= n) m.link(id, id + side);
  }
  return m;
}
// 3 x 3: every node but the corners hears an advertisement from two or more neighbours.
MiniMesh grid9() { return grid(3); }

// A copy that crosses ours on the wire is the neighbour's acknowledgement of ours and ours of theirs (RFC 2328
// 13.7, both ways), so neither is acknowledged again; and on lossless links every copy is acknowledged, explicitly
// or so, within a round trip, so nothing is ever retransmitted.
TEST(NodeTest, LosslessFloodingNeitherAcknowledgesCrossingCopiesNorRetransmits) {
  MiniMesh m = grid9();
  FloodLog log;
  log.watch(m);
  m.run_for(seconds(2));
  int crossed = 0;
  for (int round = 0; round < 4; ++round) {
    log.copies.clear();
    log.acks.clear();
    // Every node re-advertises a link at a new cost, 30 ms apart: floods overlap for longer than a retransmission
    // interval (250 ms), so copies are in flight whenever a node's retransmission timer fires.
    for (NodeId id = 1; id <= 9; ++id) {
      const NodeId neighbour = id % 3 != 0 ? id + 1 : id - 1;
      m.node(id)->apply(command::RaiseLinkCost{neighbour, round % 2 == 0 ? 4.0 : 1.0}, m.now());
      m.run_for(milliseconds(30));
    }
    m.run_for(milliseconds(500));
    for (const auto& [key, n] : log.copies) {
      const auto [from, to, origin, seq] = key;
      if (log.copies.count({to, from, origin, seq})) ++crossed;
      EXPECT_EQ(log.acks.count(key), 0u) << from << " both sent and acknowledged " << origin << ":" << seq << " to "
                                         << to;
    }
  }
  EXPECT_GT(crossed, 0) << "the scenario must make copies cross for the first check to mean anything";
  EXPECT_EQ(retransmissions(m, 9), 0u);
}

// A database exchange larger than one flush's worth of packets (an 11 x 11 grid's 121 LSAs; a flush sends at most 4
// packets to a neighbour) goes out over several flushes: copies still waiting their turn are not on the wire, so a
// neighbour's copy of one is no crossing, and must be acknowledged. On lossless links nothing is ever retransmitted.
TEST(NodeTest, PacedDatabaseExchangesNeedNoRetransmission) {
  MiniMesh m = grid(11);
  m.run_for(seconds(3));
  std::uint64_t while_healing = 0;
  for (int round = 0; round < 3; ++round) {  // the grid's middle column of links goes down, then comes back
    for (NodeId row = 0; row < 11; ++row) m.cut(row * 11 + 6, row * 11 + 7);
    m.run_for(seconds(2));  // copies lost on the cut links are retransmitted until the cut is detected: not counted
    const std::uint64_t before = retransmissions(m, 121);
    for (NodeId row = 0; row < 11; ++row) m.heal(row * 11 + 6, row * 11 + 7);
    m.run_for(seconds(2));
    while_healing += retransmissions(m, 121) - before;
  }
  EXPECT_EQ(while_healing, 0u);
  EXPECT_EQ(m.node(121)->topology(), m.node(1)->topology());
}

// Dropping copies (the first copy of every advertisement on each link, both ways) leaves the retransmissions to
// deliver them: every database converges, and once it has, retransmissions stop.
TEST(NodeTest, FloodingRecoversLostCopiesAndThenFallsQuiet) {
  MiniMesh m = grid9();
  m.run_for(seconds(2));
  std::set<std::tuple<NodeId, PortId, NodeId, std::uint32_t>> seen;
  m.drop = [&](NodeId from, const SendOutput& s) {
    const DecodeOutcome d = decode(s.bytes, AuthKey(fast_config().mesh_key));
    if (!d.ok()) return false;
    const auto* u = std::get_if<LsaUpdate>(&d.packet.body);
    if (!u) return false;
    bool first = false;
    for (const Lsa& l : u->lsas) first = seen.insert({from, s.port, l.origin, l.seq}).second || first;
    return first;
  };
  m.cut(5, 6);
  m.run_for(seconds(5));  // retransmissions back off to 2 s apart while they go unanswered
  const auto topology = m.node(1)->topology();
  EXPECT_EQ(std::count_if(topology.begin(), topology.end(), [](const auto& e) { return std::get<0>(e) == 5; }), 3)
      << "node 5's links but the cut one";
  for (NodeId id = 2; id <= 9; ++id) EXPECT_EQ(m.node(id)->topology(), topology) << "node " << id;
  EXPECT_EQ(m.node(5)->next_hop(6), 2u) << "around the cut link, over the lowest-index equal-cost path";
  const std::uint64_t settled = retransmissions(m, 9);
  EXPECT_GT(settled, 0u);
  m.run_for(seconds(3));
  EXPECT_EQ(retransmissions(m, 9), settled);
}

// A link that comes back is judged by the hellos since it came back, not by a full window of them missed while it
// was down: it is advertised at its measured cost at once, not at 10x that and again a moment later.
TEST(NodeTest, AReturningLinkIsAdvertisedAtItsMeasuredCost) {
  MiniMesh m = square();
  m.run_for(seconds(2));
  auto cost_to = [&](NodeId a, NodeId b) {
    for (const auto& n : m.node(a)->telemetry(m.now()).neighbours) {
      if (n.id == b && n.up) return n.cost;
    }
    return kInfiniteCost;
  };
  const Cost settled = cost_to(1, 2);
  ASSERT_LT(settled, 150u);
  m.cut(1, 2);
  m.run_for(seconds(1));
  ASSERT_EQ(cost_to(1, 2), kInfiniteCost);
  std::vector<Cost> at_up;
  m.on_event = [&](NodeId id, const Event& e) {
    if (e.kind == EventKind::kNeighbourUp && id == 1) at_up.push_back(cost_to(1, 2));
  };
  int originated = 0;
  m.heal(1, 2);
  const auto count = m.on_event;
  m.on_event = [&](NodeId id, const Event& e) {
    count(id, e);
    originated += id == 1 && e.kind == EventKind::kLsaOriginated;
  };
  m.run_for(seconds(1));
  ASSERT_EQ(at_up.size(), 1u);
  EXPECT_LT(at_up[0], settled * 5 / 4) << "the cost hysteresis band (25 %) of the link's measured cost";
  EXPECT_EQ(originated, 1) << "one advertisement for the link coming back";
}

// Node 5 of the grid loses three of its four links at once (a partition, as a switch failing would cut them). It
// sees them die one by one, as each one's last hello ages out, but advertises once, with all three gone. A lone
// failure is advertised as soon as it is detected.
TEST(NodeTest, LinksThatFailTogetherAreAdvertisedOnce) {
  MiniMesh m = grid9();
  m.run_for(seconds(2));
  std::vector<TimePoint> downs, advertised;
  m.on_event = [&](NodeId id, const Event& e) {
    if (id != 5) return;
    if (e.kind == EventKind::kNeighbourDown) downs.push_back(e.at);
    if (e.kind == EventKind::kLsaOriginated) advertised.push_back(e.at);
  };
  m.cut(5, 2);
  m.cut(5, 4);
  m.cut(5, 6);
  m.run_for(seconds(1));
  ASSERT_EQ(downs.size(), 3u);
  EXPECT_LT(downs.front(), downs.back()) << "detected at different times, or the test shows nothing";
  ASSERT_EQ(advertised.size(), 1u);
  EXPECT_EQ(advertised[0], downs.back());
  const auto topology = m.node(1)->topology();
  EXPECT_EQ(std::count_if(topology.begin(), topology.end(), [](const auto& e) { return std::get<0>(e) == 5; }), 1);

  m.heal(5, 2);
  m.heal(5, 4);
  m.heal(5, 6);
  m.run_for(seconds(2));
  downs.clear();
  advertised.clear();
  m.cut(5, 8);
  m.run_for(seconds(1));
  ASSERT_EQ(downs.size(), 1u);
  ASSERT_EQ(advertised.size(), 1u);
  EXPECT_EQ(advertised[0], downs[0]) << "a lone failure waits for nothing";
}

TEST(NodeTest, WidenedLinkDetectionIsHonouredAtBothEnds) {
  // Hello 100 ms x 3: a silent neighbour is down after 300 ms. Widened to 10 on link 1-2 (by node 1 only), both
  // ends wait a second: node 1 by its own setting, node 2 because node 1's hellos advertise the multiplier.
  MiniMesh m = square();
  m.run_for(seconds(2));
  m.node(1)->apply(command::SetLinkDetection{2, 10}, m.now());
  m.run_for(milliseconds(300));
  auto up = [&](NodeId a, NodeId b) {
    for (const auto& n : m.node(a)->telemetry(m.now()).neighbours) {
      if (n.id == b) return n.up;
    }
    return false;
  };
  m.cut(1, 2);
  m.run_for(milliseconds(600));
  EXPECT_TRUE(up(1, 2));
  EXPECT_TRUE(up(2, 1));
  m.run_for(milliseconds(600));
  EXPECT_FALSE(up(1, 2));
  EXPECT_FALSE(up(2, 1));
  // Restored: the default detection applies again.
  m.heal(1, 2);
  m.run_for(seconds(1));
  m.node(1)->apply(command::SetLinkDetection{2, 0}, m.now());
  m.run_for(milliseconds(300));
  m.cut(1, 2);
  m.run_for(milliseconds(500));
  EXPECT_FALSE(up(1, 2));
  EXPECT_FALSE(up(2, 1));
}

TEST(NodeTest, RestartedNodeRejoinsWithAFreshEpoch) {
  MiniMesh m = square();
  m.run_for(seconds(2));
  m.crash(2);
  m.run_for(seconds(1));
  m.restart(2);
  m.run_for(seconds(2));
  EXPECT_EQ(m.node(2)->routes().size(), 3u);
  EXPECT_EQ(m.node(4)->telemetry(m.now()).lsdb_size, 4u);
  m.send(2, 4);
  m.run_for(milliseconds(100));
  EXPECT_EQ(m.delivered(2, 4), 1u);
}

}  // namespace
}  // namespace meshloop::mesh
