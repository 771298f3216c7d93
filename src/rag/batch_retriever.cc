#include "rag/batch_retriever.h"

#include <algorithm>

#include "rag/semantic_cache.h"

namespace meshloop::rag {

BatchRetriever::BatchRetriever(Retrieve retrieve, BatchOptions options, Clock clock)
    : retrieve_(std::move(retrieve)), options_(options), clock_(clock ? std::move(clock) : Clock(steady_now)) {
  options_.min_workers = std::max<std::size_t>(options_.min_workers, 1);
  options_.max_workers = std::max(options_.max_workers, options_.min_workers);
  options_.queue_capacity = std::max<std::size_t>(options_.queue_capacity, 1);
  std::size_t initial = options_.initial_workers ? options_.initial_workers : options_.min_workers;
  active_ = std::clamp(initial, options_.min_workers, options_.max_workers);
  stats_.active_workers = active_;
  interval_start_ = clock_();
  for (std::size_t i = 0; i < options_.max_workers; ++i) threads_.emplace_back([this, i] { worker(i); });
}

BatchRetriever::~BatchRetriever() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

std::future<Result<std::vector<QueryHit>>> BatchRetriever::enqueue_locked(Query query, Duration deadline,
                                                                          TimePoint now) {
  Task t{std::move(query), now, now + deadline, {}};
  auto fut = t.promise.get_future();
  queue_.push_back(std::move(t));
  stats_.max_queue_depth = std::max(stats_.max_queue_depth, queue_.size());
  queue_was_empty_all_interval_ = false;
  return fut;
}

std::vector<Result<std::vector<QueryHit>>> BatchRetriever::retrieve_all(const std::vector<Query>& queries,
                                                                        Duration deadline) {
  std::vector<std::future<Result<std::vector<QueryHit>>>> futures;
  futures.reserve(queries.size());
  for (const auto& q : queries) {
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [this] { return queue_.size() < options_.queue_capacity || stopping_; });
    if (stopping_) break;
    futures.push_back(enqueue_locked(q, deadline, clock_()));
    lock.unlock();
    work_cv_.notify_one();
  }
  std::vector<Result<std::vector<QueryHit>>> out;
  out.reserve(queries.size());
  for (auto& f : futures) out.push_back(f.get());
  while (out.size() < queries.size()) out.push_back(Status::Unavailable("batch retriever is shutting down"));
  return out;
}

Result<std::future<Result<std::vector<QueryHit>>>> BatchRetriever::try_submit(Query query, Duration deadline) {
  std::unique_lock lock(mu_);
  if (stopping_) return Status::Unavailable("batch retriever is shutting down");
  if (queue_.size() >= options_.queue_capacity) {
    ++stats_.rejected;
    return Status::ResourceExhausted("retrieval queue is full (" + std::to_string(options_.queue_capacity) +
                                     " waiting); retry later");
  }
  auto fut = enqueue_locked(std::move(query), deadline, clock_());
  lock.unlock();
  work_cv_.notify_one();
  return fut;
}

void BatchRetriever::worker(std::size_t index) {
  std::unique_lock lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || (index < active_.load() && !queue_.empty()); });
    if (queue_.empty() && stopping_) return;
    if (index >= active_.load() && !stopping_) continue;
    Task task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    space_cv_.notify_one();

    Result<std::vector<QueryHit>> result = Status::DeadlineExceeded("query waited past its deadline in the queue");
    TimePoint now = clock_();
    if (now < task.deadline) {
      result = retrieve_(task.query);
      now = clock_();
      if (now > task.deadline) result = Status::DeadlineExceeded("query finished after its deadline");
    }
    const bool late = !result.ok() && result.status().code() == StatusCode::kDeadlineExceeded;
    lock.lock();
    ++stats_.completed;
    if (late) ++stats_.deadline_exceeded;
    lock.unlock();
    task.promise.set_value(std::move(result));  // after the counters: a caller that saw its result sees them

    lock.lock();
    if (options_.adaptive && now - interval_start_ >= options_.adapt_interval) adapt_locked(now);
  }
}

void BatchRetriever::adapt_locked(TimePoint now) {
  const double secs = to_seconds(now - interval_start_);
  const double throughput = secs > 0 ? static_cast<double>(stats_.completed - completed_at_interval_start_) / secs : 0;
  const std::size_t active = active_.load();
  const Duration oldest_wait = queue_.empty() ? Duration{0} : now - queue_.front().submitted;
  std::size_t next = active;
  if (throughput_before_grow_ >= 0) {
    // Judge the last grow: keep it only if it paid.
    if (throughput < throughput_before_grow_ * (1.0 + options_.min_gain)) {
      next = active - 1;
      hold_ = options_.hold_intervals;
    }
    throughput_before_grow_ = -1;
  } else if (hold_ > 0) {
    --hold_;
  } else if (active < options_.max_workers && queue_.size() >= active && oldest_wait >= options_.target_latency) {
    next = active + 1;
    throughput_before_grow_ = throughput;
  } else if (active > options_.min_workers && queue_was_empty_all_interval_) {
    next = active - 1;
  }
  if (next != active) {
    (next > active ? stats_.grows : stats_.shrinks) += 1;
    active_ = next;
    work_cv_.notify_all();
  }
  stats_.active_workers = next;
  if (stats_.worker_history.size() < 256) stats_.worker_history.push_back(next);
  last_throughput_ = throughput;
  interval_start_ = now;
  completed_at_interval_start_ = stats_.completed;
  queue_was_empty_all_interval_ = queue_.empty();
}

BatchStats BatchRetriever::stats() const {
  std::lock_guard lock(mu_);
  BatchStats s = stats_;
  s.active_workers = active_.load();
  return s;
}

}  // namespace meshloop::rag
