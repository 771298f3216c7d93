#include "obs/exposition.h"

#include <prometheus/text_serializer.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <sstream>

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
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
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

std::string serialize_text(const std::vector<const MetricsRegistry*>& registries) {
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
  for (auto& f : merged) {
    std::sort(f.metric.begin(), f.metric.end(), [](const auto& a, const auto& b) { return a.label < b.label; });
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, merged);
  return std::move(out).str();
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

std::string Exposition::text() const { return serialize_text(registries_); }

Rendered Exposition::render(std::string_view accept_encoding) const {
  const auto start = std::chrono::steady_clock::now();
  Rendered r;
  r.content_type = kTextContentType;
  r.body = serialize_text(registries_);
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
