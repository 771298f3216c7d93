// The OTLP/JSON encoding of finished spans (an ExportTraceServiceRequest, per the OTLP specification's JSON
// mapping: ids as lower-case hex, 64-bit integers and timestamps as decimal strings, enums as numbers), as the
// local file exporter writes it, one request per line. Attributes are written sorted by key, so the same spans
// give the same bytes (the simulator's traces are reproducible).
// Thread-safety: pure functions.
#pragma once

#include <opentelemetry/sdk/trace/span_data.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <span>

namespace meshloop::trace {

// Spans grouped by resource and instrumentation scope, in first-seen order.
nlohmann::json otlp_json_request(std::span<const std::unique_ptr<opentelemetry::sdk::trace::SpanData>> spans);

}  // namespace meshloop::trace
