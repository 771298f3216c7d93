#include "sim/scheduler.h"

#include <utility>

namespace meshloop::sim {

// A hand-written sift (rather than std::push_heap) so the comparison inlines and the hole moves without swaps.
void Scheduler::push(TimePoint at, std::uint32_t kind, std::uint32_t a, std::uint32_t b) {
  SimEvent ev{at, next_seq_++, kind, a, b};
  std::size_t i = heap_.size();
  heap_.push_back(ev);
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!before(ev, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = ev;
}

SimEvent Scheduler::pop() {
  SimEvent out = heap_.front();
  const SimEvent last = heap_.back();
  heap_.pop_back();
  const std::size_t n = heap_.size();
  if (n == 0) return out;
  std::size_t i = 0;
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
    if (!before(heap_[child], last)) break;
    heap_[i] = heap_[child];
    i = child;
  }
  heap_[i] = last;
  return out;
}

}  // namespace meshloop::sim
