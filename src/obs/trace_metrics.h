// obs::TraceMetrics: what the span exporter did (trace::Tracing's callbacks feed it; obs knows nothing of OTel).
//
//   meshloop_trace_spans_exported_total   spans the exporter accepted (the OTLP endpoint, or the local file)
//   meshloop_trace_spans_dropped_total    spans lost: the export queue was full, or an export failed (endpoint
//                                         down, timeout); the packet path never waits for export
//
// Thread-safety: the counters are atomic; the callbacks run on the exporter's thread.
#pragma once

#include <cstdint>

#include "obs/registry.h"

namespace meshloop::obs {

class TraceMetrics {
 public:
  // Declares the families in `registry`. REQUIRES: `registry` outlives this object.
  explicit TraceMetrics(MetricsRegistry& registry);
  void exported(std::uint64_t n) { exported_.Increment(static_cast<double>(n)); }
  void dropped(std::uint64_t n) { dropped_.Increment(static_cast<double>(n)); }

 private:
  prometheus::Counter& exported_;
  prometheus::Counter& dropped_;
};

}  // namespace meshloop::obs
