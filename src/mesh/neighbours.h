// The neighbour table: one entry per port, hello-based discovery (BFD-style detection), and the link estimator.
//
// A neighbour is Up when it is two-way (its hello says it hears us) and has been heard within its own
// multiplier x interval (as BFD computes detection time from the remote's parameters). The estimator measures the
// delivery ratio of the neighbour's hellos over a window of expected hellos, takes the reverse ratio from the
// neighbour's own report, and smooths the RTT from echoed timestamps. The link cost is 100 x ETX plus the smoothed
// RTT in milliseconds; the *advertised* cost only moves when the measured one drifts past a hysteresis band, so
// a noisy link does not make the whole mesh recompute routes.
//
// Flap damping: a neighbour that keeps coming back is held out of our advertisement for a while after each return,
// the hold doubling per flap (as IS-IS and OSPF implementations back off adjacency bring-up). The first return is
// advertised at once, so a healed cut or a restarted node costs nothing; a flapping link stops moving the whole mesh's
// routes (and its traffic) after its second flap. Held neighbours stay Up: hellos and flooding go on.
// Thread-safety: none; owned by one Node.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "core/time.h"
#include "mesh/flap_damping.h"
#include "mesh/types.h"
#include "mesh/wire.h"

namespace meshloop::mesh {

enum class NeighbourState : std::uint8_t { kDown, kInit, kUp };

struct LinkEstimate {
  double ratio_in = 0;   // their hellos that reached us, over the window
  double ratio_out = 0;  // our hellos that reached them, as they report
  double srtt_s = 0;     // smoothed round-trip time; 0 until the first sample
  bool has_rtt = false;
  double etx() const;
  Cost measured_cost() const;
};

struct Neighbour {
  PortId port = kNoPort;
  NodeId id = kNoNode;  // learned from hellos
  std::uint32_t epoch = 0;
  NeighbourState state = NeighbourState::kDown;
  TimePoint since{};
  TimePoint last_heard{};
  Duration dead_time{};  // their multiplier x their interval
  Duration their_interval{};
  // For echoing the neighbour's timestamp back (RTT at their side).
  std::uint64_t echo_time_us = 0;
  TimePoint echo_received_at{};
  std::deque<TimePoint> arrivals;  // hello arrival times within the estimator window
  LinkEstimate estimate;
  Cost advertised_cost = 0;        // after hysteresis, before commands
  double cost_factor = 1.0;        // RaiseLinkCost
  bool drained = false;            // DrainLink
  int detect_multiplier = 0;       // SetLinkDetection: advertised in our hellos and our own minimum (0: defaults)
  bool removed = false;            // the driver removed the port
  int flaps = 0;                   // downs since it was last stable for FlapDamping::memory
  TimePoint held_until{};          // not advertised before this (flap damping)
  bool held = false;               // held_until is pending: re-originate when it passes
  bool hello_due = false;          // our state towards it moved on: answer with a hello now, not at the next tick
};

// What changed when a hello or a tick was processed.
struct NeighbourChange {
  PortId port;
  NodeId id;
  bool up;  // true: became Up; false: went Down
};

class NeighbourTable {
 public:
  // window: hellos in the delivery-ratio window; hysteresis: relative cost drift that triggers re-advertising.
  NeighbourTable(NodeId self, int window, double hysteresis, FlapDamping damping = {})
      : self_(self), window_(window), hysteresis_(hysteresis), damping_(damping) {}

  void add_port(PortId port);
  // Returns the id that went down, if the port had an Up neighbour.
  std::optional<NeighbourChange> remove_port(PortId port, TimePoint now);

  // Processes a hello from `sender` (authenticated) on `port`. Appends state changes to `changes`. Returns true when
  // the advertised cost of the link moved (the LSA must be re-originated).
  bool on_hello(PortId port, NodeId sender, std::uint32_t epoch, const Hello& hello, TimePoint now,
                std::vector<NeighbourChange>& changes);
  // Expires silent neighbours.
  void expire(TimePoint now, std::vector<NeighbourChange>& changes);

  // The hello to send on `port` now.
  Hello make_hello(PortId port, TimePoint now, Duration interval, int multiplier) const;

  // Earliest time a neighbour would expire; kTimeNever if none is alive.
  TimePoint next_expiry() const;
  // Earliest expiry among Up neighbours silent for more than half their detection time (they have missed hellos
  // and are likely gone); kTimeNever if none is.
  TimePoint next_suspect_expiry(TimePoint now) const;
  // Whether our LSA lists the link: Up and not held by flap damping.
  static bool advertised(const Neighbour& n, TimePoint now) {
    return n.state == NeighbourState::kUp && now >= n.held_until;
  }
  // Earliest end of a pending hold (kTimeNever if none); release_holds clears those that have ended and returns
  // true if any did (the LSA must be re-originated).
  TimePoint next_hold_end() const;
  bool release_holds(TimePoint now);

  // Non-const access is for fields no deadline depends on (cost_factor, drained, hello_due): the table keeps
  // compact copies of state, id, expiry and hold (see Summary), which only its own members update.
  Neighbour* by_port(PortId port);
  const Neighbour* by_port(PortId port) const;
  // The Up neighbour with this id, or nullptr.
  const Neighbour* up_by_id(NodeId id) const;
  Neighbour* by_id(NodeId id);
  // SetLinkDetection: our own minimum multiplier for the neighbour `id` (0: its advertised one).
  void set_detect_multiplier(NodeId id, int multiplier);
  const std::vector<Neighbour>& all() const { return entries_; }
  // Advertised cost including commands; kInfiniteCost when drained.
  static Cost effective_cost(const Neighbour& n);
  // How long `n` may stay silent before it is down: its advertised multiplier x interval, widened by our own
  // SetLinkDetection multiplier when one is set.
  static Duration detection_time(const Neighbour& n);

 private:
  bool update_on_hello(Neighbour& n, NodeId sender, std::uint32_t epoch, const Hello& hello, TimePoint now,
                       std::vector<NeighbourChange>& changes);
  void go_down(Neighbour& n, TimePoint now, std::vector<NeighbourChange>& changes);
  void refresh_estimate(Neighbour& n, TimePoint now);
  void sync(const Neighbour& n);  // refreshes n's Summary after any change to its state, id, timers or hold

  // What the per-event questions (next deadline, is X an Up neighbour) read, one small array instead of a walk over
  // the full entries: the simulator asks them after every packet of 1000 nodes, whose entries are not in cache.
  struct Summary {
    TimePoint expiry = kTimeNever;    // last_heard + detection_time while not Down
    TimePoint hold_end = kTimeNever;  // held_until while held
    NodeId up_id = kNoNode;           // id while Up
  };

  NodeId self_;
  int window_;
  double hysteresis_;
  FlapDamping damping_;
  std::vector<Neighbour> entries_;  // few per node: a vector scan beats a map
  std::vector<Summary> summary_;    // by entry index
};

}  // namespace meshloop::mesh
