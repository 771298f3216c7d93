#include "trace/batch_processor.h"

#include <vector>

namespace meshloop::trace {

namespace sdk_trace = opentelemetry::sdk::trace;
using opentelemetry::sdk::common::ExportResult;

namespace {
thread_local bool export_failed = false;
}  // namespace

void note_export_failure_on_this_thread() { export_failed = true; }

BoundedBatchProcessor::BoundedBatchProcessor(std::unique_ptr<sdk_trace::SpanExporter> exporter, BatchOptions options)
    : exporter_(std::move(exporter)), options_(std::move(options)) {
  thread_ = std::thread([this] { run(); });
}

BoundedBatchProcessor::~BoundedBatchProcessor() { Shutdown(std::chrono::seconds(5)); }

std::unique_ptr<sdk_trace::Recordable> BoundedBatchProcessor::MakeRecordable() noexcept {
  return exporter_->MakeRecordable();
}

void BoundedBatchProcessor::OnEnd(std::unique_ptr<sdk_trace::Recordable>&& span) noexcept {
  std::unique_lock<std::mutex> lock(mu_);
  if (stop_) return;
  if (queue_.size() >= options_.max_queue) {
    if (!options_.block_when_full) {
      ++counters_.dropped_queue_full;
      lock.unlock();
      if (options_.on_dropped) options_.on_dropped(1);
      return;
    }
    wake_.notify_one();
    progress_.wait(lock, [this] { return queue_.size() < options_.max_queue || stop_; });
    if (stop_) return;
  }
  queue_.push_back(std::move(span));
  ++counters_.queued;
  if (queue_.size() >= options_.max_batch) wake_.notify_one();
}

void BoundedBatchProcessor::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait_for(lock, options_.schedule_delay, [this] {
      return stop_ || queue_.size() >= options_.max_batch || flush_requested_ != flush_done_ ||
             (options_.block_when_full && queue_.size() >= options_.max_queue);
    });
    const std::uint64_t flushing = flush_requested_;
    // One batch on a timer or a full batch; everything on a flush or a stop.
    do {
      export_batch(lock);
    } while (!queue_.empty() && (stop_ || flushing != flush_done_ || queue_.size() >= options_.max_batch));
    flush_done_ = flushing;
    progress_.notify_all();
    if (stop_) return;
  }
}

void BoundedBatchProcessor::export_batch(std::unique_lock<std::mutex>& lock) {
  if (queue_.empty()) return;
  std::vector<std::unique_ptr<sdk_trace::Recordable>> batch;
  const std::size_t n = std::min(queue_.size(), options_.max_batch);
  batch.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  exporting_ = true;
  progress_.notify_all();  // room in the queue
  lock.unlock();
  export_failed = false;
  const ExportResult result =
      exporter_->Export(opentelemetry::nostd::span<std::unique_ptr<sdk_trace::Recordable>>(batch.data(), batch.size()));
  const bool ok = result == ExportResult::kSuccess && !export_failed;
  if (ok && options_.on_exported) options_.on_exported(n);
  if (!ok && options_.on_dropped) options_.on_dropped(n);
  lock.lock();
  exporting_ = false;
  (ok ? counters_.exported : counters_.dropped_export_failed) += n;
}

bool BoundedBatchProcessor::ForceFlush(std::chrono::microseconds timeout) noexcept {
  std::unique_lock<std::mutex> lock(mu_);
  if (stop_) return true;
  const std::uint64_t generation = ++flush_requested_;
  wake_.notify_one();
  const auto done = [&] { return flush_done_ >= generation || stop_; };
  if (timeout == std::chrono::microseconds::max()) {
    progress_.wait(lock, done);
  } else if (!progress_.wait_for(lock, timeout, done)) {
    return false;
  }
  lock.unlock();
  return exporter_->ForceFlush(timeout);
}

bool BoundedBatchProcessor::Shutdown(std::chrono::microseconds timeout) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return true;
    shut_down_ = true;
    stop_ = true;
  }
  wake_.notify_one();
  progress_.notify_all();
  if (thread_.joinable()) thread_.join();
  return exporter_->Shutdown(timeout);
}

BatchCounters BoundedBatchProcessor::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

}  // namespace meshloop::trace
