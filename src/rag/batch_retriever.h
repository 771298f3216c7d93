// The batch retriever: runs many queries on a bounded pool of worker threads whose active size adapts between a
// minimum and a maximum, with a deadline per query, results in input order, and backpressure (a bounded queue:
// a batch caller waits for room; try_submit() refuses with ResourceExhausted) instead of unbounded queues.
//
// Adaptation (every `adapt_interval`, judged by whichever worker finishes a query after it elapses):
//   grow by one when work waits (queue depth >= active workers) and the oldest queued item has waited longer than
//   `target_latency`; after a grow, keep it only if throughput rose by at least `min_gain`, otherwise step back and
//   hold for `hold_intervals`; shrink by one when the queue stayed empty for a whole interval.
// Threads up to max_workers exist from the start; only the first `active` of them take work.
// Thread-safety: all public methods are safe concurrently.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "rag/knowledge_base.h"

namespace meshloop::rag {

struct BatchOptions {
  std::size_t min_workers = 1;
  std::size_t max_workers = 2;
  std::size_t initial_workers = 0;  // 0: start at min_workers
  std::size_t queue_capacity = 256;
  bool adaptive = true;
  Duration adapt_interval = milliseconds(50);
  Duration target_latency = milliseconds(5);  // queue wait that asks for another worker
  double min_gain = 0.10;
  int hold_intervals = 10;
};

struct BatchStats {
  std::size_t active_workers = 0;
  std::uint64_t completed = 0;
  std::uint64_t deadline_exceeded = 0;
  std::uint64_t rejected = 0;  // try_submit() refusals
  std::uint64_t grows = 0;
  std::uint64_t shrinks = 0;
  std::size_t max_queue_depth = 0;
  std::vector<std::size_t> worker_history;  // active workers after each adaptation decision (last 256)
};

class BatchRetriever {
 public:
  using Retrieve = std::function<Result<std::vector<QueryHit>>(const Query&)>;
  using Clock = std::function<TimePoint()>;
  // REQUIRES: 1 <= min_workers <= max_workers; `retrieve` safe to call from several threads at once.
  BatchRetriever(Retrieve retrieve, BatchOptions options, Clock clock = nullptr);
  ~BatchRetriever();  // finishes queued work, then joins
  BatchRetriever(const BatchRetriever&) = delete;
  BatchRetriever& operator=(const BatchRetriever&) = delete;

  // Runs every query; result i belongs to queries[i]. A query not finished within `deadline` of its submission
  // gets DeadlineExceeded (one still waiting in the queue is not run at all). Blocks while the queue is full.
  std::vector<Result<std::vector<QueryHit>>> retrieve_all(const std::vector<Query>& queries, Duration deadline);
  // Queues one query without blocking; ResourceExhausted when the queue is full.
  Result<std::future<Result<std::vector<QueryHit>>>> try_submit(Query query, Duration deadline);

  BatchStats stats() const;
  std::size_t active_workers() const { return active_.load(); }

 private:
  struct Task {
    Query query;
    TimePoint submitted;
    TimePoint deadline;
    std::promise<Result<std::vector<QueryHit>>> promise;
  };
  void worker(std::size_t index);
  void adapt_locked(TimePoint now);
  std::future<Result<std::vector<QueryHit>>> enqueue_locked(Query query, Duration deadline, TimePoint now);

  Retrieve retrieve_;
  BatchOptions options_;
  Clock clock_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // workers wait for tasks (or for being activated)
  std::condition_variable space_cv_;  // submitters wait for room
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::atomic<std::size_t> active_{1};
  std::vector<std::thread> threads_;
  BatchStats stats_;
  // adaptation state
  TimePoint interval_start_{};
  std::uint64_t completed_at_interval_start_ = 0;
  double last_throughput_ = 0;
  double throughput_before_grow_ = -1;
  int hold_ = 0;
  bool queue_was_empty_all_interval_ = true;
};

}  // namespace meshloop::rag
