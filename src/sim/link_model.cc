#include "sim/link_model.h"

#include <algorithm>

namespace meshloop::sim {

LinkDirection::Transmission LinkDirection::transmit(const LinkParams& p, double extra_loss, TimePoint now,
                                                    std::size_t bytes) {
  // Draws first, in a fixed order, whatever happens to the packet (common random numbers).
  if (p.bursts.enabled()) {
    const double u = rng_.uniform();
    bad_ = bad_ ? !(u < p.bursts.p_bad_to_good) : (u < p.bursts.p_good_to_bad);
  }
  const double u_loss = rng_.uniform();
  const double u_jitter = p.jitter.count() > 0 ? rng_.uniform() : 0.0;

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
  if (u_loss >= keep) return {Outcome::kLost, {}};
  const auto jitter = Duration{static_cast<std::int64_t>(u_jitter * static_cast<double>(p.jitter.count()))};
  return {Outcome::kDelivered, departure + p.delay + jitter};
}

}  // namespace meshloop::sim
