// trace::JsonLinesExporter: the embedded default exporter. Each export appends one line to a file: an OTLP/JSON
// ExportTraceServiceRequest (otlp_json.h), the same form an OTLP/HTTP JSON receiver accepts, so a user without a
// tracing backend can still read traces (jq) or replay them into one later.
// Thread-safety: Export/ForceFlush/Shutdown may be called from any thread (a mutex serialises writes).
#pragma once

#include <opentelemetry/sdk/trace/exporter.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.h"

namespace meshloop::trace {

class JsonLinesExporter final : public opentelemetry::sdk::trace::SpanExporter {
 public:
  // Opens (creating, appending) `path`. IoError when it cannot.
  static Result<std::unique_ptr<JsonLinesExporter>> open(const std::string& path);
  ~JsonLinesExporter() override;

  std::unique_ptr<opentelemetry::sdk::trace::Recordable> MakeRecordable() noexcept override;
  // kFailure when the line cannot be written (the spans are lost and the processor counts them).
  opentelemetry::sdk::common::ExportResult Export(
      const opentelemetry::nostd::span<std::unique_ptr<opentelemetry::sdk::trace::Recordable>>& spans) noexcept
      override;
  bool ForceFlush(std::chrono::microseconds timeout) noexcept override;
  bool Shutdown(std::chrono::microseconds timeout) noexcept override;

 private:
  explicit JsonLinesExporter(std::FILE* file) : file_(file) {}
  std::mutex mu_;
  std::FILE* file_;  // guarded by mu_; null after Shutdown
};

}  // namespace meshloop::trace
