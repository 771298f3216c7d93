#include "sim/link_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace meshloop::sim {
namespace {

LinkParams unlimited() {
  LinkParams p;
  p.bandwidth_bps = 0;
  return p;
}

TEST(LinkDirection, BernoulliLossMatchesItsRate) {
  LinkParams p = unlimited();
  p.loss = 0.2;
  LinkDirection d(1, 1, 2);
  int lost = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    if (d.transmit(p, 0.0, at(seconds(i)), 100).outcome == LinkDirection::Outcome::kLost) ++lost;
  }
  EXPECT_NEAR(static_cast<double>(lost) / n, 0.2, 0.01);
}

TEST(LinkDirection, FaultLossCombinesWithBackgroundLoss) {
  LinkParams p = unlimited();
  p.loss = 0.1;
  LinkDirection d(1, 1, 2);
  int lost = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    if (d.transmit(p, 0.5, at(seconds(i)), 100).outcome == LinkDirection::Outcome::kLost) ++lost;
  }
  EXPECT_NEAR(static_cast<double>(lost) / n, 1 - 0.9 * 0.5, 0.01);
}

TEST(LinkDirection, GilbertElliottLossComesInBursts) {
  LinkParams p = unlimited();
  p.bursts.p_good_to_bad = 0.02;
  p.bursts.p_bad_to_good = 0.2;  // mean burst 5 packets
  LinkDirection d(3, 1, 2);
  const int n = 200000;
  int lost = 0, bursts = 0;
  bool prev = false;
  for (int i = 0; i < n; ++i) {
    const bool l = d.transmit(p, 0.0, at(seconds(i)), 100).outcome == LinkDirection::Outcome::kLost;
    lost += l;
    if (l && !prev) ++bursts;
    prev = l;
  }
  const double rate = static_cast<double>(lost) / n;
  EXPECT_NEAR(rate, 0.02 / (0.02 + 0.2), 0.01);  // stationary share of the bad state
  EXPECT_NEAR(static_cast<double>(lost) / bursts, 5.0, 0.5);  // mean burst length 1 / p_bad_to_good
  // Bernoulli loss at the same rate would have bursts of ~1 / (1 - rate) = 1.1.
}

TEST(LinkDirection, DelayAndJitterStayWithinBounds) {
  LinkParams p = unlimited();
  p.delay = milliseconds(2);
  p.jitter = milliseconds(1);
  LinkDirection d(1, 4, 5);
  Duration lo = seconds(100), hi{0};
  for (int i = 0; i < 10000; ++i) {
    const TimePoint now = at(milliseconds(i));
    const auto tr = d.transmit(p, 0.0, now, 100);
    ASSERT_EQ(tr.outcome, LinkDirection::Outcome::kDelivered);
    lo = std::min(lo, tr.arrival - now);
    hi = std::max(hi, tr.arrival - now);
  }
  EXPECT_GE(lo, milliseconds(2));
  EXPECT_LE(hi, milliseconds(3));
  EXPECT_LT(lo, milliseconds(2) + microseconds(50));
  EXPECT_GT(hi, milliseconds(3) - microseconds(50));
}

TEST(LinkDirection, BandwidthSerialisesAndTheQueueDropsTail) {
  LinkParams p;
  p.bandwidth_bps = 8e6;  // 1 byte per microsecond
  p.delay = Duration{0};
  p.queue_bytes = 3000;
  LinkDirection d(1, 1, 2);
  const TimePoint now = at(seconds(1));
  EXPECT_EQ(d.transmit(p, 0, now, 1000).arrival, now + microseconds(1000));
  EXPECT_EQ(d.transmit(p, 0, now, 1000).arrival, now + microseconds(2000));  // waits behind the first
  EXPECT_EQ(d.transmit(p, 0, now, 1000).arrival, now + microseconds(3000));
  EXPECT_EQ(d.transmit(p, 0, now, 1000).arrival, now + microseconds(4000));  // waited 3000 us: still fits
  EXPECT_EQ(d.transmit(p, 0, now, 1000).outcome, LinkDirection::Outcome::kQueueFull);
}

TEST(LinkDirection, StreamDependsOnlyOnSeedAndLinkId) {
  LinkParams p = unlimited();
  p.loss = 0.5;
  auto draws = [&](LinkDirection& d) {
    std::vector<bool> out;
    for (int i = 0; i < 1000; ++i) out.push_back(d.transmit(p, 0, at(seconds(i)), 50).outcome == LinkDirection::Outcome::kLost);
    return out;
  };
  LinkDirection a(9, 3, 7);
  const auto alone = draws(a);
  // Same link id, with other links drawing in between.
  LinkDirection b(9, 3, 7), other1(9, 7, 3), other2(9, 1, 2);
  std::vector<bool> interleaved;
  for (int i = 0; i < 1000; ++i) {
    other1.transmit(p, 0, at(seconds(i)), 50);
    other2.transmit(p, 0, at(seconds(i)), 50);
    interleaved.push_back(b.transmit(p, 0, at(seconds(i)), 50).outcome == LinkDirection::Outcome::kLost);
  }
  EXPECT_EQ(alone, interleaved);
  LinkDirection reverse(9, 7, 3);
  EXPECT_NE(alone, draws(reverse));
}

}  // namespace
}  // namespace meshloop::sim
