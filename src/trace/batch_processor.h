// trace::BoundedBatchProcessor: hands finished spans to an exporter in batches, on a thread of its own, and never
// makes the thread that ends a span wait (the packet path ends spans).
//
// OnEnd() takes a mutex for a push into a bounded queue and returns; when the queue is full the span is dropped and
// counted. The export thread sends a batch when max_batch spans wait or schedule_delay has passed; a failed export
// (endpoint down, timeout) drops that batch and counts it. Nothing is retried beyond what the exporter does itself:
// while the endpoint is down spans are dropped and counted, and export resumes by itself when it returns.
// With `block_when_full` (the simulator, where reproducible output matters more than latency) OnEnd waits for room
// instead of dropping.
//
// Why not the SDK's BatchSpanProcessor: it drops silently on a full queue and a failed export (a log line, no
// count), and meshloop_trace_spans_dropped_total must count both.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <opentelemetry/sdk/trace/exporter.h>
#include <opentelemetry/sdk/trace/processor.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace meshloop::trace {

struct BatchOptions {
  std::size_t max_queue = 2048;
  std::size_t max_batch = 512;
  std::chrono::milliseconds schedule_delay{1000};
  bool block_when_full = false;
  // Called (from the thread that noticed) with the number of spans dropped / exported. Optional.
  std::function<void(std::uint64_t)> on_dropped;
  std::function<void(std::uint64_t)> on_exported;
};

struct BatchCounters {
  std::uint64_t queued = 0, exported = 0, dropped_queue_full = 0, dropped_export_failed = 0;
};

// An exporter that reports success whatever happened (the SDK's OTLP/HTTP exporter in synchronous mode logs a
// failed export and returns kSuccess) tells the processor through this, from inside its Export() on the export
// thread; the batch is then counted as dropped. trace/tracing.cc calls it from the SDK's internal log handler.
void note_export_failure_on_this_thread();

class BoundedBatchProcessor final : public opentelemetry::sdk::trace::SpanProcessor {
 public:
  BoundedBatchProcessor(std::unique_ptr<opentelemetry::sdk::trace::SpanExporter> exporter, BatchOptions options);
  ~BoundedBatchProcessor() override;  // Shutdown()

  std::unique_ptr<opentelemetry::sdk::trace::Recordable> MakeRecordable() noexcept override;
  void OnStart(opentelemetry::sdk::trace::Recordable&, const opentelemetry::trace::SpanContext&) noexcept override {}
  void OnEnd(std::unique_ptr<opentelemetry::sdk::trace::Recordable>&& span) noexcept override;
  // Exports everything queued before the call; false when that did not finish within `timeout`.
  bool ForceFlush(std::chrono::microseconds timeout) noexcept override;
  // Exports what is queued, stops the thread and shuts the exporter down. Idempotent.
  bool Shutdown(std::chrono::microseconds timeout) noexcept override;

  BatchCounters counters() const;

 private:
  void run();
  void export_batch(std::unique_lock<std::mutex>& lock);

  std::unique_ptr<opentelemetry::sdk::trace::SpanExporter> exporter_;
  const BatchOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;      // the export thread: work, flush or stop
  std::condition_variable progress_;  // waiters: room in the queue, a flush done
  std::deque<std::unique_ptr<opentelemetry::sdk::trace::Recordable>> queue_;  // guarded by mu_
  std::uint64_t flush_requested_ = 0;  // guarded by mu_: flush generations asked for
  std::uint64_t flush_done_ = 0;       // and done
  bool exporting_ = false;             // guarded by mu_
  bool stop_ = false;                  // guarded by mu_
  bool shut_down_ = false;             // guarded by mu_
  BatchCounters counters_;             // guarded by mu_
  std::thread thread_;
};

}  // namespace meshloop::trace
