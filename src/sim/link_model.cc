#include "sim/link_model.h"

#include <algorithm>

namespace meshloop::sim {
namespace {
enum Purpose : std::uint32_t { kBurstStep, kLoss, kJitter, kPurposes };
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;  // SplitMix64's increment
}  // namespace

double keyed_uniform(std::uint64_t key, TimePoint at, std::uint32_t index, std::uint32_t purpose) {
  // mix_seed makes (key, at) one well-mixed state; (index, purpose) picks a position in the SplitMix64 sequence
  // from there, so distinct events at one instant get distinct, independent values.
  std::uint64_t s = mix_seed(key, static_cast<std::uint64_t>(at.time_since_epoch().count()));
  s += (static_cast<std::uint64_t>(index) * kPurposes + purpose) * kGolden;
  return static_cast<double>(splitmix64(s) >> 11) * 0x1.0p-53;
}

LinkDirection::Transmission LinkDirection::transmit(const LinkParams& p, double extra_loss, TimePoint now,
                                                    std::size_t bytes) {
  // Keyed draws (see the header): what happens to this packet depends on when it is sent, not on how many packets
  // this direction carried before it. The Gilbert-Elliott state still steps once per transmission (its parameters
  // are per packet), so with bursts on, its state does depend on the number of earlier transmissions.
  draws_.next_event(now);
  if (p.bursts.enabled()) {
    const double u = draws_.draw(kBurstStep);
    bad_ = bad_ ? !(u < p.bursts.p_bad_to_good) : (u < p.bursts.p_good_to_bad);
  }

  TimePoint departure = now;
  if (p.bandwidth_bps > 0) {
    const auto tx = Duration{static_cast<std::int64_t>(static_cast<double>(bytes) * 8e6 / p.bandwidth_bps)};
    const TimePoint start = std::max(now, busy_until_);
    const auto max_wait = Duration{static_cast<std::int64_t>(static_cast<double>(p.queue_bytes) * 8e6 / p.bandwidth_bps)};
    if (start - now > max_wait) return {Outcome::kQueueFull, {}};
    busy_until_ = start + tx;
    departure = busy_until_;
  }
  double keep = (1.0 - p.loss) * (1.0 - std::clamp(extra_loss, 0.0, 1.0));
  if (p.bursts.enabled()) keep *= 1.0 - (bad_ ? p.bursts.loss_bad : p.bursts.loss_good);
  // A lossless link (the common case: background loss 0, no fault) needs no draw: keyed draws do not shift when one
  // is skipped, and a uniform in [0, 1) is always below a keep of 1.
  if (keep < 1.0 && draws_.draw(kLoss) >= keep) return {Outcome::kLost, {}};
  const double u_jitter = p.jitter.count() > 0 ? draws_.draw(kJitter) : 0.0;
  const auto jitter = Duration{static_cast<std::int64_t>(u_jitter * static_cast<double>(p.jitter.count()))};
  return {Outcome::kDelivered, departure + p.delay + jitter};
}

}  // namespace meshloop::sim
