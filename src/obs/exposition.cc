#include "obs/exposition.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>

namespace meshloop::obs {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// q of one coding ("gzip;q=0.5" -> 0.5); 1 when absent, 0 when unparsable (refuse rather than guess).
double quality(std::string_view params) {
  while (!params.empty()) {
    const auto semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      try {
        return std::stod(std::string(p.substr(2)));
      } catch (const std::exception&) {
        return 0;
      }
    }
  }
  return 1;
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  bool star = false, gzip = false, gzip_listed = false;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const auto semi = item.find(';');
    std::string_view coding = trim(item.substr(0, semi));
    const double q = semi == std::string_view::npos ? 1.0 : quality(item.substr(semi + 1));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      gzip_listed = true;
      gzip = gzip || q > 0;
    } else if (coding == "*") {
      star = q > 0;
    }
  }
  return gzip_listed ? gzip : star;
}

Result<std::string> gzip_compress(std::string_view data) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer rather than zlib's.
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(data.size())));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const auto written = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Status::Internal("deflate did not finish");
  out.resize(written);
  return out;
}

std::vector<prometheus::MetricFamily> merge_families(const std::vector<const MetricsRegistry*>& registries) {
  std::vector<prometheus::MetricFamily> merged;
  std::map<std::string, std::size_t, std::less<>> index;
  for (const MetricsRegistry* r : registries) {
    for (auto& f : r->collect()) {
      auto [it, inserted] = index.try_emplace(f.name, merged.size());
      if (inserted) {
        merged.push_back(std::move(f));
      } else {
        auto& into = merged[it->second].metric;
        std::move(f.metric.begin(), f.metric.end(), std::back_inserter(into));
      }
    }
  }
  std::sort(merged.begin(), merged.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  // Series by label set. Comparing ClientMetric::label vectors pair by pair was a fifth of a 200-node scrape; each
  // label set becomes one key instead (name NUL value NUL ..., which orders exactly as the pairs do since neither
  // contains NUL) and the keys, in one buffer, are compared with one memcmp each.
  std::string keys;
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // offset, length in `keys`
  std::vector<std::uint32_t> order;
  std::vector<prometheus::ClientMetric> sorted;
  for (auto& f : merged) {
    const std::size_t n = f.metric.size();
    keys.clear();
    spans.clear();
    for (const auto& m : f.metric) {
      const std::size_t begin = keys.size();
      for (const auto& l : m.label) {
        keys += l.name;
        keys += '\0';
        keys += l.value;
        keys += '\0';
      }
      spans.emplace_back(begin, keys.size() - begin);
    }
    order.resize(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
    const std::string_view all(keys);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return all.substr(spans[a].first, spans[a].second) < all.substr(spans[b].first, spans[b].second);
    });
    sorted.clear();
    sorted.reserve(n);
    for (std::uint32_t i : order) sorted.push_back(std::move(f.metric[i]));
    f.metric.swap(sorted);
  }
  return merged;
}

namespace {

// A sample value as TextSerializer writes it: printf's %.16g (max_digits10 - 1), `+Inf`/`-Inf`, and `NaN`.
void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v < 0 ? "-Inf" : "+Inf";
    return;
  }
  char buf[40];
  // The common case, an integral value (counters, most gauges): %.16g prints it as an integer below 1e16.
  if (std::fabs(v) < 1e15 && v == std::trunc(v) && !(v == 0 && std::signbit(v))) {
    const auto res = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v));
    out.append(buf, res.ptr);
    return;
  }
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 16);
  out.append(buf, res.ptr);
}

void append_count(std::string& out, std::uint64_t n) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, res.ptr);
}

// A label value: backslash, double quote and line feed escaped.
void append_label_value(std::string& out, std::string_view v) {
  if (v.find_first_of("\\\"\n") == std::string_view::npos) {
    out += v;
    return;
  }
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// HELP text: backslash and line feed escaped (the format's rule; TextSerializer writes it raw).
void append_help(std::string& out, std::string_view v) {
  if (v.find_first_of("\\\n") == std::string_view::npos) {
    out += v;
    return;
  }
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// `{a="x",b="y"` (no closing brace) into `labels`; empty when the series has no labels.
void label_prefix(std::string& labels, const prometheus::ClientMetric& m) {
  labels.clear();
  char sep = '{';
  for (const auto& l : m.label) {
    labels += sep;
    labels += l.name;
    labels += "=\"";
    append_label_value(labels, l.value);
    labels += '"';
    sep = ',';
  }
}

// One sample line's head: name, suffix, labels (and an extra label such as `le`), and the separating space.
void append_head(std::string& out, std::string_view name, std::string_view suffix, const std::string& labels,
                 std::string_view extra = {}) {
  out += name;
  out += suffix;
  if (!labels.empty()) {
    out += labels;
    if (!extra.empty()) {
      out += ',';
      out += extra;
    }
    out += "} ";
  } else if (!extra.empty()) {
    out += '{';
    out += extra;
    out += "} ";
  } else {
    out += ' ';
  }
}

void append_tail(std::string& out, const prometheus::ClientMetric& m) {
  if (m.timestamp_ms != 0) {
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof buf, m.timestamp_ms);
    out += ' ';
    out.append(buf, res.ptr);
  }
  out += '\n';
}

const char* type_name(prometheus::MetricType t) {
  switch (t) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    case prometheus::MetricType::Summary:
      return "summary";
    case prometheus::MetricType::Histogram:
      return "histogram";
    case prometheus::MetricType::Untyped:
      break;
  }
  return "untyped";
}

}  // namespace

void write_text(const std::vector<prometheus::MetricFamily>& families, std::string& out) {
  std::string labels;  // the current series' label prefix, reused for its every line
  std::string extra;   // `le="0.25"` / `quantile="0.5"`
  for (const auto& f : families) {
    if (!f.help.empty()) {
      out += "# HELP ";
      out += f.name;
      out += ' ';
      append_help(out, f.help);
      out += '\n';
    }
    out += "# TYPE ";
    out += f.name;
    out += ' ';
    out += type_name(f.type);
    out += '\n';
    for (const auto& m : f.metric) {
      label_prefix(labels, m);
      switch (f.type) {
        case prometheus::MetricType::Counter:
        case prometheus::MetricType::Gauge:
        case prometheus::MetricType::Untyped:
          append_head(out, f.name, "", labels);
          append_value(out, f.type == prometheus::MetricType::Counter ? m.counter.value
                            : f.type == prometheus::MetricType::Gauge ? m.gauge.value
                                                                      : m.untyped.value);
          append_tail(out, m);
          break;
        case prometheus::MetricType::Summary:
          append_head(out, f.name, "_count", labels);
          append_count(out, m.summary.sample_count);
          append_tail(out, m);
          append_head(out, f.name, "_sum", labels);
          append_value(out, m.summary.sample_sum);
          append_tail(out, m);
          for (const auto& q : m.summary.quantile) {
            extra = "quantile=\"";
            append_value(extra, q.quantile);
            extra += '"';
            append_head(out, f.name, "", labels, extra);
            append_value(out, q.value);
            append_tail(out, m);
          }
          break;
        case prometheus::MetricType::Histogram: {
          const auto& h = m.histogram;
          append_head(out, f.name, "_count", labels);
          append_count(out, h.sample_count);
          append_tail(out, m);
          append_head(out, f.name, "_sum", labels);
          append_value(out, h.sample_sum);
          append_tail(out, m);
          double last = -std::numeric_limits<double>::infinity();
          for (const auto& b : h.bucket) {
            extra = "le=\"";
            append_value(extra, b.upper_bound);
            extra += '"';
            last = b.upper_bound;
            append_head(out, f.name, "_bucket", labels, extra);
            append_count(out, b.cumulative_count);
            append_tail(out, m);
          }
          if (last != std::numeric_limits<double>::infinity()) {
            append_head(out, f.name, "_bucket", labels, "le=\"+Inf\"");
            append_count(out, h.sample_count);
            append_tail(out, m);
          }
          break;
        }
      }
    }
  }
}

std::string serialize_text(const std::vector<const MetricsRegistry*>& registries, std::size_t size_hint) {
  const auto merged = merge_families(registries);
  std::string out;
  out.reserve(size_hint);
  write_text(merged, out);
  return out;
}

ExpositionMetrics::ExpositionMetrics(MetricsRegistry& registry)
    : scrapes(registry.counter("meshloop_obs_scrapes_total",
                               "Metrics scrapes served, by response encoding (identity or gzip).", {"encoding"})),
      duration(registry.histogram(
          "meshloop_obs_scrape_duration_seconds",
          "Time to collect, serialise and compress one metrics response, in seconds (HTTP I/O excluded).",
          {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25})),
      response_bytes(registry.gauge("meshloop_obs_scrape_response_bytes",
                                    "Size of the latest metrics response body as sent, by encoding, in bytes.",
                                    {"encoding"})) {}

Exposition::Exposition(MetricsRegistry& own)
    : registries_{&own},
      metrics_(own),
      scrapes_identity_(&metrics_.scrapes.with({"identity"})),
      scrapes_gzip_(&metrics_.scrapes.with({"gzip"})),
      duration_(&metrics_.duration.get()),
      bytes_identity_(&metrics_.response_bytes.with({"identity"})),
      bytes_gzip_(&metrics_.response_bytes.with({"gzip"})) {}

void Exposition::expose(const MetricsRegistry& registry) { registries_.push_back(&registry); }

std::string Exposition::text() const { return serialize_text(registries_, size_hint_.load(std::memory_order_relaxed)); }

Rendered Exposition::render(std::string_view accept_encoding) const {
  const auto start = std::chrono::steady_clock::now();
  Rendered r;
  r.content_type = kTextContentType;
  r.body = serialize_text(registries_, size_hint_.load(std::memory_order_relaxed) + 4096);
  size_hint_.store(r.body.size(), std::memory_order_relaxed);
  if (accepts_gzip(accept_encoding)) {
    if (auto z = gzip_compress(r.body); z.ok()) {
      r.body = std::move(z).value();
      r.content_encoding = "gzip";
    }
  }
  const bool gz = r.content_encoding == "gzip";
  (gz ? scrapes_gzip_ : scrapes_identity_)->Increment();
  (gz ? bytes_gzip_ : bytes_identity_)->Set(static_cast<double>(r.body.size()));
  duration_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return r;
}

}  // namespace meshloop::obs
