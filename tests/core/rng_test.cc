#include "core/rng.h"

#include <gtest/gtest.h>

#include <cmath>

namespace meshloop {
namespace {

TEST(RngTest, SameSeedSameStream) {
  Rng a(42), b(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
}

TEST(RngTest, DerivedStreamsAreIndependentOfOtherDraws) {
  Rng link1 = Rng::derive(7, 1);
  Rng other = Rng::derive(7, 2);
  for (int i = 0; i < 50; ++i) other.next_u64();
  Rng link1_again = Rng::derive(7, 1);
  EXPECT_EQ(link1.next_u64(), link1_again.next_u64());
  EXPECT_NE(Rng::derive(7, 1).next_u64(), Rng::derive(7, 2).next_u64());
}

TEST(RngTest, UniformIntStaysInRangeAndCoversIt) {
  Rng r(1);
  int seen[6] = {};
  for (int i = 0; i < 6000; ++i) {
    auto v = r.uniform_int(-2, 3);
    ASSERT_GE(v, -2);
    ASSERT_LE(v, 3);
    ++seen[v + 2];
  }
  for (int count : seen) EXPECT_GT(count, 800);
}

TEST(RngTest, MomentsAreRight) {
  Rng r(3);
  double sum = 0, sum_exp = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    sum += r.uniform();
    sum_exp += r.exponential(2.0);
  }
  EXPECT_NEAR(sum / n, 0.5, 0.01);
  EXPECT_NEAR(sum_exp / n, 2.0, 0.05);
}

}  // namespace
}  // namespace meshloop
