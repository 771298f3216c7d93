// mesh::Node: one mesh router as a pure state machine.
//
// The node owns no I/O: it never reads a clock, opens a socket, sleeps or starts a thread. A driver (the UDP driver
// or the simulator) feeds it received bytes, application data and ticks, each with `now`, then drains its outputs
// (bytes to send on a port, data delivered here, events for logs and scoring) and sleeps until next_deadline().
// Two drivers, one behaviour: a simulator run and a loopback test exercise the very same code.
//
// What it does: hello-based neighbour discovery (BFD-style interval x multiplier); an ETX + RTT link estimator with
// hysteresis; link-state advertisements with sequence numbers, ageing and reliable flooding; SPF with throttling;
// node-protecting backup paths; fast reroute that pins the backup path with an explicit-route TLV until the
// database has reconverged (so repairs cannot micro-loop); TTL-bounded forwarding. See DESIGN.md.
//
// Thread-safety: none. One thread drives a node.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "core/time.h"
#include "mesh/flap_damping.h"
#include "mesh/types.h"

namespace meshloop::mesh {

class LsaPool;

class TraceHooks;  // mesh/trace_hooks.h

struct NodeConfig {
  Duration hello_interval = milliseconds(100);
  int dead_multiplier = 3;                   // a neighbour is down after this many silent hello intervals
  // Re-originate our LSA this often even when nothing changed, and forget one not refreshed within max age: OSPF's
  // LSRefreshTime and MaxAge (RFC 2328, appendix B). Reliable flooding, not refresh, keeps databases in sync, and
  // the two-way check makes a dead node's stale LSA harmless, so refresh only bounds how long it lingers. A short
  // refresh costs a mesh-wide flood per node per period: at 1000 nodes and 30 s, a quarter of all control bytes.
  Duration lsa_refresh = seconds(1800);  // 30 minutes
  Duration lsa_max_age = seconds(3600);  // 60 minutes
  Duration retransmit_interval = milliseconds(250);  // resend unacknowledged LSAs; backs off to 8x while unanswered
  Duration lsa_min_interval = milliseconds(200);     // originate our LSA at most this often (changes coalesce)
  Duration flood_delay = milliseconds(10);           // batch floods and acks this long into fewer packets
  Duration spf_initial_delay = milliseconds(5);      // SPF throttling (OSPF style): first run after this,
  Duration spf_hold = milliseconds(50);              // then at least this apart, doubling under churn
  Duration spf_max_hold = milliseconds(500);          //   up to this (2 s let a stale table loop traffic)
  Duration reroute_pin = seconds(2);         // keep repaired traffic pinned this long after a topology change
  Duration backup_active_window = seconds(5);  // precompute backups for destinations with traffic this recent
  int estimator_window = 10;                 // hellos in the delivery-ratio window
  double cost_hysteresis = 0.25;             // re-advertise a link cost only when it moved by more than this
  FlapDamping flap_damping;                  // hold a flapping link out of our LSA (mesh/neighbours.h)
  std::uint8_t default_ttl = 64;  // IPv4's default: a 1000-node geometric mesh's detours exceed 32 hops
  std::string mesh_key = "meshloop-default-key";  // pre-shared key for HMAC-SHA256
  bool emit_route_events = true;             // kRouteChanged per destination (off in large simulations)
  std::uint32_t boot_epoch = 1;              // increases across restarts (drivers pass wall-clock seconds or a counter)
  // Nodes of one process and thread (a simulation) may share their LSAs through one pool (mesh/lsa_pool.h).
  std::shared_ptr<LsaPool> lsa_pool;
};

// Commands that the autonomic loop (or an operator) may apply. Every change to routing is advertised in our LSA.
namespace command {
struct RaiseLinkCost {  // multiply the advertised cost of our link to `neighbour` (1.0 restores)
  NodeId neighbour;
  double factor;
};
struct DrainLink {  // stop using our link to `neighbour` for transit (advertised with infinite cost); undo with false
  NodeId neighbour;
  bool drained;
};
struct AvoidTransit {  // ask the mesh to route through this node only when no other path exists
  bool avoid;
};
struct SetHelloInterval {
  Duration interval;
  int multiplier;
};
// Widen (or, with 0, restore) failure detection on our link to `neighbour`: our hellos on it advertise `multiplier`
// (so the neighbour waits that many of our intervals before declaring us down) and we wait at least that many of
// theirs. For a link whose losses come in short bursts, so that it stops flapping routes mesh-wide.
struct SetLinkDetection {
  NodeId neighbour;
  int multiplier;
};
}  // namespace command
using Command = std::variant<command::RaiseLinkCost, command::DrainLink, command::AvoidTransit,
                             command::SetHelloInterval, command::SetLinkDetection>;

// --- Outputs -------------------------------------------------------------------------------------------------

struct SendOutput {  // transmit `bytes` on `port`
  PortId port;
  std::vector<std::uint8_t> bytes;
  bool control;  // hello / LSA / ack (counted as control overhead), false for data
};
struct DeliverOutput {  // application data addressed to this node arrived
  NodeId origin;
  std::vector<std::uint8_t> payload;
  std::vector<std::uint8_t> trace_context;
};

enum class EventKind : std::uint8_t {
  kNeighbourUp,      // peer
  kNeighbourDown,    // peer
  kRouteChanged,     // destination, next_hop (kNoNode: unreachable)
  kFailover,         // destination, next_hop = first hop of the pinned backup; the primary was `peer`
  kLsaOriginated,    // value = our sequence number
  kSpfRun,           // value = number of reachable destinations
  kPacketRejected,   // detail = reason (malformed, unauthenticated, replay)
  kDataDropped,      // destination, detail = reason (no_route, ttl)
};
const char* event_kind_name(EventKind kind);

struct Event {
  TimePoint at;
  EventKind kind;
  NodeId peer = kNoNode;
  NodeId destination = kNoNode;
  NodeId next_hop = kNoNode;
  std::uint64_t value = 0;
  std::string detail;
};

using Output = std::variant<SendOutput, DeliverOutput, Event>;

// --- What Monitor and operators read -------------------------------------------------------------------------

struct NeighbourInfo {
  NodeId id;
  PortId port;
  bool up;                 // two-way and alive
  double delivery_ratio_in;   // of their hellos, as we see it
  double delivery_ratio_out;  // of our hellos, as they report it
  double etx;
  double srtt_s;
  Cost cost;               // as advertised (after hysteresis and commands)
  TimePoint since;         // when it last changed state
};

struct RouteInfo {
  NodeId destination;
  NodeId next_hop;
  std::uint64_t cost;
  std::vector<NodeId> backup_path;  // node-protecting backup, first element is its first hop; empty if none/not computed
  bool pinned;                      // traffic currently rides the explicit backup/repair path
};

struct Counters {
  std::uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
  std::uint64_t control_tx_bytes = 0, control_rx_bytes = 0, data_tx_bytes = 0, data_rx_bytes = 0;
  std::uint64_t rejected_malformed = 0, rejected_unauthenticated = 0, rejected_replay = 0, unknown_tlvs = 0;
  std::uint64_t data_originated = 0, data_delivered = 0, data_forwarded = 0;
  std::uint64_t dropped_no_route = 0, dropped_ttl = 0;
  std::uint64_t failovers = 0, spf_runs = 0, lsas_originated = 0, lsas_received = 0, retransmissions = 0;
  std::uint64_t encode_failures = 0;  // packets we could not encode: always a bug, never the network
};

struct Telemetry {
  NodeId self;
  TimePoint at;
  std::vector<NeighbourInfo> neighbours;
  std::size_t routes = 0;
  std::size_t routes_with_backup = 0;
  std::size_t lsdb_size = 0;
  Counters counters;
};

class Node {
 public:
  // REQUIRES: self != kNoNode.
  Node(const NodeConfig& config, NodeId self, std::uint64_t rng_seed);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  NodeId id() const;

  // Declares a point-to-point link. Hellos start on it at the next tick.
  void add_port(PortId port, TimePoint now);
  // The driver knows the link is gone for good (not a failure: failures are detected by silence).
  void remove_port(PortId port, TimePoint now);

  // Untrusted bytes received on `port`: parsed, authenticated and replay-checked here, once.
  void receive(PortId port, std::span<const std::uint8_t> bytes, TimePoint now);
  // Application data from this node to `destination`.
  void send_data(NodeId destination, std::span<const std::uint8_t> payload, TimePoint now,
                 std::span<const std::uint8_t> trace_context = {});
  // Timers: hellos, neighbour expiry, LSA refresh and retransmission, SPF.
  void tick(TimePoint now);
  void apply(const Command& command, TimePoint now);

  // Moves pending outputs into `out` (appending). The driver performs them in order.
  void drain_outputs(std::vector<Output>& out);
  // The earliest time tick() has work to do.
  TimePoint next_deadline() const;

  // Reports detections, advertisements, SPF runs and failovers to `hooks` (null: none, the default) and floods the
  // trace contexts it returns with our advertisements. REQUIRES: `hooks` outlives the node or is reset first.
  void set_trace_hooks(TraceHooks* hooks);

  Telemetry telemetry(TimePoint now) const;
  // How many destinations have a route (Telemetry::routes without the rest of the snapshot, which computes backups).
  std::size_t route_count() const;
  std::vector<RouteInfo> routes() const;
  // The next hop for `destination` as forwarding would use it now (pinned path included); kNoNode if none.
  NodeId next_hop(NodeId destination) const;
  // Our current view of the mesh: every (origin, neighbour, cost) in the database that SPF uses (two-way only).
  std::vector<std::tuple<NodeId, NodeId, Cost>> topology() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshloop::mesh
