// Time as the core sees it: a value passed in, never read from a clock.
//
// MeshClock has no now(): code that holds only this header cannot read time, which is how the I/O-free core stays
// deterministic. Drivers (the UDP driver, the simulator) convert their own clocks into TimePoints.
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstdint>

namespace meshloop {

struct MeshClock {
  using rep = std::int64_t;
  using period = std::micro;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<MeshClock>;
  static constexpr bool is_steady = true;
};

using Duration = MeshClock::duration;
using TimePoint = MeshClock::time_point;

constexpr TimePoint kTimeZero{};
constexpr TimePoint kTimeNever = TimePoint::max();

constexpr Duration microseconds(std::int64_t us) { return Duration{us}; }
constexpr Duration milliseconds(std::int64_t ms) { return Duration{ms * 1000}; }
constexpr Duration seconds(std::int64_t s) { return Duration{s * 1000000}; }
constexpr Duration seconds_f(double s) { return Duration{static_cast<std::int64_t>(s * 1e6)}; }

constexpr double to_seconds(Duration d) { return static_cast<double>(d.count()) / 1e6; }
constexpr double to_seconds(TimePoint t) { return to_seconds(t.time_since_epoch()); }
constexpr TimePoint at(Duration since_zero) { return TimePoint{since_zero}; }

}  // namespace meshloop
