// wait_for: polls `condition` until it holds or `timeout` passes (integration tests waiting on real processes).
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace meshloop::testing {

// True as soon as `condition` holds; false if it still does not at the deadline (checked once more then).
inline bool wait_for(const std::function<bool()>& condition, std::chrono::seconds timeout,
                     std::chrono::milliseconds poll = std::chrono::milliseconds(100)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

}  // namespace meshloop::testing
