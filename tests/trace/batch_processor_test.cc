#include "trace/batch_processor.h"

#include <gtest/gtest.h>
#include <opentelemetry/sdk/trace/span_data.h>

#include <atomic>
#include <mutex>

namespace meshloop::trace {
namespace {

namespace sdk_trace = opentelemetry::sdk::trace;
using opentelemetry::sdk::common::ExportResult;

// An exporter that fails while `down` is set (an unreachable endpoint) and can be made to hang until released.
class SwitchableExporter final : public sdk_trace::SpanExporter {
 public:
  struct State {
    std::atomic<bool> down{false};
    std::atomic<std::uint64_t> received{0};
    std::mutex gate;  // held by a test to make Export block
  };
  explicit SwitchableExporter(std::shared_ptr<State> s) : s_(std::move(s)) {}
  std::unique_ptr<sdk_trace::Recordable> MakeRecordable() noexcept override {
    return std::make_unique<sdk_trace::SpanData>();
  }
  ExportResult Export(const opentelemetry::nostd::span<std::unique_ptr<sdk_trace::Recordable>>& spans) noexcept override {
    std::lock_guard<std::mutex> wait(s_->gate);
    if (s_->down) return ExportResult::kFailure;
    s_->received += spans.size();
    return ExportResult::kSuccess;
  }
  bool ForceFlush(std::chrono::microseconds) noexcept override { return true; }
  bool Shutdown(std::chrono::microseconds) noexcept override { return true; }

 private:
  std::shared_ptr<State> s_;
};

BatchOptions options(std::size_t queue, std::size_t batch, std::chrono::milliseconds delay) {
  BatchOptions o;
  o.max_queue = queue;
  o.max_batch = batch;
  o.schedule_delay = delay;
  return o;
}

void end_spans(BoundedBatchProcessor& p, int n) {
  for (int i = 0; i < n; ++i) p.OnEnd(p.MakeRecordable());
}

TEST(BoundedBatchProcessorTest, ExportsEverythingOnFlush) {
  auto state = std::make_shared<SwitchableExporter::State>();
  BoundedBatchProcessor p(std::make_unique<SwitchableExporter>(state), options(100, 10, std::chrono::seconds(60)));
  end_spans(p, 35);
  ASSERT_TRUE(p.ForceFlush(std::chrono::seconds(5)));
  EXPECT_EQ(state->received, 35u);
  EXPECT_EQ(p.counters().exported, 35u);
}

TEST(BoundedBatchProcessorTest, FailedExportsAreDroppedAndCountedThenExportResumes) {
  auto state = std::make_shared<SwitchableExporter::State>();
  std::atomic<std::uint64_t> dropped{0};
  BatchOptions o = options(100, 10, std::chrono::seconds(60));
  o.on_dropped = [&](std::uint64_t n) { dropped += n; };
  BoundedBatchProcessor p(std::make_unique<SwitchableExporter>(state), o);
  state->down = true;
  end_spans(p, 20);
  ASSERT_TRUE(p.ForceFlush(std::chrono::seconds(5)));
  EXPECT_EQ(dropped, 20u);
  EXPECT_EQ(p.counters().dropped_export_failed, 20u);
  state->down = false;
  end_spans(p, 5);
  ASSERT_TRUE(p.ForceFlush(std::chrono::seconds(5)));
  EXPECT_EQ(state->received, 5u);
}

TEST(BoundedBatchProcessorTest, AFullQueueDropsInsteadOfBlockingTheCaller) {
  auto state = std::make_shared<SwitchableExporter::State>();
  std::atomic<std::uint64_t> dropped{0};
  BatchOptions o = options(8, 4, std::chrono::milliseconds(1));
  o.on_dropped = [&](std::uint64_t n) { dropped += n; };
  BoundedBatchProcessor p(std::make_unique<SwitchableExporter>(state), o);
  {
    std::lock_guard<std::mutex> hang(state->gate);  // the exporter hangs (a black-holed endpoint)
    const auto start = std::chrono::steady_clock::now();
    end_spans(p, 1000);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  }
  ASSERT_TRUE(p.ForceFlush(std::chrono::seconds(5)));
  const BatchCounters c = p.counters();
  EXPECT_GE(c.dropped_queue_full, 1000u - 8u - 4u);
  EXPECT_EQ(c.exported + c.dropped_queue_full + c.dropped_export_failed, 1000u);
  EXPECT_EQ(dropped, c.dropped_queue_full);
}

TEST(BoundedBatchProcessorTest, BlockingModeLosesNothing) {
  auto state = std::make_shared<SwitchableExporter::State>();
  BatchOptions o = options(8, 4, std::chrono::milliseconds(50));
  o.block_when_full = true;
  BoundedBatchProcessor p(std::make_unique<SwitchableExporter>(state), o);
  end_spans(p, 500);
  ASSERT_TRUE(p.ForceFlush(std::chrono::seconds(5)));
  EXPECT_EQ(state->received, 500u);
  EXPECT_EQ(p.counters().dropped_queue_full, 0u);
}

}  // namespace
}  // namespace meshloop::trace
