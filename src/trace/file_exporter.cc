#include "trace/file_exporter.h"

#include <opentelemetry/sdk/trace/span_data.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "trace/otlp_json.h"

namespace meshloop::trace {

namespace sdk_trace = opentelemetry::sdk::trace;
using opentelemetry::sdk::common::ExportResult;

Result<std::unique_ptr<JsonLinesExporter>> JsonLinesExporter::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "ae");
  if (f == nullptr) return Status::IoError("cannot open trace file " + path + ": " + std::strerror(errno));
  return std::unique_ptr<JsonLinesExporter>(new JsonLinesExporter(f));
}

JsonLinesExporter::~JsonLinesExporter() { Shutdown(std::chrono::microseconds(0)); }

std::unique_ptr<sdk_trace::Recordable> JsonLinesExporter::MakeRecordable() noexcept {
  return std::make_unique<sdk_trace::SpanData>();
}

ExportResult JsonLinesExporter::Export(
    const opentelemetry::nostd::span<std::unique_ptr<sdk_trace::Recordable>>& spans) noexcept {
  std::vector<std::unique_ptr<sdk_trace::SpanData>> data;
  data.reserve(spans.size());
  for (auto& r : spans) {
    data.emplace_back(static_cast<sdk_trace::SpanData*>(r.release()));
  }
  std::string line;
  try {
    line = otlp_json_request(data).dump();
  } catch (...) {  // nlohmann throws on invalid UTF-8 in an attribute: lose the batch, never the process
    return ExportResult::kFailure;
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ == nullptr) return ExportResult::kFailure;
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    return ExportResult::kFailure;
  }
  return ExportResult::kSuccess;
}

bool JsonLinesExporter::ForceFlush(std::chrono::microseconds) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return file_ == nullptr || std::fflush(file_) == 0;
}

bool JsonLinesExporter::Shutdown(std::chrono::microseconds) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ == nullptr) return true;
  const bool ok = std::fclose(file_) == 0;
  file_ = nullptr;
  return ok;
}

}  // namespace meshloop::trace
