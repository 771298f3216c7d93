// sim::Scheduler: the discrete-event queue, a binary min-heap of small events ordered by (time, insertion seq).
//
// Ties in time are broken by insertion order, so a run is a pure function of its inputs: no wall clock, no
// pointer values, no unordered containers decide what happens first. Events are 32-byte values (a kind and two
// 32-bit arguments whose meaning the owner of the kind defines); nothing is allocated per event once the heap's
// vector has grown.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <vector>

#include "core/time.h"

namespace meshloop::sim {

struct SimEvent {
  TimePoint at;
  std::uint64_t seq = 0;
  std::uint32_t kind = 0;
  std::uint32_t a = 0;
  std::uint32_t b = 0;
};

class Scheduler {
 public:
  // Schedules an event; events at equal times come out in the order they were pushed.
  void push(TimePoint at, std::uint32_t kind, std::uint32_t a = 0, std::uint32_t b = 0);
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  // REQUIRES: !empty().
  const SimEvent& top() const { return heap_.front(); }
  // Removes and returns the earliest event. REQUIRES: !empty().
  SimEvent pop();
  std::uint64_t pushed() const { return next_seq_; }
  void reserve(std::size_t n) { heap_.reserve(n); }

 private:
  static bool before(const SimEvent& x, const SimEvent& y) {
    return x.at < y.at || (x.at == y.at && x.seq < y.seq);
  }
  std::vector<SimEvent> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace meshloop::sim
