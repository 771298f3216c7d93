// baseline::BatmanAgent: B.A.T.M.A.N. IV as batman-adv implements it in Linux 6.1 (net/batman-adv/bat_iv_ogm.c,
// originator.c, routing.c, bitarray.c, main.h), as one simulated node (sim::Agent).
//
// What it models, rule by rule (each cited where it is coded): originator messages (OGMs) scheduled every
// originator interval with jitter, aggregated as batman-adv aggregates them; the per-(originator, neighbour)
// sequence-number sliding window (real_bits, 64) with duplicate detection and seqno-reset protection; echo counting
// of our own OGMs rebroadcast by direct neighbours (bcast_own, 64) for the bidirectional link check; the local TQ
// (receive quality x transmit quality x asymmetry penalty) and the global TQ ring average (5) per (originator,
// neighbour); hop penalty on rebroadcast; rebroadcast only of OGMs from the best next hop (direct neighbours' OGMs are
// always echoed, flagged DIRECTLINK and, when not from the best next hop, NOT_BEST_NEXT_HOP); router switching only to
// a strictly better TQ (ties: the more symmetric link); neighbour purge after BATADV_PURGE_TIMEOUT; unicast data to
// the router of the destination originator, TTL-bounded. What it leaves out and why: docs/decisions/0010.
//
// The node has one batman interface; "broadcast" on it is one transmission on every port (links are
// point-to-point in the simulator). Packets are real bytes (baseline/batman_wire.h), unauthenticated like
// batman-adv's; malformed frames are dropped and counted.
// Deterministic: all randomness (initial seqno, jitter) comes from the seed given at construction.
// Thread-safety: none; one thread drives an agent.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "baseline/batman_wire.h"
#include "core/rng.h"
#include "core/time.h"
#include "sim/agent.h"

namespace meshloop::baseline {

// net/batman-adv/main.h, Linux 6.1.
constexpr std::uint8_t kTqMaxValue = 255;                 // BATADV_TQ_MAX_VALUE
constexpr std::int64_t kJitterMs = 20;                    // BATADV_JITTER
constexpr std::uint8_t kTtl = 50;                         // BATADV_TTL
constexpr Duration kPurgeTimeout = seconds(200);          // BATADV_PURGE_TIMEOUT (200000 ms)
constexpr Duration kOrigWorkPeriod = milliseconds(1000);  // BATADV_ORIG_WORK_PERIOD (purge cadence)
constexpr int kTqLocalWindowSize = 64;                    // BATADV_TQ_LOCAL_WINDOW_SIZE
constexpr int kTqGlobalWindowSize = 5;                    // BATADV_TQ_GLOBAL_WINDOW_SIZE
constexpr int kTqLocalBidirectSendMinimum = 1;            // BATADV_TQ_LOCAL_BIDRECT_SEND_MINIMUM
constexpr int kTqLocalBidirectRecvMinimum = 1;            // BATADV_TQ_LOCAL_BIDRECT_RECV_MINIMUM
constexpr int kTqTotalBidirectLimit = 1;                  // BATADV_TQ_TOTAL_BIDRECT_LIMIT
constexpr std::int64_t kExpectedSeqnoRange = 65536;       // BATADV_EXPECTED_SEQNO_RANGE
constexpr Duration kResetProtection = milliseconds(30000);  // BATADV_RESET_PROTECTION_MS
constexpr Duration kMaxAggregation = milliseconds(100);   // BATADV_MAX_AGGREGATION_MS
constexpr int kBatmanQueueLen = 256;                      // BATADV_BATMAN_QUEUE_LEN (forwarded OGM aggregates)

struct BatmanConfig {
  Duration orig_interval = milliseconds(1000);  // soft-interface.c: bat_priv->orig_interval = 1000 (sysfs/netlink)
  std::uint8_t hop_penalty = 30;                // soft-interface.c: bat_priv->hop_penalty = 30 (of 255)
  bool aggregated_ogms = true;                  // soft-interface.c: bat_priv->aggregated_ogms = 1
  // TVLV bytes appended to our own OGMs (TT, multicast containers in a real deployment). 0 = bare 24-byte OGMs,
  // which favours batman's control overhead; see docs/decisions/0010.
  std::uint16_t ogm_tvlv_bytes = 0;
  bool emit_route_events = false;  // kRouteChanged per router change (off in large simulations)
};

struct BatmanCounters {
  std::uint64_t rx_frames = 0, rx_malformed = 0, rx_own_broadcast = 0;
  std::uint64_t ogms_received = 0, ogms_protected = 0, ogms_own_sent = 0, ogms_forwarded = 0;
  std::uint64_t ogm_frames_sent = 0, queue_full_drops = 0;
  std::uint64_t data_originated = 0, data_delivered = 0, data_forwarded = 0;
  std::uint64_t dropped_no_route = 0, dropped_ttl = 0;
  std::uint64_t router_changes = 0;
};

class BatmanAgent final : public sim::Agent {
 public:
  // REQUIRES: self != kNoNode.
  BatmanAgent(const BatmanConfig& config, NodeId self, std::uint64_t seed);

  void add_port(mesh::PortId port, TimePoint now) override;
  void receive(mesh::PortId port, std::span<const std::uint8_t> bytes, TimePoint now) override;
  void send_data(NodeId destination, std::span<const std::uint8_t> payload, TimePoint now) override;
  void tick(TimePoint now) override;
  void drain_outputs(std::vector<mesh::Output>& out) override;
  TimePoint next_deadline() const override;
  NodeId next_hop(NodeId destination) const override;
  std::size_t route_count(TimePoint now) const override;

  NodeId id() const { return self_; }
  const BatmanCounters& counters() const { return counters_; }
  // The router's global TQ average towards `originator` (what batman-adv shows in its originator table); 0 if none.
  std::uint8_t tq_to(NodeId originator) const;
  // Our echo count for direct neighbour `neighbour` (bcast_own_sum) and its receive count (real_packet_count of
  // its own OGMs received from it), for tests.
  std::pair<int, int> link_counts_for_test(NodeId neighbour) const;

 private:
  enum class Dup { kNone, kOrigDup, kNeighDup, kProtected };  // enum batadv_dup_status

  struct Neigh {  // struct batadv_neigh_node + its batadv_neigh_ifinfo (one interface)
    NodeId addr = mesh::kNoNode;
    std::uint64_t real_bits = 0;  // bat_iv.real_bits: bit i = seqno (last_real_seqno - i) received via this neighbour
    std::uint8_t real_packet_count = 0;
    std::array<std::uint8_t, kTqGlobalWindowSize> tq_recv{};  // bat_iv.tq_recv ring
    std::uint8_t tq_index = 0;
    std::uint8_t tq_avg = 0;
    std::uint8_t last_ttl = 0;
    TimePoint last_seen;
  };
  struct Orig {  // struct batadv_orig_node + its batadv_orig_ifinfo (one interface)
    NodeId addr = mesh::kNoNode;
    std::uint32_t last_real_seqno = 0;
    std::uint8_t last_ttl = 0;
    TimePoint seqno_reset;  // batman_seqno_reset
    TimePoint last_seen;
    std::uint64_t bcast_own = 0;  // bat_iv.bcast_own: our OGMs this (neighbour) node echoed back, bit 0 = newest
    std::uint8_t bcast_own_sum = 0;
    NodeId router = mesh::kNoNode;
    std::vector<Neigh> neighs;  // oldest first (batman-adv's hlist is newest first; see find_best_neighbour)
  };
  struct ForwPacket {  // struct batadv_forw_packet: one (aggregated) OGM frame waiting for its send time
    TimePoint send_time;
    std::uint64_t order;  // insertion order: ties in send_time go out first-queued first
    bool own;
    std::size_t bytes;
    std::vector<Ogm> ogms;
  };

  Orig* find_orig(NodeId addr);
  const Orig* find_orig(NodeId addr) const;
  Orig& get_orig(NodeId addr, TimePoint now);
  static Neigh* find_neigh(Orig& orig, NodeId addr);
  static const Neigh* find_neigh(const Orig& orig, NodeId addr);
  Neigh& new_neigh(Orig& orig, NodeId addr, TimePoint now);

  void schedule_own_ogm(TimePoint now);
  void queue_add(const Ogm& ogm, bool own, TimePoint send_time);
  bool can_aggregate(const ForwPacket& fp, const Ogm& ogm, std::size_t len, TimePoint send_time) const;
  void emit(ForwPacket& fp);
  void process_ogm(NodeId h_source, Ogm ogm, TimePoint now);
  Dup update_seqnos(Orig& orig, NodeId h_source, std::uint32_t seqno, TimePoint now);
  bool calc_tq(Orig& orig, Orig& orig_neigh, Ogm& ogm, TimePoint now);
  void orig_update(Orig& orig, NodeId h_source, const Ogm& ogm, Dup dup, TimePoint now);
  void forward(NodeId h_source, Ogm ogm, bool single_hop, bool from_best_next_hop, TimePoint now);
  void update_route(Orig& orig, NodeId router, TimePoint now);
  void purge(TimePoint now);
  void handle_unicast(UnicastData data, TimePoint now);
  void send_unicast(NodeId router, const UnicastData& data);
  std::uint8_t hop_penalty(std::uint8_t tq) const;
  void drop_data(NodeId destination, const char* reason, TimePoint now);

  BatmanConfig config_;
  NodeId self_;
  Rng rng_;
  std::vector<mesh::PortId> ports_;
  std::unordered_map<NodeId, mesh::PortId> port_of_;  // neighbour address -> the port we last heard it on
  std::deque<Orig> origs_;  // stable references across insertions; erased only in purge()
  std::unordered_map<NodeId, std::size_t> orig_index_;
  std::uint32_t ogm_seqno_;  // hard_iface->bat_iv.ogm_seqno: the next own seqno
  std::vector<ForwPacket> forw_;
  std::uint64_t forw_order_ = 0;
  int queue_left_ = kBatmanQueueLen;
  bool started_ = false;
  TimePoint next_purge_ = kTimeNever;
  std::vector<mesh::Output> outputs_;
  BatmanCounters counters_;
};

// The "batman" protocol for the simulator: one BatmanAgent per node, seeded by the simulator's node seed.
sim::Protocol batman_protocol(const BatmanConfig& config = {});

}  // namespace meshloop::baseline
