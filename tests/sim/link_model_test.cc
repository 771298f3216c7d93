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

// The common-random-numbers property the MAPE-K comparison rests on: a packet sent at the same instant (and the same
// index among that instant's packets) meets the same loss and jitter whatever else the direction carried before.
TEST(LinkDirection, SameSendTimeGivesTheSameOutcomeWhateverTrafficCameBefore) {
  LinkParams p = unlimited();
  p.loss = 0.3;
  p.jitter = milliseconds(5);
  LinkDirection quiet(5, 2, 9), busy(5, 2, 9);
  int compared = 0, lost = 0;
  for (int i = 0; i < 5000; ++i) {
    const TimePoint hello = at(milliseconds(200 * i));
    // `busy` carries 0-3 extra packets between two of the common ones (other instants): a stream consumed per
    // transmission would be at a different position for every later packet.
    for (int k = 0; k < i % 4; ++k) busy.transmit(p, 0.0, hello + milliseconds(7 + 13 * k), 60);
    const auto a = quiet.transmit(p, 0.0, hello, 60);
    const auto b = busy.transmit(p, 0.0, hello, 60);
    ASSERT_EQ(a.outcome, b.outcome) << "packet " << i;
    if (a.outcome == LinkDirection::Outcome::kDelivered) {
      ASSERT_EQ(a.arrival, b.arrival) << "packet " << i;  // the same jitter draw too
    } else {
      ++lost;
    }
    ++compared;
  }
  EXPECT_NEAR(static_cast<double>(lost) / compared, 0.3, 0.02);
}

TEST(LinkDirection, PacketsAtOneInstantGetIndependentDraws) {
  LinkParams p = unlimited();
  p.loss = 0.5;
  LinkDirection d(2, 1, 2);
  int both = 0, first = 0, second = 0;
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    const TimePoint now = at(microseconds(i));  // adjacent instants: their draws must not be correlated either
    const bool l1 = d.transmit(p, 0.0, now, 60).outcome == LinkDirection::Outcome::kLost;
    const bool l2 = d.transmit(p, 0.0, now, 60).outcome == LinkDirection::Outcome::kLost;
    first += l1;
    second += l2;
    both += l1 && l2;
  }
  EXPECT_NEAR(static_cast<double>(first) / n, 0.5, 0.01);
  EXPECT_NEAR(static_cast<double>(second) / n, 0.5, 0.01);
  EXPECT_NEAR(static_cast<double>(both) / n, 0.25, 0.01);  // independent: 0.5 x 0.5
}

TEST(LinkDirection, LossRateHoldsForManyRatesAndBackToBackTimes) {
  LinkParams p = unlimited();
  for (double loss : {0.01, 0.1, 0.5, 0.9}) {
    p.loss = loss;
    LinkDirection d(11, 4, 3);
    int lost = 0;
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
      if (d.transmit(p, 0.0, at(microseconds(3 * i)), 60).outcome == LinkDirection::Outcome::kLost) ++lost;
    }
    // 4.5 standard deviations of a binomial: a deterministic seed, but a real check of the rate.
    EXPECT_NEAR(static_cast<double>(lost) / n, loss, 4.5 * std::sqrt(loss * (1 - loss) / n)) << "loss " << loss;
  }
}

// A fault's extra loss moves the threshold against the same draw: every packet lost without the fault is lost with
// it, and a packet delivered in both runs arrives at the same time.
TEST(LinkDirection, ExtraLossOnlyMovesTheThreshold) {
  LinkParams p = unlimited();
  p.loss = 0.1;
  p.jitter = milliseconds(1);
  LinkDirection clean(7, 3, 8), faulty(7, 3, 8);
  int lost_clean = 0, lost_faulty = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const TimePoint now = at(milliseconds(10 * i));
    const auto a = clean.transmit(p, 0.0, now, 60);
    const auto b = faulty.transmit(p, 0.4, now, 60);
    if (a.outcome == LinkDirection::Outcome::kLost) {
      ++lost_clean;
      ASSERT_EQ(b.outcome, LinkDirection::Outcome::kLost) << "packet " << i;
    }
    if (b.outcome == LinkDirection::Outcome::kLost) {
      ++lost_faulty;
    } else {
      ASSERT_EQ(a.arrival, b.arrival) << "packet " << i;
    }
  }
  EXPECT_NEAR(static_cast<double>(lost_clean) / n, 0.1, 0.01);
  EXPECT_NEAR(static_cast<double>(lost_faulty) / n, 1 - 0.9 * 0.6, 0.015);
}

TEST(KeyedUniform, IsAPureFunctionOfItsKey) {
  const double u = keyed_uniform(42, at(milliseconds(5)), 0, 1);
  EXPECT_EQ(u, keyed_uniform(42, at(milliseconds(5)), 0, 1));
  EXPECT_NE(u, keyed_uniform(43, at(milliseconds(5)), 0, 1));
  EXPECT_NE(u, keyed_uniform(42, at(milliseconds(5) + microseconds(1)), 0, 1));
  EXPECT_NE(u, keyed_uniform(42, at(milliseconds(5)), 1, 1));
  EXPECT_NE(u, keyed_uniform(42, at(milliseconds(5)), 0, 2));
  EXPECT_GE(u, 0.0);
  EXPECT_LT(u, 1.0);
}

}  // namespace
}  // namespace meshloop::sim
