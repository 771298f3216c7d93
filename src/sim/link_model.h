// sim::LinkDirection: one direction of a point-to-point link: delay, jitter, loss (Bernoulli and Gilbert-Elliott
// bursts), bandwidth (serialisation delay behind a drop-tail queue).
//
// Common random numbers (docs/decisions/0025-keyed-link-draws.md): every draw of a transmission is a pure function
// of (scenario seed, link_stream_id(from, to), the virtual time the packet is handed to the link, its index among
// the transmissions handed to this direction at that same instant, the draw's purpose). A packet sent on a link at
// the same virtual time sees the same draws whatever else crossed the link earlier, so two runs that route other
// traffic differently (the MAPE-K loop on vs off) still see the same loss on the packets they have in common. A
// stream consumed once per transmission would not: one extra packet on a link shifts every later draw on it.
// A fault's extra loss changes the threshold, never the draws.
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

// Uniform in [0, 1), a pure function of its arguments (SplitMix64 at position (index, purpose) of a sequence seeded
// by (key, at)). `key` should already be well mixed (mix_seed of a seed and a stream id).
double keyed_uniform(std::uint64_t key, TimePoint at, std::uint32_t index, std::uint32_t purpose);

// Keyed draws for one stream: numbers the calls made at the same instant, so that the n-th event at time t gets the
// same draws in every run. REQUIRES: calls in non-decreasing time (the simulator's clock).
class KeyedDraws {
 public:
  KeyedDraws(std::uint64_t seed, std::uint64_t stream) : key_(mix_seed(seed, stream)) {}
  // Opens the next event at `now`; draw(purpose) then gives its values.
  void next_event(TimePoint now) {
    index_ = now == at_ ? index_ + 1 : 0;
    at_ = now;
  }
  double draw(std::uint32_t purpose) const { return keyed_uniform(key_, at_, index_, purpose); }

 private:
  std::uint64_t key_;
  TimePoint at_ = kTimeNever;
  std::uint32_t index_ = 0;
};

class LinkDirection {
 public:
  LinkDirection(std::uint64_t seed, mesh::NodeId from, mesh::NodeId to) : draws_(seed, link_stream_id(from, to)) {}

  enum class Outcome : std::uint8_t { kDelivered, kLost, kQueueFull };
  struct Transmission {
    Outcome outcome;
    TimePoint arrival;  // when kDelivered
  };
  // A packet of `bytes` handed to the link at `now`. `extra_loss` is added by active faults (loss burst, degradation).
  // REQUIRES: `now` non-decreasing across calls.
  Transmission transmit(const LinkParams& p, double extra_loss, TimePoint now, std::size_t bytes);

  bool in_bad_state() const { return bad_; }

 private:
  KeyedDraws draws_;
  bool bad_ = false;
  TimePoint busy_until_{};
};

}  // namespace meshloop::sim
