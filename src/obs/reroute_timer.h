// obs::RerouteTimer: the reroute time a node measures locally, from losing a next hop to traffic flowing on the
// new one (meshloop_mesh_reroute_duration_seconds). Pure: it reads no clock; the driver feeds it the node's events
// and, on real nodes, the data packets it sends. One sample per lost next hop that was carrying traffic.
//
// What it measures:
//   - next hop X is lost when the node declares it down (neighbour-down) or, often earlier, when a route moves
//     away from X while X has been silent for more than half a dead interval (a neighbour's advertisement that it
//     lost X can arrive before X's own silence is noticed). The loss is dated at the last time the driver heard
//     anything from X: the outage began after that packet. When the driver cannot say (the simulator, or a stale
//     time), at the neighbour-down event minus `detection` (the dead interval).
//   - X was carrying traffic when data was sent to it within a second before the loss (real nodes: data_sent),
//     when the node fails over away from it (it fails over only destinations with recent traffic), or when data
//     routed through X is dropped for want of a route.
//   - the new hops are those that replace X: failover events (the pinned backup's first hop) and route changes of
//     destinations that went through X. The reroute completes when a data packet leaves for one of them
//     (data_sent). With `complete_on_switch` (the simulator, whose observer does not see packets) it completes at
//     the failover itself, when the node starts sending the destination's traffic on the new hop.
//   - a reroute not completed within `expiry`, or whose hop comes back up first, is dropped unobserved.
//
// Memory: bounded by the number of neighbours (lost hops, last data per neighbour) and destinations (routes).
// Thread-safety: none; the driver's thread.
#pragma once

#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "core/time.h"
#include "mesh/node.h"

namespace meshloop::obs {

class RerouteTimer {
 public:
  struct Options {
    Duration detection = milliseconds(300);  // dead interval: hello interval x dead multiplier
    Duration expiry = seconds(30);
    bool complete_on_switch = false;
  };
  // When the driver last received a packet from a neighbour; kTimeNever when it cannot say.
  using LastHeard = std::function<TimePoint(mesh::NodeId)>;

  explicit RerouteTimer(Options options) : options_(options) {}

  // A node event. Appends the durations (seconds) of the reroutes it completes to `done`.
  void event(const mesh::Event& e, const LastHeard& last_heard, std::vector<double>& done);
  // A data packet left for neighbour `next_hop` at `now`; appends the durations of reroutes onto it to `done`.
  void data_sent(mesh::NodeId next_hop, TimePoint now, std::vector<double>& done) {
    note_data(next_hop, now);
    if (!lost_.empty() && !options_.complete_on_switch) complete_onto(next_hop, now, done);
  }

  std::size_t in_progress() const { return lost_.size(); }

 private:
  struct Lost {
    mesh::NodeId hop;
    TimePoint lost_at;
    TimePoint since;                 // when the loss was noticed (for expiry)
    std::vector<mesh::NodeId> new_hops;
    bool traffic;
    bool timed;  // complete_on_switch: sampled already (kept until the hop is up again, so it is sampled once)
  };
  void note_data(mesh::NodeId hop, TimePoint now) {
    for (auto& [h, t] : last_data_) {
      if (h == hop) {
        t = now;
        return;
      }
    }
    last_data_.emplace_back(hop, now);
  }
  TimePoint last_data(mesh::NodeId hop) const;
  Lost* find(mesh::NodeId hop);
  Lost& lose(mesh::NodeId hop, TimePoint lost_at, TimePoint now);
  void complete_onto(mesh::NodeId next_hop, TimePoint now, std::vector<double>& done);

  Options options_;
  std::vector<std::pair<mesh::NodeId, TimePoint>> last_data_;  // neighbour -> last data packet sent to it
  std::vector<Lost> lost_;                                     // lost next hops being rerouted around
  std::map<mesh::NodeId, mesh::NodeId> route_;                 // destination -> next hop, from route changes
};

}  // namespace meshloop::obs
