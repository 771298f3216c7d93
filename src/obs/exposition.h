// obs::Exposition: the one place that formats metrics, as Prometheus text format 0.0.4, gzip-compressed when the
// scraper accepts it.
//
// It exposes one or more registries in a single response: a node exposes its own registry; the simulator exposes
// one registry per simulated node (each with its own `node` label) plus its process registry. Families of the same
// name from different registries are merged (one HELP/TYPE per name, as the format requires) and families and series
// are sorted, so the output is deterministic. It transport-neutral: an HTTP server calls render() and writes what
// it returns (see obs/http_route.h for cpp-httplib). It measures itself under meshloop_obs_* in the registry given
// to the constructor.
//
// Thread-safety: expose() before serving starts; after that render() may run on several threads at once, while
// other threads update the exposed metrics.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "obs/registry.h"

namespace meshloop::obs {

inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

struct Rendered {
  std::string body;              // as sent on the wire (compressed when content_encoding is "gzip")
  std::string content_type;      // kTextContentType
  std::string content_encoding;  // "gzip" or "" (identity)
};

// True when an Accept-Encoding header value accepts gzip (a `gzip`, `x-gzip` or `*` coding whose q is not 0).
bool accepts_gzip(std::string_view accept_encoding);
// gzip (RFC 1952) of `data` at zlib's fastest level (1): on a 200-node exposition it is 3-4x faster than the
// default level for a body ~40% larger, and Prometheus decompresses either. Fails only if zlib does.
Result<std::string> gzip_compress(std::string_view data);

// Metrics of the exposition itself.
struct ExpositionMetrics {
  explicit ExpositionMetrics(MetricsRegistry& registry);
  CounterFamily scrapes;                  // meshloop_obs_scrapes_total{encoding}
  HistogramFamily duration;               // meshloop_obs_scrape_duration_seconds
  GaugeFamily response_bytes;             // meshloop_obs_scrape_response_bytes{encoding}
};

class Exposition {
 public:
  // Exposes `own` and records the exposition's metrics in it. REQUIRES: `own` outlives this object.
  explicit Exposition(MetricsRegistry& own);

  // Adds a registry to every later response. REQUIRES: `registry` outlives this object; before serving starts.
  void expose(const MetricsRegistry& registry);

  // The whole exposition for a request with this Accept-Encoding header value ("" when absent).
  Rendered render(std::string_view accept_encoding) const;
  // The uncompressed text, without updating the exposition's own metrics (for tests and tools).
  std::string text() const;

 private:
  std::vector<const MetricsRegistry*> registries_;
  mutable std::atomic<std::size_t> size_hint_{0};  // the latest text's size, to reserve the next one at once
  ExpositionMetrics metrics_;
  prometheus::Counter* scrapes_identity_;
  prometheus::Counter* scrapes_gzip_;
  prometheus::Histogram* duration_;
  prometheus::Gauge* bytes_identity_;
  prometheus::Gauge* bytes_gzip_;
};

// Families of several registries merged by name (the first registry's HELP and TYPE win), sorted by name, and
// their series sorted by label set: what the text is written from.
std::vector<prometheus::MetricFamily> merge_families(const std::vector<const MetricsRegistry*>& registries);

// Appends `families` to `out` in text format 0.0.4. Our own writer rather than prometheus::TextSerializer, which
// streams one value at a time through std::ostream and was 2/3 of a 200-node scrape (docs/decisions/0012).
// Output is byte-identical to TextSerializer's (tests/obs/exposition_test.cc uses it as the oracle) except where
// TextSerializer breaks the format: HELP text is escaped (`\\`, `\n`) and NaN is written `NaN`.
void write_text(const std::vector<prometheus::MetricFamily>& families, std::string& out);

// merge_families + write_text (what render() does before compressing). `size_hint` reserves the output up front.
std::string serialize_text(const std::vector<const MetricsRegistry*>& registries, std::size_t size_hint = 0);

}  // namespace meshloop::obs
