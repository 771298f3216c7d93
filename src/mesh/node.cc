#include "mesh/node.h"

#include <algorithm>
#include <map>

#include "core/rng.h"
#include "mesh/lsdb.h"
#include "mesh/neighbours.h"
#include "mesh/router.h"
#include "mesh/trace_hooks.h"
#include "mesh/wire.h"

namespace meshloop::mesh {
namespace {
constexpr Duration kAgeCheckInterval = seconds(1);
// Bytes an LsaUpdate or LsaAck packet may fill with TLVs.
constexpr std::size_t kBodyBudget = kMaxPacketSize - kHeaderSize - kTagSize;
constexpr std::size_t kAckTlvSize = 3 + 8;
// LSA packets sent to one neighbour per flush (per flood_delay): ~5.6 kB per 10 ms, under half of a 10 Mbit/s link.
constexpr std::size_t kFloodPacketsPerFlush = 4;
// How long routes must stay unchanged before backups are precomputed for them (see run_spf).
constexpr Duration kBackupSettle = milliseconds(500);
}  // namespace

struct Node::Impl {
  // Reliable flooding state towards one neighbour, indexed by LSDB slot (see lsdb.h: the hot path is arrays).
  struct PortFlood {
    std::vector<std::uint32_t> unacked;  // by slot: the seq we sent and await an ack for; 0 = nothing (seqs start at 1)
    // By slot, beside unacked: kQueued while the copy waits in to_send (not on the wire yet); kFresh from when it
    // is queued until the first retransmission round after it left, so a retransmission resends only what has
    // waited a whole round for its ack (OSPF keeps a timer per LSA; a round approximates one), not what went out a
    // moment ago or is still waiting its turn behind a paced database exchange.
    std::vector<std::uint8_t> marks;
    std::size_t pending = 0;             // non-zero entries of unacked
    std::vector<LsdbSlot> to_send;       // slots to send in the next flush
    std::vector<AckEntry> to_ack;
    static constexpr std::uint8_t kQueued = 1;
    static constexpr std::uint8_t kFresh = 2;

    // Queues `seq` of `slot` and expects an ack for it.
    void expect(LsdbSlot slot, std::uint32_t seq, std::size_t slots) {
      if (unacked.size() < slots) {
        unacked.resize(slots, 0);
        marks.resize(slots, 0);
      }
      if (unacked[slot] == 0) ++pending;
      unacked[slot] = seq;
      marks[slot] = kQueued | kFresh;
      to_send.push_back(slot);
    }
    // The neighbour holds `seq` of `slot` (acked, or sent us that very copy); 0 matches any seq.
    void acked(LsdbSlot slot, std::uint32_t seq) {
      if (slot >= unacked.size() || unacked[slot] == 0 || (seq != 0 && unacked[slot] != seq)) return;
      unacked[slot] = 0;
      --pending;
    }
    bool awaits(LsdbSlot slot, std::uint32_t seq) const { return slot < unacked.size() && unacked[slot] == seq; }
    // We put `seq` of `slot` on the wire to this neighbour and have no ack yet.
    bool sent(LsdbSlot slot, std::uint32_t seq) const { return awaits(slot, seq) && (marks[slot] & kQueued) == 0; }
  };
  // Traffic to one destination riding an explicit path that avoids a failed next hop.
  struct Pin {
    TimePoint until;
    NodeId avoid;
    std::vector<NodeId> path;
  };

  Impl(const NodeConfig& c, NodeId s, std::uint64_t seed)
      : config(c),
        self(s),
        hello_rng(Rng::derive(seed, kHelloStream)),
        flood_rng(Rng::derive(seed, kFloodStream)),
        key(c.mesh_key),
        neighbours(s, c.estimator_window, c.cost_hysteresis, c.flap_damping),
        lsdb(c.lsa_pool),
        router(s, lsdb),
        spf_hold(c.spf_hold) {}

  // --- sending -----------------------------------------------------------------------------------------------
  Header header(PacketType type) { return Header{type, self, config.boot_epoch, ++tx_seq}; }

  void send(PortId port, const Packet& packet, bool control) {
    auto bytes = encode(packet, key);
    if (!bytes.ok()) {  // callers size bundles to fit: a failure here is our bug, so count it where operators look
      ++counters.encode_failures;
      return;
    }
    const std::size_t n = bytes->size();
    ++counters.tx_packets;
    counters.tx_bytes += n;
    (control ? counters.control_tx_bytes : counters.data_tx_bytes) += n;
    outputs.emplace_back(SendOutput{port, std::move(bytes).value(), control});
  }

  void emit(Event e) { outputs.emplace_back(std::move(e)); }
  void event(TimePoint now, EventKind kind, NodeId peer = kNoNode, NodeId dst = kNoNode, NodeId nh = kNoNode,
             std::uint64_t value = 0, std::string detail = {}) {
    emit(Event{now, kind, peer, dst, nh, value, std::move(detail)});
  }

  bool up(NodeId id) const { return neighbours.up_by_id(id) != nullptr; }
  PortFlood& flood_at(PortId port) {
    if (port >= floods.size()) floods.resize(port + 1);
    flood_touched = true;
    return floods[port];
  }
  NodeId lsdb_origin(LsdbSlot slot) const {
    const Lsdb::Entry* e = lsdb.at(slot);
    return e ? e->lsa().origin : kNoNode;
  }

  // --- hellos and neighbours ---------------------------------------------------------------------------------
  void send_hellos(TimePoint now) {
    for (const auto& n : neighbours.all()) {
      if (n.removed) continue;
      Packet p{header(PacketType::kHello),
               neighbours.make_hello(n.port, now, config.hello_interval, config.dead_multiplier)};
      send(n.port, p, true);
    }
    // BFD-style jitter (75-100% of the interval) keeps neighbours from synchronising.
    const double jitter = 0.75 + 0.25 * hello_rng.uniform();
    next_hello = now + Duration{static_cast<std::int64_t>(static_cast<double>(config.hello_interval.count()) * jitter)};
  }

  // A neighbour whose state towards us just moved on hears about it now rather than up to a hello interval later
  // (BFD answers a state change at once): bringing a link up takes a round trip, not two hello intervals.
  void answer_hello(PortId port, TimePoint now) {
    Neighbour* n = neighbours.by_port(port);
    if (!n || !n->hello_due) return;
    n->hello_due = false;
    send(port, Packet{header(PacketType::kHello), neighbours.make_hello(port, now, config.hello_interval, config.dead_multiplier)},
         true);
  }

  void on_neighbour_changes(const std::vector<NeighbourChange>& changes, TimePoint now) {
    for (const auto& c : changes) {
      own_dirty = true;
      auto& flood = flood_at(c.port);
      if (c.up) {
        event(now, EventKind::kNeighbourUp, c.id);
        if (trace) trace->neighbour_changed(self, c.id, true, now);
        // Database exchange: the new neighbour gets everything we know, reliably.
        flood = PortFlood{};
        lsdb.for_each([&](const Lsdb::Entry& entry) {
          flood.expect(lsdb.slot_of(entry.lsa().origin), entry.lsa().seq, lsdb.slot_count());
        });
        arm_retransmit(now);
      } else {
        lost_neighbour = true;
        event(now, EventKind::kNeighbourDown, c.id);
        if (trace) trace->neighbour_changed(self, c.id, false, now);
        flood = PortFlood{};
        fail_over(c.id, now);
      }
    }
  }

  // Local repair: traffic whose next hop just died rides a pinned backup path until the mesh has reconverged.
  void fail_over(NodeId lost, TimePoint now) {
    for (const auto& [dst, route] : router.all_routes()) {
      if (route.next_hop != lost) continue;
      if (!is_active(dst, now)) continue;  // idle destinations are repaired on first use (pin_for), or by the next SPF
      if (pin_for(dst, lost, now + config.reroute_pin)) {
        ++counters.failovers;
        event(now, EventKind::kFailover, lost, dst, pins[dst].path.front());
        if (trace) trace->failover(self, lost, dst, pins[dst].path.front(), now);
      }
    }
  }

  // Installs (or refreshes) a pin for `dst` avoiding `avoid` until `until`. False when no backup path exists.
  bool pin_for(NodeId dst, NodeId avoid, TimePoint until) {
    std::vector<NodeId> path = router.backup_path(dst, avoid);
    if (path.empty() || !up(path.front())) path = router.link_backup_path(dst, avoid);
    if (path.empty() || !up(path.front())) return false;
    pins[dst] = Pin{until, avoid, std::move(path)};
    return true;
  }

  bool is_active(NodeId dst, TimePoint now) const {
    const std::size_t i = active_index(dst);
    return i < active.size() && active[i].first == dst && now - active[i].second <= config.backup_active_window;
  }

  // --- link state --------------------------------------------------------------------------------------------
  // Returns whether an advertisement went out.
  bool originate(TimePoint now) {
    own_dirty = false;
    lost_neighbour = false;
    suspect_wait_since = kTimeNever;
    Lsa lsa;
    lsa.origin = self;
    lsa.flags = avoid_transit ? kLsaFlagAvoidTransit : 0;
    for (const auto& n : neighbours.all()) {
      if (!NeighbourTable::advertised(n, now)) continue;
      const Cost c = NeighbourTable::effective_cost(n);
      if (c == kInfiniteCost) continue;  // drained: not advertised, so nobody routes over it
      lsa.links.push_back({n.id, c});
    }
    std::sort(lsa.links.begin(), lsa.links.end(),
              [](const LinkAdvert& a, const LinkAdvert& b) { return a.neighbour < b.neighbour; });
    const Lsdb::Entry* before = lsdb.find(self);
    const bool changed = !before || before->lsa().links != lsa.links || before->lsa().flags != lsa.flags;
    // A neighbour event that leaves the advertisement as it was (a held or drained link coming and going, a cost
    // moving back inside the band) floods nothing: only a change, a refresh or a stale copy of ours does.
    if (!changed && !own_must) return false;
    own_must = false;
    if (changed) spf_needed = true;
    lsa.seq = ++own_seq;
    lsdb.install_own(lsa, now);
    if (trace) keep_lsa_trace(self, lsa.seq, trace->lsa_originated(self, lsa.seq, lsa.links.size(), now));
    flood(self, kNoPort, now);
    ++counters.lsas_originated;
    next_refresh = now + config.lsa_refresh;
    event(now, EventKind::kLsaOriginated, kNoNode, kNoNode, kNoNode, lsa.seq);
    return true;
  }

  // Queues `origin`'s LSA to every Up neighbour except the port it came from.
  void flood(NodeId origin, PortId except, TimePoint now) { flood_slot(lsdb.slot_of(origin), except, now); }
  void flood_slot(LsdbSlot slot, PortId except, TimePoint now) {
    const Lsdb::Entry* e = slot == kNoSlot ? nullptr : lsdb.at(slot);
    if (!e) return;
    for (const auto& n : neighbours.all()) {
      if (n.state != NeighbourState::kUp || n.port == except) continue;
      flood_at(n.port).expect(slot, e->lsa().seq, lsdb.slot_count());
    }
    arm_retransmit(now);
  }

  void arm_retransmit(TimePoint now) {
    if (next_retransmit == kTimeNever) next_retransmit = now + retransmit_backoff;
  }

  void on_lsa_update(PortId port, const LsaUpdate& update, TimePoint now) {
    auto& f = flood_at(port);
    for (const Lsa& lsa : update.lsas) {
      if (lsa.origin == self) {
        // A copy of ourselves from before a restart: jump past it so our current view wins. Our current copy coming
        // back (a database exchange sends everything) is just an acknowledgement: re-originating for it flooded the
        // whole mesh on every neighbour-up, held links included. Like any copy, it needs no ack if it crossed ours
        // (the neighbour takes ours as one), and it acknowledges ours.
        const Lsdb::Entry* mine = lsdb.find(self);
        const bool current = mine && mine->lsa().seq == lsa.seq && mine->lsa().links == lsa.links &&
                             mine->lsa().flags == lsa.flags;
        const LsdbSlot own = lsdb.slot_of(self);
        if (!current || !f.sent(own, lsa.seq)) f.to_ack.push_back({lsa.origin, lsa.seq});
        if (current) f.acked(own, lsa.seq);
        if (lsa.seq >= own_seq && !current) {
          own_seq = lsa.seq;
          own_dirty = true;
          own_must = true;
        }
        continue;
      }
      // One index lookup per LSA: at 1000 nodes each is a cache miss, and this runs for every copy received.
      LsdbSlot slot = lsdb.slot_of(lsa.origin);
      const Lsdb::Entry* before = slot == kNoSlot ? nullptr : lsdb.at(slot);
      const bool newer = !before || before->lsa().seq < lsa.seq;
      if (newer) {
        if (router.affects_tree(before ? &before->lsa() : nullptr, lsa)) {
          spf_needed = true;
        } else {
          router.mark_stale();
        }
      }
      const Lsdb::Verdict verdict = lsdb.consider(lsa, now);
      if (slot == kNoSlot) slot = lsdb.slot_of(lsa.origin);  // consider() gave a new origin its slot
      // A copy crossing ours on the wire needs no ack: the neighbour takes ours as one, as we take theirs (RFC 2328
      // 13.7's implied acknowledgement, both ways). Should ours be lost, their retransmission finds us no longer
      // awaiting their ack, and gets an explicit one.
      if (verdict != Lsdb::Verdict::kSame || !f.sent(slot, lsa.seq)) f.to_ack.push_back({lsa.origin, lsa.seq});
      switch (verdict) {
        case Lsdb::Verdict::kNewer:
          ++counters.lsas_received;
          if (!update.traces.empty()) received_lsa_trace(update, lsa, now);
          f.acked(slot, 0);
          flood_slot(slot, port, now);
          break;
        case Lsdb::Verdict::kSame:
          f.acked(slot, lsa.seq);  // implicit ack
          break;
        case Lsdb::Verdict::kOlder:
          if (neighbours.by_port(port) && neighbours.by_port(port)->state == NeighbourState::kUp) {
            // they are behind: send them ours
            f.expect(slot, lsdb.at(slot)->lsa().seq, lsdb.slot_count());
            arm_retransmit(now);
          }
          break;
      }
    }
  }

  void on_lsa_ack(PortId port, const LsaAck& ack) {
    auto& f = flood_at(port);
    for (const auto& a : ack.acks) {
      const LsdbSlot slot = lsdb.slot_of(a.origin);
      if (slot != kNoSlot && a.seq != 0) f.acked(slot, a.seq);
    }
  }

  void retransmit(TimePoint now) {
    next_retransmit = kTimeNever;
    bool pending = false;
    bool resent = false;
    bool waiting = false;  // copies unacknowledged but not yet a whole round old
    for (PortId port = 0; port < floods.size(); ++port) {
      PortFlood& f = floods[port];
      const Neighbour* n = neighbours.by_port(port);
      if (!n || n->state != NeighbourState::kUp) {
        f.unacked.clear();
        f.marks.clear();
        f.pending = 0;
        continue;
      }
      for (LsdbSlot slot = 0; f.pending > 0 && slot < f.unacked.size(); ++slot) {
        if (f.unacked[slot] == 0) continue;
        const Lsdb::Entry* e = lsdb.at(slot);
        if (!e || e->lsa().seq != f.unacked[slot]) {
          f.acked(slot, 0);  // superseded or aged out: the newer copy has its own entry
          continue;
        }
        std::uint8_t& mark = f.marks[slot];
        if (mark & PortFlood::kQueued) continue;  // not on the wire yet: its round starts when it leaves
        if (mark & PortFlood::kFresh) {           // sent during this round: give it the next
          mark = 0;
          waiting = true;
          continue;
        }
        mark = PortFlood::kQueued | PortFlood::kFresh;
        f.to_send.push_back(slot);
        flood_touched = true;
        ++counters.retransmissions;
        resent = true;
      }
      pending = pending || f.pending > 0;
    }
    // Back off while retransmissions go unanswered: under congestion, resending everything every 250 ms feeds the
    // very queues that are dropping it. A round with copies still in their first round keeps the interval (a resent
    // copy is one of them the round after); a round with nothing unacknowledged resets it.
    if (resent) {
      retransmit_backoff = std::min(retransmit_backoff * 2, config.retransmit_interval * 8);
    } else if (!waiting) {
      retransmit_backoff = config.retransmit_interval;
    }
    if (pending) next_retransmit = now + retransmit_backoff;
    flush_at = std::min(flush_at, now);
  }

  // Sends queued LSAs and acks, bundled up to the packet size.
  void flush_floods(TimePoint now) {
    flush_at = kTimeNever;
    for (PortId port = 0; port < floods.size(); ++port) {
      PortFlood& f = floods[port];
      if (!f.to_send.empty()) {
        // Bundles list origins in ascending id order, whatever order their slots were assigned in. A present slot
        // is the only one with its origin, so its repeats end up adjacent (empty slots are skipped below). The
        // origins are read once, not in every comparison: each read is a cache miss into the database.
        send_order.clear();
        for (const LsdbSlot slot : f.to_send) send_order.emplace_back(lsdb_origin(slot), slot);
        std::sort(send_order.begin(), send_order.end());
        send_order.erase(std::unique(send_order.begin(), send_order.end()), send_order.end());
        f.to_send.clear();
        for (const auto& [origin, slot] : send_order) f.to_send.push_back(slot);
        // The bundle is built in a kept packet: copying an LSA over one already there reuses its link vector.
        auto& update = std::get<LsaUpdate>(tx_update.body);
        std::size_t count = 0;  // LSAs in the bundle (update.lsas may hold more, left from the last one)
        auto send_bundle = [&] {
          update.lsas.resize(count);
          tx_update.header = header(PacketType::kLsaUpdate);
          send(port, tx_update, true);
          count = 0;
          update.traces.clear();
        };
        std::size_t used = 0, packets = 0, next = 0;
        for (; next < f.to_send.size(); ++next) {
          const LsdbSlot slot = f.to_send[next];
          const Lsdb::Entry* e = lsdb.at(slot);
          if (!e) continue;
          // Skip what the neighbour has shown it holds since we queued it (it sent us the same copy: an implicit
          // ack). Neighbours at the same distance from the origin hear an LSA together; without this check they
          // would send it to each other, roughly doubling flooding in a dense mesh.
          if (!f.awaits(slot, e->lsa().seq)) continue;
          const LsaTrace* t = lsa_trace_at(slot, e->lsa());
          const std::size_t size = encoded_lsa_size(e->lsa()) + (t ? encoded_lsa_trace_size(t->context.size()) : 0);
          if (count > 0 && used + size > kBodyBudget) {
            send_bundle();
            used = 0;
            if (++packets == kFloodPacketsPerFlush) break;  // this one waits for the next flush, still queued
          }
          f.marks[slot] &= static_cast<std::uint8_t>(~PortFlood::kQueued);  // in this bundle: on the wire
          if (count < update.lsas.size()) {
            update.lsas[count] = e->lsa();
          } else {
            update.lsas.push_back(e->lsa());
          }
          ++count;
          if (t) update.traces.push_back(*t);
          used += size;
        }
        if (count > 0 && packets < kFloodPacketsPerFlush) send_bundle();
        // Paced: a database exchange (hundreds of LSAs) would otherwise fill the link's queue at once and drop the
        // data queued behind it. The rest goes out one flood delay later.
        f.to_send.erase(f.to_send.begin(), f.to_send.begin() + static_cast<std::ptrdiff_t>(next));
        if (!f.to_send.empty()) flush_at = now + config.flood_delay;
      }
      if (!f.to_ack.empty()) {
        const std::size_t per_packet = kBodyBudget / kAckTlvSize;
        for (std::size_t i = 0; i < f.to_ack.size(); i += per_packet) {
          LsaAck ack;
          const std::size_t end = std::min(f.to_ack.size(), i + per_packet);
          ack.acks.assign(f.to_ack.begin() + static_cast<std::ptrdiff_t>(i),
                          f.to_ack.begin() + static_cast<std::ptrdiff_t>(end));
          send(port, Packet{header(PacketType::kLsaAck), std::move(ack)}, true);
        }
        f.to_ack.clear();
      }
    }
  }

  // 50-150% of flood_delay (RFC 5148's flooding jitter). Neighbours that hear an advertisement together would
  // otherwise flush together and send it to each other across the same link; jittered, the later one has mostly
  // heard the earlier one's copy by then and skips it (flush_floods' implicit-ack check).
  Duration jittered_flood_delay() {
    const double factor = 0.5 + flood_rng.uniform();
    return Duration{static_cast<std::int64_t>(static_cast<double>(config.flood_delay.count()) * factor)};
  }

  // --- trace contexts of advertisements (mesh/trace_hooks.h) -------------------------------------------------
  // Keeps `context` as the trace context of `origin`'s LSA `seq` (empty: forget any), flooded with every copy.
  void keep_lsa_trace(NodeId origin, std::uint32_t seq, TraceContext context) {
    const LsdbSlot slot = lsdb.slot_of(origin);
    if (slot == kNoSlot) return;
    if (context.empty()) {
      if (slot < lsa_traces.size()) lsa_traces[slot] = LsaTrace{};
      return;
    }
    if (slot >= lsa_traces.size()) lsa_traces.resize(slot + 1);
    lsa_traces[slot] = LsaTrace{origin, seq, std::move(context)};
  }
  // The context to send with `lsa` (held in `slot`), or null.
  const LsaTrace* lsa_trace_at(LsdbSlot slot, const Lsa& lsa) const {
    if (slot >= lsa_traces.size()) return nullptr;
    const LsaTrace& t = lsa_traces[slot];
    return !t.context.empty() && t.origin == lsa.origin && t.seq == lsa.seq ? &t : nullptr;
  }
  void received_lsa_trace(const LsaUpdate& update, const Lsa& lsa, TimePoint now) {
    const LsaTrace* carried = nullptr;
    for (const LsaTrace& t : update.traces) {
      if (t.origin == lsa.origin && t.seq == lsa.seq) carried = &t;
    }
    if (!carried) return;  // a stale context of an older copy is never sent: lsa_trace_at() checks the seq
    if (trace) trace->lsa_received(self, lsa.origin, lsa.seq, carried->context, now);
    keep_lsa_trace(lsa.origin, lsa.seq, carried->context);
  }

  // --- SPF -----------------------------------------------------------------------------------------------------
  void schedule_spf(TimePoint now) {
    if (spf_at != kTimeNever) return;
    TimePoint at = now + config.spf_initial_delay;
    if (ran_spf && last_spf + spf_hold > at) at = last_spf + spf_hold;
    spf_at = at;
  }

  void run_spf(TimePoint now) {
    spf_at = kTimeNever;
    // OSPF-style back-off: runs close together double the hold time; a quiet period resets it.
    if (ran_spf && now - last_spf < spf_hold * 2) {
      spf_hold = std::min(spf_hold * 2, config.spf_max_hold);
    } else {
      spf_hold = config.spf_hold;
    }
    ran_spf = true;
    last_spf = now;
    spf_needed = false;
    router.recompute();
    ++counters.spf_runs;
    event(now, EventKind::kSpfRun, kNoNode, kNoNode, kNoNode, router.reachable());
    if (trace) trace->spf_ran(self, router.reachable(), now);

    if (config.emit_route_events) {
      std::map<NodeId, NodeId> next;
      for (const auto& [dst, r] : router.all_routes()) next[dst] = r.next_hop;
      for (const auto& [dst, nh] : next) {
        auto it = last_routes.find(dst);
        if (it == last_routes.end() || it->second != nh) event(now, EventKind::kRouteChanged, kNoNode, dst, nh);
      }
      for (const auto& [dst, nh] : last_routes) {
        if (!next.count(dst)) event(now, EventKind::kRouteChanged, kNoNode, dst, kNoNode);
      }
      last_routes = std::move(next);
    }

    // Backups wait until the routes settle: under churn SPF runs every hold interval and each run would throw the
    // last run's backups away. A failure before then computes its backup on first need (the same tree, just later).
    backups_at = now + kBackupSettle;

    // Pinned traffic follows the new database, still avoiding the failed element, until the pin expires.
    for (auto it = pins.begin(); it != pins.end();) {
      if (now >= it->second.until || !pin_for(it->first, it->second.avoid, it->second.until)) {
        it = pins.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Precomputes the backups of the next hops that carry traffic now; the rest are computed on first need.
  void precompute_backups(TimePoint now) {
    backups_at = kTimeNever;
    std::vector<NodeId> hops;
    std::erase_if(active, [&](const auto& a) { return now - a.second > config.backup_active_window; });
    for (const auto& [dst, last_seen] : active) {
      if (auto r = router.route(dst)) hops.push_back(r->next_hop);
    }
    std::sort(hops.begin(), hops.end());
    hops.erase(std::unique(hops.begin(), hops.end()), hops.end());
    router.precompute_backups(hops);
  }

  // --- forwarding --------------------------------------------------------------------------------------------
  // Picks where `d` goes next; fills d.explicit_route when the packet must ride a pinned path.
  NodeId choose_next_hop(Data& d, NodeId came_from, TimePoint now) {
    auto pin = pins.find(d.destination);
    if (pin != pins.end()) {
      if (now < pin->second.until && up(pin->second.path.front()) && pin->second.path.front() != came_from) {
        d.explicit_route.assign(pin->second.path.begin() + 1, pin->second.path.end());
        return pin->second.path.front();
      }
      if (now >= pin->second.until) pins.erase(pin);
    }
    auto route = router.route(d.destination);
    if (!route) return kNoNode;
    if (up(route->next_hop) && route->next_hop != came_from) return route->next_hop;
    // The next hop is gone (detected before SPF caught up) or would send the packet back where it came from
    // (the databases disagree: a micro-loop in the making). Either way: a pinned path that avoids it.
    const NodeId avoid = route->next_hop;
    if (!pin_for(d.destination, avoid, now + config.reroute_pin)) return kNoNode;
    const Pin& p = pins[d.destination];
    if (p.path.front() == came_from) return kNoNode;
    if (!up(avoid)) {
      ++counters.failovers;
      event(now, EventKind::kFailover, avoid, d.destination, p.path.front());
      if (trace) trace->failover(self, avoid, d.destination, p.path.front(), now);
    }
    d.explicit_route.assign(p.path.begin() + 1, p.path.end());
    return p.path.front();
  }

  void forward(Data d, NodeId came_from, TimePoint now) {
    if (d.destination == self) {
      ++counters.data_delivered;
      outputs.emplace_back(DeliverOutput{d.origin, std::move(d.payload), std::move(d.trace_context)});
      return;
    }
    if (came_from != kNoNode) {
      if (d.ttl <= 1) {
        ++counters.dropped_ttl;
        event(now, EventKind::kDataDropped, came_from, d.destination, kNoNode, 0, "ttl");
        return;
      }
      --d.ttl;
    }
    if (const std::size_t i = active_index(d.destination); i < active.size() && active[i].first == d.destination) {
      active[i].second = now;
    } else {
      active.insert(active.begin() + static_cast<std::ptrdiff_t>(i), {d.destination, now});
    }
    NodeId next = kNoNode;
    if (!d.explicit_route.empty()) {
      next = d.explicit_route.front();
      if (up(next)) {
        d.explicit_route.erase(d.explicit_route.begin());
      } else {
        next = kNoNode;  // the pinned path broke here too: repair locally
        d.explicit_route.clear();
      }
    }
    if (next == kNoNode) next = choose_next_hop(d, came_from, now);
    const Neighbour* n = next == kNoNode ? nullptr : neighbours.up_by_id(next);
    if (!n) {
      ++counters.dropped_no_route;
      event(now, EventKind::kDataDropped, came_from, d.destination, kNoNode, 0, "no_route");
      return;
    }
    if (came_from != kNoNode) ++counters.data_forwarded;
    send(n->port, Packet{header(PacketType::kData), std::move(d)}, false);
  }

  // --- bookkeeping -------------------------------------------------------------------------------------------
  void start(TimePoint now) {
    if (started) return;
    started = true;
    startup_until = now + config.hello_interval * config.dead_multiplier;
  }

  // A booting node sees its neighbours come up one by one over a hello interval or two. Advertising after each
  // would flood the whole mesh once per neighbour (at 1000 nodes, most of the cold-start traffic), so the first
  // advertisement waits until every port has an Up neighbour or the detection time has passed, whichever is first.
  bool in_startup_hold(TimePoint now) const {
    if (now >= startup_until) return false;
    return std::any_of(neighbours.all().begin(), neighbours.all().end(),
                       [](const Neighbour& n) { return !n.removed && n.state != NeighbourState::kUp; });
  }

  // When a neighbour is declared down while another has gone as silent (a partition, a crashed switch: links that
  // failed together, seen dead one by one as each one's last hello ages out), the advertisement waits for the
  // other's verdict, so the mesh floods and recomputes once for both instead of once per link. A lone failure (a
  // cut, a crashed neighbour) has no silent companion and goes out at once, unless another neighbour happens to
  // have missed hellos; the wait is at most a hello interval. Other changes (a neighbour up, a cost, a command, a
  // refresh) never wait. Returns when to look again, or kTimeNever to advertise now.
  TimePoint correlated_failure_due(TimePoint now) {
    if (!originated || !lost_neighbour) return kTimeNever;
    const TimePoint suspect = neighbours.next_suspect_expiry(now);
    if (suspect == kTimeNever) return kTimeNever;
    if (suspect_wait_since == kTimeNever) suspect_wait_since = now;
    const TimePoint limit = suspect_wait_since + config.hello_interval;
    return now >= limit ? kTimeNever : std::min(suspect, limit);
  }

  // Runs at the end of every input: re-originate (at most once per lsa_min_interval: changes coalesce), schedule
  // SPF, and schedule the flush of queued floods and acks (batched over flood_delay into fewer packets).
  void settle(TimePoint now) {
    if (own_dirty) {
      if (in_startup_hold(now)) {
        originate_at = startup_until;
      } else if (const TimePoint suspect = correlated_failure_due(now); suspect != kTimeNever) {
        originate_at = suspect;
      } else if (!originated || now >= last_origination + config.lsa_min_interval) {
        if (originate(now)) {
          originated = true;
          last_origination = now;
        }
        originate_at = kTimeNever;
      } else {
        originate_at = last_origination + config.lsa_min_interval;
      }
    }
    if (spf_needed) schedule_spf(now);
    // Whatever was queued before this input already has a flush scheduled (every input ends here, and only
    // flush_floods clears flush_at), so only queues touched since the last settle need looking at: most inputs are
    // hellos, and scanning every port's queues on each cost a cache line per port.
    if (flood_touched && flush_at == kTimeNever) {
      bool queued = false;
      for (const PortFlood& f : floods) queued = queued || !f.to_send.empty() || !f.to_ack.empty();
      if (queued) flush_at = now + jittered_flood_delay();
    }
    flood_touched = false;
  }

  NodeConfig config;
  NodeId self;
  // One stream per purpose: hello times then depend only on the seed and the hello schedule, not on how much the
  // node flooded (the simulator's link draws are keyed by send time, so shifted hellos would see other losses).
  static constexpr std::uint64_t kHelloStream = 0x68656C6C6FULL;  // "hello"
  static constexpr std::uint64_t kFloodStream = 0x666C6F6F64ULL;  // "flood"
  Rng hello_rng;
  Rng flood_rng;
  AuthKey key;
  NeighbourTable neighbours;
  Lsdb lsdb;
  Router router;
  std::vector<Output> outputs;
  Counters counters;
  std::uint32_t tx_seq = 0;
  // Replay windows by sender. Only neighbours send to us, so a short vector scanned in order beats any map.
  std::vector<std::pair<NodeId, ReplayWindow>> replay;
  ReplayWindow& replay_window(NodeId sender) {
    for (auto& [id, window] : replay) {
      if (id == sender) return window;
    }
    return replay.emplace_back(sender, ReplayWindow{}).second;
  }

  std::uint32_t own_seq = 0;
  bool own_dirty = true;
  bool own_must = false;  // re-originate even if unchanged: a refresh, or a copy of ours from before a restart
  bool avoid_transit = false;
  std::vector<PortFlood> floods;  // by port: drivers number ports densely from 0
  bool flood_touched = false;     // a port's queues may have grown since the last settle (see settle)
  std::vector<std::pair<NodeId, LsdbSlot>> send_order;  // flush_floods' scratch, kept for its capacity
  DecodeBuffers rx;  // the packet being received, its buffers kept from packet to packet (decode_into)
  Packet tx_update{{}, LsaUpdate{}};  // flush_floods' bundle, its buffers kept from bundle to bundle
  TimePoint next_hello = kTimeZero;
  TimePoint next_refresh = kTimeNever;
  TimePoint next_retransmit = kTimeNever;
  TimePoint next_age_check = kTimeZero;
  TimePoint flush_at = kTimeNever;      // queued floods and acks go out then
  TimePoint originate_at = kTimeNever;  // a deferred origination (lsa_min_interval, a correlated failure)
  TimePoint suspect_wait_since = kTimeNever;  // the advertisement has waited for silent neighbours since then
  bool lost_neighbour = false;  // a neighbour went down since we last advertised (see correlated_failure_due)
  TimePoint last_origination{};
  bool originated = false;
  Duration retransmit_backoff = config.retransmit_interval;

  TimePoint spf_at = kTimeNever;
  TimePoint backups_at = kTimeNever;    // precompute backups then (routes quiet since the last SPF)
  TimePoint last_spf{};
  bool ran_spf = false;
  Duration spf_hold;
  bool spf_needed = false;  // the database changed in a way that can change our tree
  std::map<NodeId, NodeId> last_routes;

  // Destination -> last data seen for it, sorted by destination: touched by every data packet, and a flow's
  // destinations are few, so a flat vector beats a tree's scattered nodes.
  std::vector<std::pair<NodeId, TimePoint>> active;
  std::size_t active_index(NodeId dst) const {  // where dst is, or would go
    const auto it =
        std::lower_bound(active.begin(), active.end(), dst, [](const auto& a, NodeId d) { return a.first < d; });
    return static_cast<std::size_t>(it - active.begin());
  }
  std::map<NodeId, Pin> pins;
  TraceHooks* trace = nullptr;       // optional (set_trace_hooks)
  std::vector<LsaTrace> lsa_traces;  // by LSDB slot: the trace context flooded with the copy we hold
  bool started = false;          // start() ran: the first input fixed startup_until
  TimePoint startup_until = kTimeNever;
};

Node::Node(const NodeConfig& config, NodeId self, std::uint64_t rng_seed)
    : impl_(std::make_unique<Impl>(config, self, rng_seed)) {}
Node::~Node() = default;

NodeId Node::id() const { return impl_->self; }

void Node::add_port(PortId port, TimePoint now) {
  impl_->start(now);
  impl_->neighbours.add_port(port);
  impl_->next_hello = std::min(impl_->next_hello, now);
}

void Node::remove_port(PortId port, TimePoint now) {
  auto change = impl_->neighbours.remove_port(port, now);
  if (change) impl_->on_neighbour_changes({*change}, now);
  if (port < impl_->floods.size()) impl_->floods[port] = {};
  impl_->settle(now);
}

void Node::receive(PortId port, std::span<const std::uint8_t> bytes, TimePoint now) {
  Impl& m = *impl_;
  ++m.counters.rx_packets;
  m.counters.rx_bytes += bytes.size();
  const Neighbour* n = m.neighbours.by_port(port);
  if (!n || n->removed) return;  // a port we do not have: the driver's bug, not the network's
  DecodeOutcome& d = decode_into(bytes, m.key, m.rx);
  if (!d.ok()) {
    if (d.failure->error == DecodeError::kUnauthenticated) {
      ++m.counters.rejected_unauthenticated;
    } else {
      ++m.counters.rejected_malformed;
    }
    m.event(now, EventKind::kPacketRejected, kNoNode, kNoNode, kNoNode, 0,
            std::string(decode_error_name(d.failure->error)));
    return;
  }
  m.counters.unknown_tlvs += d.unknown_tlvs;
  const Header& h = d.packet.header;
  if (h.sender == m.self || h.sender == kNoNode || !m.replay_window(h.sender).accept(h.epoch, h.seq)) {
    ++m.counters.rejected_replay;
    m.event(now, EventKind::kPacketRejected, h.sender, kNoNode, kNoNode, 0, "replay");
    return;
  }
  const bool control = h.type != PacketType::kData;
  (control ? m.counters.control_rx_bytes : m.counters.data_rx_bytes) += bytes.size();

  std::vector<NeighbourChange> changes;
  switch (h.type) {
    case PacketType::kHello:
      if (m.neighbours.on_hello(port, h.sender, h.epoch, std::get<Hello>(d.packet.body), now, changes)) {
        m.own_dirty = true;
      }
      m.answer_hello(port, now);
      m.on_neighbour_changes(changes, now);
      break;
    case PacketType::kLsaUpdate:
      m.on_lsa_update(port, std::get<LsaUpdate>(d.packet.body), now);
      break;
    case PacketType::kLsaAck:
      m.on_lsa_ack(port, std::get<LsaAck>(d.packet.body));
      break;
    case PacketType::kData:
      m.forward(std::move(std::get<Data>(d.packet.body)), h.sender, now);
      break;
  }
  m.settle(now);
}

void Node::send_data(NodeId destination, std::span<const std::uint8_t> payload, TimePoint now,
                     std::span<const std::uint8_t> trace_context) {
  Impl& m = *impl_;
  ++m.counters.data_originated;
  Data d;
  d.origin = m.self;
  d.destination = destination;
  d.ttl = m.config.default_ttl;
  d.payload.assign(payload.begin(), payload.end());
  d.trace_context.assign(trace_context.begin(), trace_context.end());
  m.forward(std::move(d), kNoNode, now);
  m.settle(now);
}

void Node::tick(TimePoint now) {
  Impl& m = *impl_;
  m.start(now);
  std::vector<NeighbourChange> changes;
  m.neighbours.expire(now, changes);
  m.on_neighbour_changes(changes, now);
  if (now >= m.next_hello) m.send_hellos(now);
  if (now >= m.next_age_check) {
    m.next_age_check = now + kAgeCheckInterval;
    if (!m.lsdb.remove_expired(now, m.config.lsa_max_age, m.self).empty()) m.spf_needed = true;
    for (auto it = m.pins.begin(); it != m.pins.end();) it = now >= it->second.until ? m.pins.erase(it) : std::next(it);
  }
  if (now >= m.next_refresh) m.own_dirty = m.own_must = true;
  if (m.neighbours.release_holds(now)) m.own_dirty = true;
  if (now >= m.next_retransmit) m.retransmit(now);
  m.settle(now);
  if (now >= m.spf_at) m.run_spf(now);
  if (now >= m.backups_at) m.precompute_backups(now);
  if (now >= m.flush_at) m.flush_floods(now);
}

void Node::apply(const Command& command, TimePoint now) {
  Impl& m = *impl_;
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, command::RaiseLinkCost>) {
          if (Neighbour* n = m.neighbours.by_id(c.neighbour)) n->cost_factor = std::max(c.factor, 0.01);
        } else if constexpr (std::is_same_v<T, command::DrainLink>) {
          if (Neighbour* n = m.neighbours.by_id(c.neighbour)) n->drained = c.drained;
        } else if constexpr (std::is_same_v<T, command::AvoidTransit>) {
          m.avoid_transit = c.avoid;
        } else if constexpr (std::is_same_v<T, command::SetHelloInterval>) {
          m.config.hello_interval = std::max(c.interval, milliseconds(10));
          m.config.dead_multiplier = std::max(c.multiplier, 2);
        } else if constexpr (std::is_same_v<T, command::SetLinkDetection>) {
          m.neighbours.set_detect_multiplier(c.neighbour, std::clamp(c.multiplier, 0, 255));
        }
      },
      command);
  m.own_dirty = true;  // every routing change is advertised (DESIGN.md)
  m.settle(now);
}

void Node::drain_outputs(std::vector<Output>& out) {
  auto& src = impl_->outputs;
  if (out.empty()) {
    out.swap(src);
  } else {
    out.insert(out.end(), std::make_move_iterator(src.begin()), std::make_move_iterator(src.end()));
  }
  src.clear();
}

TimePoint Node::next_deadline() const {
  const Impl& m = *impl_;
  return std::min({m.next_hello, m.neighbours.next_expiry(), m.neighbours.next_hold_end(), m.next_refresh,
                   m.next_retransmit, m.next_age_check, m.spf_at, m.backups_at, m.flush_at, m.originate_at});
}

void Node::set_trace_hooks(TraceHooks* hooks) { impl_->trace = hooks; }

Telemetry Node::telemetry(TimePoint now) const {
  const Impl& m = *impl_;
  Telemetry t;
  t.self = m.self;
  t.at = now;
  for (const auto& n : m.neighbours.all()) {
    if (n.removed || n.id == kNoNode) continue;
    t.neighbours.push_back(NeighbourInfo{n.id, n.port, n.state == NeighbourState::kUp, n.estimate.ratio_in,
                                         n.estimate.ratio_out, n.estimate.etx(), n.estimate.srtt_s,
                                         NeighbourTable::effective_cost(n), n.since});
  }
  t.routes = m.router.reachable();
  // Counting backups computes one tree per next hop (cached until the next SPF): cheap for a telemetry read.
  Router& router = impl_->router;
  for (const auto& [dst, r] : router.all_routes()) {
    if (!router.backup_path(dst, r.next_hop).empty()) ++t.routes_with_backup;
  }
  t.lsdb_size = m.lsdb.size();
  t.counters = m.counters;
  return t;
}

std::size_t Node::route_count() const { return impl_->router.reachable(); }

std::vector<RouteInfo> Node::routes() const {
  Impl& m = *impl_;  // backup trees are a cache: filling it does not change what the node does
  std::vector<RouteInfo> out;
  for (const auto& [dst, r] : m.router.all_routes()) {
    RouteInfo info{dst, r.next_hop, r.cost, m.router.backup_path(dst, r.next_hop), false};
    auto pin = m.pins.find(dst);
    if (pin != m.pins.end()) {
      info.pinned = true;
      info.next_hop = pin->second.path.front();
    }
    out.push_back(std::move(info));
  }
  return out;
}

NodeId Node::next_hop(NodeId destination) const {
  const Impl& m = *impl_;
  auto pin = m.pins.find(destination);
  if (pin != m.pins.end() && m.up(pin->second.path.front())) return pin->second.path.front();
  auto r = m.router.route(destination);
  return r ? r->next_hop : kNoNode;
}

std::vector<std::tuple<NodeId, NodeId, Cost>> Node::topology() const {
  const Graph& g = impl_->router.graph();  // may rebuild a stale graph: a cache, not behaviour
  std::vector<std::tuple<NodeId, NodeId, Cost>> out;
  for (Index i = 0; i < g.size(); ++i) {
    auto targets = g.targets(i);
    auto costs = g.costs(i);
    for (std::size_t k = 0; k < targets.size(); ++k) out.emplace_back(g.id(i), g.id(targets[k]), costs[k]);
  }
  return out;
}

}  // namespace meshloop::mesh
