// sim::LinkDirection: one direction of a point-to-point link: delay, jitter, loss (Bernoulli and Gilbert-Elliott
// bursts), bandwidth (serialisation delay behind a drop-tail queue).
//
// Common random numbers: each direction owns its own Rng derived from (scenario seed, link_stream_id(from, to)),
// so its draws do not depend on what any other link, node or protocol drew. Every transmission on a link that is
// up makes the same draws in the same order whatever the fault state: one Gilbert-Elliott step (when enabled), one
// loss draw, one jitter draw (when jitter > 0). A fault's extra loss changes the threshold, never the draw count.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <optional>

#include "core/rng.h"
#include "core/time.h"
#include "mesh/types.h"

namespace meshloop::sim {

// Two-state Markov loss (Gilbert-Elliott): per transmission, good->bad with p_good_to_bad, bad->good with
// p_bad_to_good; a packet is lost with loss_good or loss_bad in the current state. Mean burst = 1 / p_bad_to_good.
struct GilbertElliott {
  double p_good_to_bad = 0.0;  // 0 disables the model
  double p_bad_to_good = 0.25;
  double loss_good = 0.0;
  double loss_bad = 1.0;
  bool enabled() const { return p_good_to_bad > 0.0; }
};

struct LinkParams {
  Duration delay = milliseconds(2);
  Duration jitter{0};                 // uniform extra delay in [0, jitter]
  double loss = 0.0;                  // background Bernoulli loss
  GilbertElliott bursts;              // background bursty loss, on top of `loss`
  double bandwidth_bps = 10e6;        // 0: unlimited (no serialisation delay, no queue)
  std::uint32_t queue_bytes = 64 * 1024;  // drop-tail queue ahead of the wire
};

// Stream id of the direction from -> to (node ids), independent of edge numbering.
constexpr std::uint64_t link_stream_id(mesh::NodeId from, mesh::NodeId to) {
  return (static_cast<std::uint64_t>(from) << 32) | to;
}

class LinkDirection {
 public:
  LinkDirection(std::uint64_t seed, mesh::NodeId from, mesh::NodeId to)
      : rng_(Rng::derive(seed, link_stream_id(from, to))) {}

  enum class Outcome : std::uint8_t { kDelivered, kLost, kQueueFull };
  struct Transmission {
    Outcome outcome;
    TimePoint arrival;  // when kDelivered
  };
  // A packet of `bytes` handed to the link at `now`. `extra_loss` is added by active faults (loss burst, degradation).
  Transmission transmit(const LinkParams& p, double extra_loss, TimePoint now, std::size_t bytes);

  bool in_bad_state() const { return bad_; }

 private:
  Rng rng_;
  bool bad_ = false;
  TimePoint busy_until_{};
};

}  // namespace meshloop::sim
