#include "sim/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "core/rng.h"

namespace meshloop::sim {
namespace {

TEST(Scheduler, PopsInTimeOrder) {
  Scheduler s;
  s.push(at(seconds(3)), 0, 3);
  s.push(at(seconds(1)), 0, 1);
  s.push(at(seconds(2)), 0, 2);
  EXPECT_EQ(s.pop().a, 1u);
  EXPECT_EQ(s.pop().a, 2u);
  EXPECT_EQ(s.pop().a, 3u);
  EXPECT_TRUE(s.empty());
}

TEST(Scheduler, BreaksTiesByInsertionOrder) {
  Scheduler s;
  for (std::uint32_t i = 0; i < 100; ++i) s.push(at(seconds(5)), 0, i);
  for (std::uint32_t i = 0; i < 100; ++i) EXPECT_EQ(s.pop().a, i);
}

TEST(Scheduler, MatchesAStableSortOracleOnRandomPushesAndPops) {
  Rng rng(42);
  Scheduler s;
  std::vector<std::tuple<std::int64_t, std::uint64_t, std::uint32_t>> oracle;  // (time, seq, payload)
  std::uint64_t seq = 0;
  std::int64_t now = 0;
  for (int round = 0; round < 20000; ++round) {
    if (rng.uniform() < 0.6 || oracle.empty()) {
      const std::int64_t t = now + rng.uniform_int(0, 50);  // many equal times
      s.push(TimePoint{Duration{t}}, 0, static_cast<std::uint32_t>(round));
      oracle.emplace_back(t, seq++, static_cast<std::uint32_t>(round));
    } else {
      auto it = std::min_element(oracle.begin(), oracle.end());
      const SimEvent ev = s.pop();
      ASSERT_EQ(ev.at.time_since_epoch().count(), std::get<0>(*it));
      ASSERT_EQ(ev.a, std::get<2>(*it));
      now = std::get<0>(*it);
      oracle.erase(it);
    }
  }
}

}  // namespace
}  // namespace meshloop::sim
