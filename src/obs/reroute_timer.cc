#include "obs/reroute_timer.h"

#include <algorithm>

namespace meshloop::obs {

using mesh::EventKind;
using mesh::kNoNode;
using mesh::NodeId;

TimePoint RerouteTimer::last_data(NodeId hop) const {
  for (const auto& [h, t] : last_data_) {
    if (h == hop) return t;
  }
  return kTimeNever;
}

RerouteTimer::Lost* RerouteTimer::find(NodeId hop) {
  for (Lost& l : lost_) {
    if (l.hop == hop) return &l;
  }
  return nullptr;
}

RerouteTimer::Lost& RerouteTimer::lose(NodeId hop, TimePoint lost_at, TimePoint now) {
  if (Lost* l = find(hop)) return *l;
  const TimePoint data = last_data(hop);
  const bool traffic = data != kTimeNever && data + seconds(1) >= lost_at;
  lost_.push_back(Lost{hop, lost_at, now, {}, traffic, false});
  return lost_.back();
}

void RerouteTimer::event(const mesh::Event& e, const LastHeard& last_heard, std::vector<double>& done) {
  const TimePoint now = e.at;
  // The loss of `hop` dates from the last packet heard from it, unless that is unknown or implausibly old.
  auto loss_time = [&](NodeId hop) {
    const TimePoint heard = last_heard ? last_heard(hop) : kTimeNever;
    const bool plausible = heard != kTimeNever && heard <= now && now - heard <= 2 * options_.detection;
    return plausible ? heard : now - options_.detection;
  };
  switch (e.kind) {
    case EventKind::kNeighbourDown:
      lost_.erase(std::remove_if(lost_.begin(), lost_.end(),
                                 [&](const Lost& l) { return now - l.since > options_.expiry; }),
                  lost_.end());
      lose(e.peer, loss_time(e.peer), now);
      break;
    case EventKind::kNeighbourUp:
      lost_.erase(std::remove_if(lost_.begin(), lost_.end(), [&](const Lost& l) { return l.hop == e.peer; }),
                  lost_.end());
      break;
    case EventKind::kFailover: {
      Lost& l = lose(e.peer, loss_time(e.peer), now);
      l.traffic = true;
      if (options_.complete_on_switch) {
        // Timed at the first failover; later ones away from the same loss are the same reroute.
        if (!l.timed) done.push_back(to_seconds(now - l.lost_at));
        l.timed = true;
      } else if (std::find(l.new_hops.begin(), l.new_hops.end(), e.next_hop) == l.new_hops.end()) {
        l.new_hops.push_back(e.next_hop);
      }
      break;
    }
    case EventKind::kRouteChanged: {
      auto it = route_.find(e.destination);
      const NodeId old = it == route_.end() ? kNoNode : it->second;
      if (e.next_hop == kNoNode) {
        if (it != route_.end()) route_.erase(it);
      } else {
        route_[e.destination] = e.next_hop;
      }
      if (old == kNoNode || old == e.next_hop || e.next_hop == kNoNode) break;
      Lost* l = find(old);
      if (l == nullptr) {
        // Moving away from a hop that has gone quiet: another node's advertisement reported the loss first.
        const TimePoint heard = last_heard ? last_heard(old) : kTimeNever;
        if (heard == kTimeNever || now - heard <= options_.detection / 2) break;
        l = &lose(old, loss_time(old), now);
      }
      if (std::find(l->new_hops.begin(), l->new_hops.end(), e.next_hop) == l->new_hops.end()) {
        l->new_hops.push_back(e.next_hop);
      }
      break;
    }
    case EventKind::kDataDropped: {
      // Data for a destination routed through a lost hop, dropped for want of a route: that hop carried traffic.
      auto it = route_.find(e.destination);
      if (it == route_.end()) break;
      if (Lost* l = find(it->second)) l->traffic = true;
      break;
    }
    default:
      break;
  }
}

void RerouteTimer::complete_onto(NodeId next_hop, TimePoint now, std::vector<double>& done) {
  for (auto it = lost_.begin(); it != lost_.end();) {
    if (now - it->since > options_.expiry) {
      it = lost_.erase(it);
    } else if (it->traffic && std::find(it->new_hops.begin(), it->new_hops.end(), next_hop) != it->new_hops.end()) {
      done.push_back(to_seconds(now - it->lost_at));
      it = lost_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace meshloop::obs
