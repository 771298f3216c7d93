#include "obs/trace_metrics.h"

namespace meshloop::obs {

TraceMetrics::TraceMetrics(MetricsRegistry& registry)
    : exported_(registry
                    .counter("meshloop_trace_spans_exported_total",
                             "Spans the trace exporter delivered (OTLP endpoint or local file)")
                    .get()),
      dropped_(registry
                   .counter("meshloop_trace_spans_dropped_total",
                            "Spans lost because the export queue was full or an export failed (endpoint down)")
                   .get()) {}

}  // namespace meshloop::obs
