#include "mesh/neighbours.h"

#include <algorithm>
#include <cmath>

namespace meshloop::mesh {
namespace {
constexpr double kMinRatio = 0.05;        // floor so ETX stays finite (cost <= 100 * 400)
constexpr double kRttAlpha = 0.125;       // TCP's SRTT gain
constexpr double kMaxRttCostMs = 1000.0;  // RTT's share of the cost is capped: ETX dominates
}  // namespace

double LinkEstimate::etx() const {
  const double df = std::max(ratio_out, kMinRatio);
  const double dr = std::max(ratio_in, kMinRatio);
  return 1.0 / (df * dr);
}

Cost LinkEstimate::measured_cost() const {
  const double rtt_ms = has_rtt ? std::min(srtt_s * 1000.0, kMaxRttCostMs) : 0.0;
  return static_cast<Cost>(std::lround(100.0 * etx() + rtt_ms));
}

void NeighbourTable::add_port(PortId port) {
  for (auto& n : entries_) {
    if (n.port == port) {
      n.removed = false;
      return;
    }
  }
  Neighbour n;
  n.port = port;
  entries_.push_back(std::move(n));
  summary_.emplace_back();
}

void NeighbourTable::sync(const Neighbour& n) {
  Summary& s = summary_[static_cast<std::size_t>(&n - entries_.data())];
  s.expiry = n.state != NeighbourState::kDown ? n.last_heard + detection_time(n) : kTimeNever;
  s.hold_end = n.held ? n.held_until : kTimeNever;
  s.up_id = n.state == NeighbourState::kUp ? n.id : kNoNode;
}

std::optional<NeighbourChange> NeighbourTable::remove_port(PortId port, TimePoint now) {
  Neighbour* n = by_port(port);
  if (!n) return std::nullopt;
  std::vector<NeighbourChange> changes;
  if (n->state != NeighbourState::kDown) go_down(*n, now, changes);
  n->removed = true;
  n->id = kNoNode;
  sync(*n);
  if (changes.empty()) return std::nullopt;
  return changes.front();
}

void NeighbourTable::go_down(Neighbour& n, TimePoint now, std::vector<NeighbourChange>& changes) {
  const bool was_up = n.state == NeighbourState::kUp;
  if (was_up) {
    if (now - n.since >= damping_.memory) n.flaps = 0;
    ++n.flaps;
  }
  n.held = false;
  n.state = NeighbourState::kDown;
  n.since = now;
  n.arrivals.clear();
  n.estimate = LinkEstimate{};
  n.advertised_cost = 0;
  if (was_up) changes.push_back({n.port, n.id, false});
  sync(n);
}

void NeighbourTable::refresh_estimate(Neighbour& n, TimePoint now) {
  const Duration interval = n.their_interval.count() > 0 ? n.their_interval : milliseconds(100);
  const Duration span = interval * window_;
  while (!n.arrivals.empty() && n.arrivals.front() <= now - span) n.arrivals.pop_front();
  // Early in a link's life fewer hellos could have arrived: expect only as many as the time since it came up allows.
  const auto elapsed = now - n.since + interval;
  const double expected = std::clamp(static_cast<double>(std::min(elapsed, span).count()) / interval.count(), 1.0,
                                     static_cast<double>(window_));
  n.estimate.ratio_in = std::min(1.0, static_cast<double>(n.arrivals.size()) / expected);
}

bool NeighbourTable::on_hello(PortId port, NodeId sender, std::uint32_t epoch, const Hello& hello, TimePoint now,
                              std::vector<NeighbourChange>& changes) {
  Neighbour* n = by_port(port);
  if (!n || n->removed) return false;
  const bool cost_moved = update_on_hello(*n, sender, epoch, hello, now, changes);
  sync(*n);
  return cost_moved;
}

bool NeighbourTable::update_on_hello(Neighbour& neighbour, NodeId sender, std::uint32_t epoch, const Hello& hello,
                                     TimePoint now, std::vector<NeighbourChange>& changes) {
  Neighbour* n = &neighbour;
  // A different node on this port, or the same node restarted: whatever we knew is void.
  if (n->id != sender || n->epoch != epoch) {
    if (n->state != NeighbourState::kDown) go_down(*n, now, changes);
    n->id = sender;
    n->epoch = epoch;
    n->since = now;
  }
  // The first hello on a Down link starts its new life: the estimator expects hellos from now on, not since the
  // link went down (which judged a returning link by one hello out of a full window: 10x its cost, re-advertised
  // at the real one a moment later, two floods and two rounds of SPF across the mesh for every link that came back).
  if (n->state == NeighbourState::kDown) n->since = now;
  n->last_heard = now;
  n->their_interval = milliseconds(std::max<std::uint32_t>(hello.interval_ms, 1));
  n->dead_time = n->their_interval * std::max<int>(hello.multiplier, 1);
  n->echo_time_us = hello.tx_time_us;
  n->echo_received_at = now;
  n->arrivals.push_back(now);
  n->estimate.ratio_out = hello.rx_ratio_permille / 1000.0;
  if (hello.echo_time_us != 0) {
    const std::int64_t rtt_us = now.time_since_epoch().count() - static_cast<std::int64_t>(hello.echo_time_us) -
                                static_cast<std::int64_t>(hello.echo_dwell_us);
    if (rtt_us >= 0) {
      const double sample = static_cast<double>(rtt_us) / 1e6;
      n->estimate.srtt_s = n->estimate.has_rtt ? (1 - kRttAlpha) * n->estimate.srtt_s + kRttAlpha * sample : sample;
      n->estimate.has_rtt = true;
    }
  }
  refresh_estimate(*n, now);

  const bool two_way = hello.heard == self_;
  if (!two_way) {
    if (n->state == NeighbourState::kUp) {
      go_down(*n, now, changes);  // they no longer hear us: the link is one-way
      n->id = sender;
      n->epoch = epoch;
      n->last_heard = now;
    }
    if (n->state == NeighbourState::kDown) {
      n->state = NeighbourState::kInit;
      n->since = now;
      n->hello_due = true;  // they have not heard us yet: tell them now and the link is two-way a round trip later
    }
    return false;
  }
  const Cost measured = n->estimate.measured_cost();
  if (n->state != NeighbourState::kUp) {
    n->state = NeighbourState::kUp;
    n->since = now;
    n->advertised_cost = measured;
    n->hello_due = true;  // they may still be in Init, waiting to hear that we hear them
    if (n->flaps >= 2) {
      const int doublings = std::min(n->flaps - 2, 16);
      n->held_until = now + std::min(damping_.max_hold, damping_.hold * (1 << doublings));
      n->held = true;
    }
    changes.push_back({n->port, n->id, true});
    return true;
  }
  const double drift = std::abs(static_cast<double>(measured) - n->advertised_cost) / std::max<Cost>(1, n->advertised_cost);
  if (drift > hysteresis_) {
    n->advertised_cost = measured;
    return true;
  }
  return false;
}

void NeighbourTable::expire(TimePoint now, std::vector<NeighbourChange>& changes) {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (now >= summary_[i].expiry) go_down(entries_[i], now, changes);  // never for Down entries
  }
}

Hello NeighbourTable::make_hello(PortId port, TimePoint now, Duration interval, int multiplier) const {
  Hello h;
  h.tx_time_us = static_cast<std::uint64_t>(now.time_since_epoch().count());
  h.interval_ms = static_cast<std::uint32_t>(interval.count() / 1000);
  const Neighbour* n = by_port(port);
  if (n && n->detect_multiplier > 0) multiplier = n->detect_multiplier;
  h.multiplier = static_cast<std::uint8_t>(std::clamp(multiplier, 1, 255));
  if (n && n->state != NeighbourState::kDown) {
    h.heard = n->id;
    h.echo_time_us = n->echo_time_us;
    h.echo_dwell_us = static_cast<std::uint32_t>(std::max<std::int64_t>(0, (now - n->echo_received_at).count()));
    h.rx_ratio_permille = static_cast<std::uint16_t>(std::lround(n->estimate.ratio_in * 1000.0));
  }
  return h;
}

TimePoint NeighbourTable::next_expiry() const {
  TimePoint t = kTimeNever;
  for (const Summary& s : summary_) t = std::min(t, s.expiry);
  return t;
}

TimePoint NeighbourTable::next_suspect_expiry(TimePoint now) const {
  TimePoint t = kTimeNever;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Neighbour& n = entries_[i];
    const bool silent = (now - n.last_heard) * 2 > detection_time(n);  // has missed hellos
    if (n.state == NeighbourState::kUp && silent) t = std::min(t, summary_[i].expiry);
  }
  return t;
}

TimePoint NeighbourTable::next_hold_end() const {
  TimePoint t = kTimeNever;
  for (const Summary& s : summary_) t = std::min(t, s.hold_end);
  return t;
}

bool NeighbourTable::release_holds(TimePoint now) {
  bool any = false;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (now >= summary_[i].hold_end) {  // never for entries not held
      entries_[i].held = false;
      sync(entries_[i]);
      any = true;
    }
  }
  return any;
}

Neighbour* NeighbourTable::by_port(PortId port) {
  if (port < entries_.size() && entries_[port].port == port) return &entries_[port];  // drivers number ports densely
  for (auto& n : entries_) {
    if (n.port == port) return &n;
  }
  return nullptr;
}

const Neighbour* NeighbourTable::by_port(PortId port) const {
  if (port < entries_.size() && entries_[port].port == port) return &entries_[port];
  for (const auto& n : entries_) {
    if (n.port == port) return &n;
  }
  return nullptr;
}

const Neighbour* NeighbourTable::up_by_id(NodeId id) const {
  if (id == kNoNode) return nullptr;
  for (std::size_t i = 0; i < summary_.size(); ++i) {
    if (summary_[i].up_id == id) return &entries_[i];
  }
  return nullptr;
}

void NeighbourTable::set_detect_multiplier(NodeId id, int multiplier) {
  if (Neighbour* n = by_id(id)) {
    n->detect_multiplier = multiplier;
    sync(*n);
  }
}

Neighbour* NeighbourTable::by_id(NodeId id) {
  for (auto& n : entries_) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

Duration NeighbourTable::detection_time(const Neighbour& n) {
  if (n.detect_multiplier <= 0) return n.dead_time;
  return std::max(n.dead_time, n.their_interval * n.detect_multiplier);
}

Cost NeighbourTable::effective_cost(const Neighbour& n) {
  if (n.drained) return kInfiniteCost;
  const double c = std::max<double>(1.0, n.advertised_cost * n.cost_factor);
  return c >= static_cast<double>(kInfiniteCost - 1) ? kInfiniteCost - 1 : static_cast<Cost>(std::lround(c));
}

}  // namespace meshloop::mesh
