#include "baseline/batman_agent.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <string>
#include <string_view>
#include <utility>

namespace meshloop::baseline {
namespace {

std::uint8_t popcount8(std::uint64_t bits) { return static_cast<std::uint8_t>(std::popcount(bits)); }

// bitarray.c batadv_bit_get_packet(): move the window of received seqnos by seq_num_diff and mark the newest.
// Returns true when the window moved (the caller then records the new last seqno).
bool bit_get_packet(std::uint64_t& bits, std::int32_t seq_num_diff, bool set_mark) {
  // Slightly older: we already have a higher seqno; just mark it.
  if (seq_num_diff <= 0 && seq_num_diff > -kTqLocalWindowSize) {
    if (set_mark) bits |= std::uint64_t{1} << (-seq_num_diff);
    return false;
  }
  // Slightly newer: shift the window and mark.
  if (seq_num_diff > 0 && seq_num_diff < kTqLocalWindowSize) {
    bits <<= seq_num_diff;
    if (set_mark) bits |= 1;
    return true;
  }
  // Much newer (we missed many), or much older (the other host restarted; the caller has already dropped it if
  // the window is protected): reset the window.
  bits = set_mark ? 1 : 0;
  return true;
}

// bitarray.h batadv_test_bit(): was `curr_seqno` seen, given the window ends at `last_seqno`?
bool test_bit(std::uint64_t bits, std::uint32_t last_seqno, std::uint32_t curr_seqno) {
  const auto diff = static_cast<std::int32_t>(last_seqno - curr_seqno);
  if (diff < 0 || diff >= kTqLocalWindowSize) return false;
  return ((bits >> diff) & 1) != 0;
}

// bat_iv_ogm.c batadv_ring_buffer_avg(): the average of the non-zero entries only.
std::uint8_t ring_avg(const std::array<std::uint8_t, kTqGlobalWindowSize>& ring) {
  unsigned sum = 0, count = 0;
  for (std::uint8_t v : ring) {
    if (v != 0) {
      sum += v;
      ++count;
    }
  }
  return count == 0 ? 0 : static_cast<std::uint8_t>(sum / count);
}

}  // namespace

BatmanAgent::BatmanAgent(const BatmanConfig& config, NodeId self, std::uint64_t seed)
    : config_(config), self_(self), rng_(seed) {
  assert(self != mesh::kNoNode);
  // bat_iv_ogm.c batadv_iv_ogm_iface_enable(): the first seqno is random (get_random_u32()).
  ogm_seqno_ = static_cast<std::uint32_t>(rng_.next_u64());
}

// --- originator table ----------------------------------------------------------------------------------------

BatmanAgent::Orig* BatmanAgent::find_orig(NodeId addr) {
  auto it = orig_index_.find(addr);
  return it == orig_index_.end() ? nullptr : &origs_[it->second];
}
const BatmanAgent::Orig* BatmanAgent::find_orig(NodeId addr) const {
  auto it = orig_index_.find(addr);
  return it == orig_index_.end() ? nullptr : &origs_[it->second];
}

// bat_iv_ogm.c batadv_iv_ogm_orig_get() / originator.c batadv_orig_node_new() + batadv_orig_ifinfo_new().
BatmanAgent::Orig& BatmanAgent::get_orig(NodeId addr, TimePoint now) {
  if (Orig* o = find_orig(addr)) return *o;
  Orig o;
  o.addr = addr;
  o.last_seen = now;
  // batadv_orig_ifinfo_new(): start outside the reset protection.
  o.seqno_reset = now - kResetProtection - microseconds(1);
  orig_index_.emplace(addr, origs_.size());
  origs_.push_back(std::move(o));
  return origs_.back();
}

BatmanAgent::Neigh* BatmanAgent::find_neigh(Orig& orig, NodeId addr) {
  for (Neigh& n : orig.neighs)
    if (n.addr == addr) return &n;
  return nullptr;
}
const BatmanAgent::Neigh* BatmanAgent::find_neigh(const Orig& orig, NodeId addr) {
  for (const Neigh& n : orig.neighs)
    if (n.addr == addr) return &n;
  return nullptr;
}

// originator.c batadv_neigh_node_create(): last_seen starts now.
BatmanAgent::Neigh& BatmanAgent::new_neigh(Orig& orig, NodeId addr, TimePoint now) {
  Neigh n;
  n.addr = addr;
  n.last_seen = now;
  orig.neighs.push_back(n);
  return orig.neighs.back();
}

// --- driver surface ------------------------------------------------------------------------------------------

void BatmanAgent::add_port(mesh::PortId port, TimePoint now) {
  ports_.push_back(port);
  if (!started_) {
    // The interface becomes active: batadv_iv_ogm_schedule() queues the first own OGM; originator.c starts the
    // periodic purge (batadv_purge_orig every BATADV_ORIG_WORK_PERIOD).
    started_ = true;
    schedule_own_ogm(now);
    next_purge_ = now + kOrigWorkPeriod;
  }
}

void BatmanAgent::receive(mesh::PortId port, std::span<const std::uint8_t> bytes, TimePoint now) {
  ++counters_.rx_frames;
  Result<Frame> frame = decode_frame(bytes);
  if (!frame.ok()) {
    ++counters_.rx_malformed;
    outputs_.emplace_back(mesh::Event{now, mesh::EventKind::kPacketRejected, mesh::kNoNode, mesh::kNoNode,
                                      mesh::kNoNode, 0, "malformed"});
    return;
  }
  Frame& f = frame.value();
  // bat_iv_ogm.c batadv_iv_ogm_process(): is_my_addr, "received my own broadcast".
  if (f.sender == self_) {
    ++counters_.rx_own_broadcast;
    return;
  }
  port_of_[f.sender] = port;  // the link layer's knowledge of where a MAC lives
  if (f.is_ogm) {
    // bat_iv_ogm.c batadv_iv_ogm_receive(): each OGM of the aggregate in turn.
    for (const Ogm& o : f.ogms) process_ogm(f.sender, o, now);
  } else {
    handle_unicast(std::move(f.data), now);
  }
}

void BatmanAgent::send_data(NodeId destination, std::span<const std::uint8_t> payload, TimePoint now) {
  ++counters_.data_originated;
  // send.c batadv_send_skb_unicast() -> batadv_send_skb_prepare_unicast(): ttl = BATADV_TTL.
  UnicastData d;
  d.ttl = kTtl;
  d.dest = destination;
  d.source = self_;
  d.payload.assign(payload.begin(), payload.end());
  const Orig* o = find_orig(destination);
  if (o == nullptr || o->router == mesh::kNoNode) {
    drop_data(destination, "no_route", now);
    return;
  }
  send_unicast(o->router, d);
}

void BatmanAgent::tick(TimePoint now) {
  // send.c / bat_iv_ogm.c batadv_iv_send_outstanding_bat_ogm_packet(): every queued frame whose time has come.
  while (true) {
    auto due = forw_.end();
    for (auto it = forw_.begin(); it != forw_.end(); ++it) {
      if (it->send_time > now) continue;
      if (due == forw_.end() || it->send_time < due->send_time ||
          (it->send_time == due->send_time && it->order < due->order))
        due = it;
    }
    if (due == forw_.end()) break;
    ForwPacket fp = std::move(*due);
    forw_.erase(due);
    if (!fp.own) ++queue_left_;
    emit(fp);
    // "if (forw_packet->own) batadv_iv_ogm_schedule(...)": the next own OGM is queued when this one leaves.
    if (fp.own) schedule_own_ogm(now);
  }
  if (now >= next_purge_) {
    purge(now);
    next_purge_ = now + kOrigWorkPeriod;
  }
}

void BatmanAgent::drain_outputs(std::vector<mesh::Output>& out) {
  for (auto& o : outputs_) out.push_back(std::move(o));
  outputs_.clear();
}

TimePoint BatmanAgent::next_deadline() const {
  TimePoint t = next_purge_;
  for (const ForwPacket& fp : forw_) t = std::min(t, fp.send_time);
  return t;
}

NodeId BatmanAgent::next_hop(NodeId destination) const {
  const Orig* o = find_orig(destination);
  return o == nullptr ? mesh::kNoNode : o->router;
}

std::size_t BatmanAgent::route_count(TimePoint /*now*/) const {
  std::size_t n = 0;
  for (const Orig& o : origs_)
    if (o.router != mesh::kNoNode) ++n;
  return n;
}

std::uint8_t BatmanAgent::tq_to(NodeId originator) const {
  const Orig* o = find_orig(originator);
  if (o == nullptr || o->router == mesh::kNoNode) return 0;
  const Neigh* r = find_neigh(*o, o->router);
  return r == nullptr ? 0 : r->tq_avg;
}

std::pair<int, int> BatmanAgent::link_counts_for_test(NodeId neighbour) const {
  const Orig* o = find_orig(neighbour);
  if (o == nullptr) return {0, 0};
  const Neigh* n = find_neigh(*o, neighbour);
  return {o->bcast_own_sum, n == nullptr ? 0 : n->real_packet_count};
}

// --- sending OGMs --------------------------------------------------------------------------------------------

// bat_iv_ogm.c batadv_iv_ogm_schedule() (primary interface) and batadv_iv_ogm_emit_send_time().
void BatmanAgent::schedule_own_ogm(TimePoint now) {
  Ogm o;
  o.ttl = kTtl;                        // batadv_iv_ogm_primary_iface_set(): ttl = BATADV_TTL
  o.flags = kFlagPrimariesFirstHop;    // ... flags = BATADV_PRIMARIES_FIRST_HOP
  o.seqno = ogm_seqno_++;              // seqno = ogm_seqno; atomic_inc(&ogm_seqno)
  o.orig = self_;                      // batadv_iv_ogm_iface_update_mac(): orig = prev_sender = our address
  o.prev_sender = self_;
  o.tq = kTqMaxValue;                  // batadv_iv_ogm_iface_enable(): tq = BATADV_TQ_MAX_VALUE
  o.tvlv_len = config_.ogm_tvlv_bytes;
  // batadv_iv_ogm_slide_own_bcast_window(): every echo window moves by one.
  for (Orig& orig : origs_) {
    bit_get_packet(orig.bcast_own, 1, false);
    orig.bcast_own_sum = popcount8(orig.bcast_own);
  }
  // send time = now + orig_interval - BATADV_JITTER + prandom_u32_max(2 * BATADV_JITTER) ms
  const Duration jitter = milliseconds(rng_.uniform_int(0, 2 * kJitterMs - 1));
  queue_add(o, true, now + config_.orig_interval - milliseconds(kJitterMs) + jitter);
}

// bat_iv_ogm.c batadv_iv_ogm_can_aggr() for a single (primary) interface.
bool BatmanAgent::can_aggregate(const ForwPacket& fp, const Ogm& ogm, std::size_t len, TimePoint send_time) const {
  // The send time is within BATADV_MAX_AGGREGATION_MS of the queued frame's, which is later than ours.
  if (!(send_time < fp.send_time) || !(send_time + kMaxAggregation >= fp.send_time)) return false;
  if (fp.bytes + len > kMaxAggregationBytes) return false;      // BATADV_MAX_AGGREGATION_BYTES
  if (fp.ogms.size() >= kMaxAggregationPackets) return false;   // BATADV_MAX_AGGREGATION_PACKETS
  const Ogm& base = fp.ogms.front();
  const bool directlink = (ogm.flags & kFlagDirectLink) != 0;
  // "packets without direct link flag and high TTL are flooded through the net"
  if (!directlink && (base.flags & kFlagDirectLink) == 0 && base.ttl != 1) return true;
  // "if the incoming packet is sent via this one interface only - we still can aggregate"
  if (directlink && ogm.ttl == 1 && (base.flags & kFlagDirectLink) != 0) return true;
  return false;
}

// bat_iv_ogm.c batadv_iv_ogm_queue_add() / batadv_iv_ogm_aggregate_new() / batadv_iv_ogm_aggregate().
void BatmanAgent::queue_add(const Ogm& ogm, bool own, TimePoint send_time) {
  const std::size_t len = kOgmHeaderLen + ogm.tvlv_len;
  // Own packets are not aggregated onto others (others may join an own frame). The kernel's list is newest first.
  if (config_.aggregated_ogms && !own) {
    for (auto it = forw_.rbegin(); it != forw_.rend(); ++it) {
      if (can_aggregate(*it, ogm, len, send_time)) {
        it->ogms.push_back(ogm);
        it->bytes += len;
        return;
      }
    }
  }
  if (!own) {
    // batadv_iv_ogm_aggregate_new(): "batman packet queue full".
    if (queue_left_ == 0) {
      ++counters_.queue_full_drops;
      return;
    }
    --queue_left_;
    // "we hold it back for a while, so that it might be aggregated later on"
    if (config_.aggregated_ogms) send_time += kMaxAggregation;
  }
  forw_.push_back(ForwPacket{send_time, forw_order_++, own, len, {ogm}});
}

// bat_iv_ogm.c batadv_iv_ogm_emit() / batadv_iv_ogm_send_to_if(): broadcast on our one interface, i.e. one
// transmission on every port.
void BatmanAgent::emit(ForwPacket& fp) {
  if (ports_.empty()) return;
  for (const Ogm& o : fp.ogms)
    if (o.orig == self_) ++counters_.ogms_own_sent;
  ++counters_.ogm_frames_sent;
  std::vector<std::uint8_t> bytes = encode_ogm_frame(self_, fp.ogms);
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    outputs_.emplace_back(mesh::SendOutput{ports_[i], i + 1 == ports_.size() ? std::move(bytes) : bytes, true});
  }
}

// --- receiving OGMs ------------------------------------------------------------------------------------------

// bat_iv_ogm.c batadv_iv_ogm_process() followed by batadv_iv_ogm_process_per_outif(). batman-adv runs the latter
// once for the default "interface" (ranking only) and once per outgoing interface (ranking and rebroadcast); with
// one non-wireless interface both keep identical state, so one pass does both.
void BatmanAgent::process_ogm(NodeId h_source, Ogm ogm, TimePoint now) {
  ++counters_.ogms_received;
  if (ogm.orig == self_) {
    // is_my_orig: an echo of our own OGM. "neighbor has to indicate direct link and it has to come via the
    // corresponding interface; save packet seqno for bidirectional check".
    Orig& neigh_orig = get_orig(h_source, now);
    if ((ogm.flags & kFlagDirectLink) != 0) {
      const auto bit_pos = static_cast<std::int32_t>(ogm_seqno_ - 2 - ogm.seqno);  // if_incoming_seqno - 2 - seqno
      if (bit_pos >= 0 && bit_pos < kTqLocalWindowSize) {  // batadv_set_bit() ignores positions outside the window
        neigh_orig.bcast_own |= std::uint64_t{1} << bit_pos;
        neigh_orig.bcast_own_sum = popcount8(neigh_orig.bcast_own);
      }
    }
    return;  // "Drop packet: originator packet from myself (via neighbor)"
  }
  if (ogm.prev_sender == self_) return;  // is_my_oldorig: "ignoring all rebroadcast echos"
  // "ignoring all packets not forwarded from the best next hop"
  if ((ogm.flags & kFlagNotBestNextHop) != 0) return;

  Orig& orig = get_orig(ogm.orig, now);
  const Dup dup = update_seqnos(orig, h_source, ogm.seqno, now);
  const bool single_hop = h_source == ogm.orig;
  if (dup == Dup::kProtected) {  // "packet within seqno protection time"
    ++counters_.ogms_protected;
    return;
  }
  if (ogm.tq == 0) return;  // "originator packet with tq equal 0"

  const Neigh* router = orig.router == mesh::kNoNode ? nullptr : find_neigh(orig, orig.router);
  NodeId router_router = mesh::kNoNode;
  if (router != nullptr) {
    if (const Orig* ro = find_orig(router->addr)) router_router = ro->router;
  }
  const bool from_best_next_hop = router != nullptr && router->tq_avg != 0 && router->addr == h_source;
  // "avoid temporary routing loops": our router rebroadcast this OGM to someone who sends it back to us.
  if (router != nullptr && router_router != mesh::kNoNode && router->addr == ogm.prev_sender &&
      ogm.orig != ogm.prev_sender && router->addr == router_router)
    return;

  // "if sender is a direct neighbor the sender mac equals originator mac"
  Orig& orig_neigh = single_hop ? orig : get_orig(h_source, now);
  // "drop packet if sender is not a direct neighbor and if we don't route towards it"
  if (!single_hop && orig_neigh.router == mesh::kNoNode) return;

  const bool bidirect = calc_tq(orig, orig_neigh, ogm, now);
  // "update ranking if it is not a duplicate or has the same seqno and similar ttl as the non-duplicate"
  const bool sameseq = orig.last_real_seqno == ogm.seqno;
  const bool similar_ttl = static_cast<int>(orig.last_ttl) - 3 <= static_cast<int>(ogm.ttl);
  if (bidirect && (dup == Dup::kNone || (sameseq && similar_ttl))) orig_update(orig, h_source, ogm, dup, now);

  if (single_hop) {
    // "mark direct link on incoming interface": a direct neighbour's OGM is always rebroadcast (it is the echo
    // its bidirectional check needs).
    forward(h_source, ogm, true, from_best_next_hop, now);
    return;
  }
  if (!bidirect) return;              // "not received via bidirectional link"
  if (dup == Dup::kNeighDup) return;  // "duplicate packet received"
  forward(h_source, ogm, false, from_best_next_hop, now);
}

// bat_iv_ogm.c batadv_iv_ogm_update_seqnos() with main.c batadv_window_protected().
BatmanAgent::Dup BatmanAgent::update_seqnos(Orig& orig, NodeId h_source, std::uint32_t seqno, TimePoint now) {
  const auto seq_diff = static_cast<std::int32_t>(seqno - orig.last_real_seqno);
  if (!orig.neighs.empty() && (seq_diff <= -kTqLocalWindowSize || seq_diff >= kExpectedSeqnoRange)) {
    // batadv_window_protected(): within BATADV_RESET_PROTECTION_MS of the last reset, drop; else accept the
    // restart and start protection.
    if (!(now > orig.seqno_reset + kResetProtection)) return Dup::kProtected;
    orig.seqno_reset = now;
  }
  Dup ret = Dup::kNone;
  bool need_update = false;
  for (Neigh& n : orig.neighs) {
    const bool is_dup = test_bit(n.real_bits, orig.last_real_seqno, seqno);
    bool set_mark = false;
    if (n.addr == h_source) {
      set_mark = true;
      if (is_dup) ret = Dup::kNeighDup;
    } else if (is_dup && ret != Dup::kNeighDup) {
      ret = Dup::kOrigDup;
    }
    need_update |= bit_get_packet(n.real_bits, seq_diff, set_mark);
    n.real_packet_count = popcount8(n.real_bits);
  }
  if (need_update) orig.last_real_seqno = seqno;
  return ret;
}

// bat_iv_ogm.c batadv_iv_ogm_calc_tq(): the local link's TQ folded into the OGM's TQ. Returns is_bidirect.
bool BatmanAgent::calc_tq(Orig& orig, Orig& orig_neigh, Ogm& ogm, TimePoint now) {
  Neigh* nn = find_neigh(orig_neigh, orig_neigh.addr);
  if (nn == nullptr) nn = &new_neigh(orig_neigh, orig_neigh.addr, now);
  if (&orig == &orig_neigh) nn->last_seen = now;  // "if orig_node is direct neighbor update neigh_node last_seen"
  orig.last_seen = now;

  const int orig_eq_count = orig_neigh.bcast_own_sum;  // our OGMs the neighbour echoed (transmit side)
  const int neigh_rq_count = nn->real_packet_count;    // its OGMs we received from it (receive side)
  const int total_count = std::min(orig_eq_count, neigh_rq_count);  // "not get a value bigger than 100 %"
  int tq_own = 0;
  if (total_count >= kTqLocalBidirectSendMinimum && neigh_rq_count >= kTqLocalBidirectRecvMinimum)
    tq_own = (kTqMaxValue * total_count) / neigh_rq_count;
  // "1 - ((1-x) ** 3), normalized to TQ_MAX_VALUE": punishes asymmetric links (few OGMs received from them).
  const unsigned inv = static_cast<unsigned>(kTqLocalWindowSize - neigh_rq_count);
  const unsigned max_cube = kTqLocalWindowSize * kTqLocalWindowSize * kTqLocalWindowSize;
  const unsigned inv_asym_penalty = (kTqMaxValue * inv * inv * inv) / max_cube;
  const unsigned tq_asym_penalty = kTqMaxValue - inv_asym_penalty;
  // The half-duplex (wifi, same interface) penalty does not apply to our point-to-point links; the per-interface
  // hop_penalty (Linux >= 5.9) defaults to 0.
  const unsigned tq_iface_penalty = kTqMaxValue;
  const std::uint64_t combined = std::uint64_t{ogm.tq} * static_cast<unsigned>(tq_own) * tq_asym_penalty *
                                 tq_iface_penalty / (std::uint64_t{kTqMaxValue} * kTqMaxValue * kTqMaxValue);
  ogm.tq = static_cast<std::uint8_t>(combined);
  return ogm.tq >= kTqTotalBidirectLimit;
}

// bat_iv_ogm.c batadv_iv_ogm_orig_update(): the global window and router switching.
void BatmanAgent::orig_update(Orig& orig, NodeId h_source, const Ogm& ogm, Dup dup, TimePoint now) {
  auto ring_set = [](Neigh& n, std::uint8_t v) {  // batadv_ring_buffer_set()
    n.tq_recv[n.tq_index] = v;
    n.tq_index = static_cast<std::uint8_t>((n.tq_index + 1) % kTqGlobalWindowSize);
    n.tq_avg = ring_avg(n.tq_recv);
  };
  // A new seqno (not a duplicate) counts as a miss (0) for every other neighbour of this originator.
  for (Neigh& t : orig.neighs) {
    if (t.addr == h_source || dup != Dup::kNone) continue;
    ring_set(t, 0);
  }
  Neigh* nn = find_neigh(orig, h_source);
  if (nn == nullptr) {
    get_orig(h_source, now);  // batadv_iv_ogm_orig_get(h_source): the neighbour's own originator entry
    nn = &new_neigh(orig, h_source, now);
  }
  nn->last_seen = now;
  ring_set(*nn, ogm.tq);
  if (dup == Dup::kNone) {
    orig.last_ttl = ogm.ttl;
    nn->last_ttl = ogm.ttl;
  }
  if (orig.router == nn->addr) return;  // "this neighbor already is our next hop"
  if (const Neigh* router = orig.router == mesh::kNoNode ? nullptr : find_neigh(orig, orig.router)) {
    if (router->tq_avg > nn->tq_avg) return;  // "does not offer a better TQ"
    if (router->tq_avg == nn->tq_avg) {
      // "if the TQ is the same and the link not more symmetric we won't consider it either"
      const Orig* ro = find_orig(router->addr);
      const Orig* no = find_orig(nn->addr);
      const int sum_orig = ro == nullptr ? 0 : ro->bcast_own_sum;
      const int sum_neigh = no == nullptr ? 0 : no->bcast_own_sum;
      if (sum_orig >= sum_neigh) return;
    }
  }
  update_route(orig, nn->addr, now);
}

// bat_iv_ogm.c batadv_iv_ogm_forward() and batadv_iv_ogm_fwd_send_time().
void BatmanAgent::forward(NodeId h_source, Ogm ogm, bool single_hop, bool from_best_next_hop, TimePoint now) {
  if (ogm.ttl <= 1) return;  // "ttl exceeded"
  if (!from_best_next_hop) {
    // "Mark the forwarded packet when it is not coming from our best next hop. We still need to forward the
    // packet for our neighbor link quality detection to work in case the packet originated from a single hop
    // neighbor. Otherwise we can simply drop the ogm."
    if (!single_hop) return;
    ogm.flags |= kFlagNotBestNextHop;
  }
  --ogm.ttl;
  ogm.prev_sender = h_source;
  ogm.tq = hop_penalty(ogm.tq);
  if (single_hop)
    ogm.flags |= kFlagDirectLink;
  else
    ogm.flags &= static_cast<std::uint8_t>(~kFlagDirectLink);
  ++counters_.ogms_forwarded;
  // send time = now + prandom_u32_max(BATADV_JITTER / 2) ms
  queue_add(ogm, false, now + milliseconds(rng_.uniform_int(0, kJitterMs / 2 - 1)));
}

// bat_iv_ogm.c batadv_hop_penalty(): tq * (TQ_MAX - hop_penalty) / TQ_MAX.
std::uint8_t BatmanAgent::hop_penalty(std::uint8_t tq) const {
  return static_cast<std::uint8_t>(tq * (kTqMaxValue - config_.hop_penalty) / kTqMaxValue);
}

// routing.c batadv_update_route().
void BatmanAgent::update_route(Orig& orig, NodeId router, TimePoint now) {
  if (orig.router == router) return;
  orig.router = router;
  ++counters_.router_changes;
  if (config_.emit_route_events) {
    outputs_.emplace_back(mesh::Event{now, mesh::EventKind::kRouteChanged, mesh::kNoNode, orig.addr, router, 0, {}});
  }
}

// originator.c batadv_purge_orig() -> batadv_purge_orig_node() -> batadv_purge_orig_neighbors(), every
// BATADV_ORIG_WORK_PERIOD: originators silent for 2 * BATADV_PURGE_TIMEOUT go; neighbours silent for
// BATADV_PURGE_TIMEOUT go, and the router is re-chosen among those left (batadv_find_best_neighbor()).
void BatmanAgent::purge(TimePoint now) {
  for (std::size_t i = 0; i < origs_.size();) {
    Orig& o = origs_[i];
    if (now > o.last_seen + 2 * kPurgeTimeout) {
      orig_index_.erase(o.addr);
      if (i + 1 != origs_.size()) {
        o = std::move(origs_.back());
        orig_index_[o.addr] = i;
      }
      origs_.pop_back();
      continue;
    }
    const std::size_t before = o.neighs.size();
    std::erase_if(o.neighs, [&](const Neigh& n) { return now > n.last_seen + kPurgeTimeout; });
    if (o.neighs.size() != before) {
      // batadv_find_best_neighbor(): the highest tq_avg; the kernel's list is newest first, so on a tie the
      // newest neighbour wins.
      const Neigh* best = nullptr;
      for (auto it = o.neighs.rbegin(); it != o.neighs.rend(); ++it)
        if (best == nullptr || it->tq_avg > best->tq_avg) best = &*it;
      update_route(o, best == nullptr ? mesh::kNoNode : best->addr, now);
    }
    ++i;
  }
}

// --- data ----------------------------------------------------------------------------------------------------

// routing.c batadv_recv_unicast_packet() / batadv_route_unicast_packet().
void BatmanAgent::handle_unicast(UnicastData data, TimePoint now) {
  if (data.dest == self_) {
    ++counters_.data_delivered;
    outputs_.emplace_back(mesh::DeliverOutput{data.source, std::move(data.payload), {}});
    return;
  }
  if (data.ttl < 2) {  // "ttl exceeded"
    drop_data(data.dest, "ttl", now);
    return;
  }
  const Orig* o = find_orig(data.dest);
  if (o == nullptr || o->router == mesh::kNoNode) {
    drop_data(data.dest, "no_route", now);
    return;
  }
  --data.ttl;
  ++counters_.data_forwarded;
  send_unicast(o->router, data);
}

void BatmanAgent::send_unicast(NodeId router, const UnicastData& data) {
  auto it = port_of_.find(router);
  if (it == port_of_.end()) {  // cannot happen: a router is a neighbour we heard on some port
    ++counters_.dropped_no_route;
    return;
  }
  outputs_.emplace_back(mesh::SendOutput{it->second, encode_unicast_frame(self_, data), false});
}

void BatmanAgent::drop_data(NodeId destination, const char* reason, TimePoint now) {
  if (std::string_view(reason) == "ttl")
    ++counters_.dropped_ttl;
  else
    ++counters_.dropped_no_route;
  outputs_.emplace_back(
      mesh::Event{now, mesh::EventKind::kDataDropped, mesh::kNoNode, destination, mesh::kNoNode, 0, reason});
}

sim::Protocol batman_protocol(const BatmanConfig& config) {
  return sim::Protocol{"batman", [config](NodeId id, std::uint32_t /*epoch*/, std::uint64_t seed) {
                         return std::unique_ptr<sim::Agent>(std::make_unique<BatmanAgent>(config, id, seed));
                       }};
}

}  // namespace meshloop::baseline
