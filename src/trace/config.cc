#include "trace/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace meshloop::trace {
namespace {

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Result<std::string> percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return Status::InvalidArgument("a '%' without two hex digits");
    int v = 0;
    auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc() || p != s.data() + i + 3) return Status::InvalidArgument("a '%' without two hex digits");
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

Result<std::chrono::milliseconds> parse_millis(const std::string& text) {
  long long v = 0;
  const std::string t = trim(text);
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size() || v < 0) {
    return Status::InvalidArgument("'" + text + "' is not a whole number of milliseconds");
  }
  return std::chrono::milliseconds(v);
}

Result<std::size_t> parse_count(const std::string& text) {
  unsigned long long v = 0;
  const std::string t = trim(text);
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size() || v == 0) {
    return Status::InvalidArgument("'" + text + "' is not a positive whole number");
  }
  return static_cast<std::size_t>(v);
}

bool truthy(const std::string& v) { return lower(trim(v)) == "true"; }

// A base URL gets the traces path (the specification's rule for OTEL_EXPORTER_OTLP_ENDPOINT).
std::string traces_url_from_base(std::string base) {
  if (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/v1/traces";
}

Status check_url(const std::string& url, const std::string& what) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument(what + ": '" + url + "' is not an http:// or https:// URL");
  }
  return Status::Ok();
}

}  // namespace

const char* protocol_name(Protocol p) { return p == Protocol::kHttpJson ? "http/json" : "http/protobuf"; }

const char* sampler_name(SamplerKind s) {
  switch (s) {
    case SamplerKind::kAlwaysOn:
      return "always_on";
    case SamplerKind::kAlwaysOff:
      return "always_off";
    case SamplerKind::kTraceIdRatio:
      return "traceidratio";
    case SamplerKind::kParentBasedAlwaysOn:
      return "parentbased_always_on";
    case SamplerKind::kParentBasedAlwaysOff:
      return "parentbased_always_off";
    case SamplerKind::kParentBasedTraceIdRatio:
      return "parentbased_traceidratio";
  }
  return "unknown";
}

Result<Protocol> parse_protocol(const std::string& text) {
  const std::string t = lower(trim(text));
  if (t == "http/protobuf") return Protocol::kHttpProtobuf;
  if (t == "http/json") return Protocol::kHttpJson;
  if (t == "grpc") return Status::InvalidArgument("grpc is not supported: use http/protobuf or http/json");
  return Status::InvalidArgument("'" + text + "' is not a protocol (http/protobuf, http/json)");
}

Result<SamplerKind> parse_sampler(const std::string& text) {
  const std::string t = lower(trim(text));
  for (SamplerKind k : {SamplerKind::kAlwaysOn, SamplerKind::kAlwaysOff, SamplerKind::kTraceIdRatio,
                        SamplerKind::kParentBasedAlwaysOn, SamplerKind::kParentBasedAlwaysOff,
                        SamplerKind::kParentBasedTraceIdRatio}) {
    if (t == sampler_name(k)) return k;
  }
  return Status::InvalidArgument("'" + text +
                                 "' is not a sampler (always_on, always_off, traceidratio, parentbased_always_on, "
                                 "parentbased_always_off, parentbased_traceidratio)");
}

Result<double> parse_ratio(const std::string& text) {
  const std::string t = trim(text);
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size() || !std::isfinite(v) || v < 0 || v > 1) {
    return Status::InvalidArgument("'" + text + "' is not a ratio in [0, 1]");
  }
  return v;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_key_values(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = trim(text.substr(start, end - start));
    start = end + 1;
    if (item.empty()) {
      if (end == text.size()) break;
      continue;
    }
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return Status::InvalidArgument("'" + item + "' is not key=value");
    auto key = percent_decode(trim(item.substr(0, eq)));
    auto value = percent_decode(trim(item.substr(eq + 1)));
    if (!key.ok()) return Status::InvalidArgument("'" + item + "': " + key.status().message());
    if (!value.ok()) return Status::InvalidArgument("'" + item + "': " + value.status().message());
    out.emplace_back(*key, *value);
    if (end == text.size()) break;
  }
  return out;
}

Result<TracingConfig> config_from_env(const GetEnv& getenv, TracingConfig c, std::vector<std::string>* notices) {
  auto env = [&](const char* name) -> std::optional<std::string> {
    const char* v = getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
  auto note = [&](std::string line) {
    if (notices) notices->push_back(std::move(line));
  };
  auto named = [](const char* var, const Status& s) { return Status::InvalidArgument(std::string(var) + ": " + s.message()); };

  // The original system's switches first, so that the standard variables win where both are set.
  if (auto v = env("OTEL_ENABLED")) {
    note("OTEL_ENABLED is the original system's switch: use OTEL_SDK_DISABLED=true instead");
    if (lower(trim(*v)) == "false") c.disabled = true;
  }
  if (auto type = env("JAEGER_SAMPLER_TYPE")) {
    const std::string t = lower(trim(*type));
    const auto param = env("JAEGER_SAMPLER_PARAM");
    if (t == "const") {
      note("JAEGER_SAMPLER_TYPE=const is the original system's sampler: use OTEL_TRACES_SAMPLER=always_on|always_off");
      const bool on = !param || trim(*param) != "0";
      c.sampler = on ? SamplerKind::kParentBasedAlwaysOn : SamplerKind::kParentBasedAlwaysOff;
    } else if (t == "probabilistic") {
      note("JAEGER_SAMPLER_TYPE=probabilistic is the original system's sampler: use "
           "OTEL_TRACES_SAMPLER=parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG");
      c.sampler = SamplerKind::kParentBasedTraceIdRatio;
      if (param) {
        auto r = parse_ratio(*param);
        if (!r.ok()) return named("JAEGER_SAMPLER_PARAM", r.status());
        c.sampler_ratio = *r;
      }
    } else {
      return Status::InvalidArgument("JAEGER_SAMPLER_TYPE: '" + *type +
                                     "' is not supported (const, probabilistic); use OTEL_TRACES_SAMPLER");
    }
  }
  if (env("JAEGER_AGENT_HOST") || env("JAEGER_AGENT_PORT")) {
    note("JAEGER_AGENT_HOST/JAEGER_AGENT_PORT name the retired Jaeger Thrift agent, which meshloop does not speak: "
         "set OTEL_EXPORTER_OTLP_ENDPOINT to a Jaeger or Tempo OTLP/HTTP receiver (e.g. http://HOST:4318) instead");
  }

  if (auto v = env("OTEL_SDK_DISABLED")) c.disabled = truthy(*v);
  if (auto v = env("OTEL_SERVICE_NAME")) c.service_name = trim(*v);
  if (auto v = env("OTEL_RESOURCE_ATTRIBUTES")) {
    auto kv = parse_key_values(*v);
    if (!kv.ok()) return named("OTEL_RESOURCE_ATTRIBUTES", kv.status());
    c.resource_attributes = *kv;
    // service.name from the attributes applies unless OTEL_SERVICE_NAME is set (the specification's precedence).
    if (!env("OTEL_SERVICE_NAME")) {
      for (const auto& [k, val] : *kv) {
        if (k == "service.name") c.service_name = val;
      }
    }
  }
  if (auto v = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
    c.endpoint = trim(*v);
    if (Status s = check_url(c.endpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); !s.ok()) return s;
  } else if (auto base = env("OTEL_EXPORTER_OTLP_ENDPOINT")) {
    if (Status s = check_url(trim(*base), "OTEL_EXPORTER_OTLP_ENDPOINT"); !s.ok()) return s;
    c.endpoint = traces_url_from_base(trim(*base));
  }
  for (const char* var : {"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"}) {
    if (auto v = env(var)) {
      auto p = parse_protocol(*v);
      if (!p.ok()) return named(var, p.status());
      c.protocol = *p;
    }
  }
  for (const char* var : {"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"}) {
    if (auto v = env(var)) {
      auto kv = parse_key_values(*v);
      if (!kv.ok()) return named(var, kv.status());
      for (const auto& [k, val] : *kv) c.headers[k] = val;
    }
  }
  for (const char* var : {"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"}) {
    if (auto v = env(var)) {
      auto ms = parse_millis(*v);
      if (!ms.ok()) return named(var, ms.status());
      c.timeout = *ms;
    }
  }
  if (auto v = env("OTEL_TRACES_SAMPLER")) {
    auto s = parse_sampler(*v);
    if (!s.ok()) return named("OTEL_TRACES_SAMPLER", s.status());
    c.sampler = *s;
  }
  if (auto v = env("OTEL_TRACES_SAMPLER_ARG")) {
    auto r = parse_ratio(*v);
    if (!r.ok()) return named("OTEL_TRACES_SAMPLER_ARG", r.status());
    c.sampler_ratio = *r;
  }
  struct CountVar {
    const char* name;
    std::size_t* field;
  };
  for (CountVar cv : {CountVar{"OTEL_BSP_MAX_QUEUE_SIZE", &c.max_queue},
                      CountVar{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &c.max_batch}}) {
    if (auto v = env(cv.name)) {
      auto n = parse_count(*v);
      if (!n.ok()) return named(cv.name, n.status());
      *cv.field = *n;
    }
  }
  if (auto v = env("OTEL_BSP_SCHEDULE_DELAY")) {
    auto ms = parse_millis(*v);
    if (!ms.ok()) return named("OTEL_BSP_SCHEDULE_DELAY", ms.status());
    c.schedule_delay = *ms;
  }
  c.max_batch = std::min(c.max_batch, c.max_queue);
  return c;
}

Status apply_flags(const TracingFlags& f, TracingConfig& c) {
  if (f.enabled) c.disabled = !*f.enabled;
  if (f.service_name) c.service_name = *f.service_name;
  if (f.endpoint) {
    const std::string url = trim(*f.endpoint);
    if (url.empty() || url == "off" || url == "none") {
      c.endpoint.clear();
    } else {
      if (Status s = check_url(url, "--trace-endpoint"); !s.ok()) return s;
      // A URL that names no path (or ends in '/') is a base URL, as OTEL_EXPORTER_OTLP_ENDPOINT is.
      const auto scheme_end = url.find("://") + 3;
      const auto path = url.find('/', scheme_end);
      c.endpoint = path == std::string::npos || path == url.size() - 1 ? traces_url_from_base(url) : url;
    }
  }
  if (f.protocol) {
    auto p = parse_protocol(*f.protocol);
    if (!p.ok()) return Status::InvalidArgument("--trace-protocol: " + p.status().message());
    c.protocol = *p;
  }
  if (f.sampler) {
    auto s = parse_sampler(*f.sampler);
    if (!s.ok()) return Status::InvalidArgument("--trace-sampler: " + s.status().message());
    c.sampler = *s;
  }
  if (f.sampler_arg) {
    auto r = parse_ratio(*f.sampler_arg);
    if (!r.ok()) return Status::InvalidArgument("--trace-sampler-arg: " + r.status().message());
    c.sampler_ratio = *r;
  }
  if (f.file) c.file = (*f.file == "off" || *f.file == "none") ? std::string() : *f.file;
  return Status::Ok();
}

std::string describe(const TracingConfig& c) {
  if (c.disabled) return "tracing disabled";
  std::string sampler = sampler_name(c.sampler);
  if (c.sampler == SamplerKind::kTraceIdRatio || c.sampler == SamplerKind::kParentBasedTraceIdRatio) {
    sampler += fmt::format(" {}", c.sampler_ratio);
  }
  if (!c.endpoint.empty()) {
    return fmt::format("tracing: OTLP {} to {} (sampler {})", protocol_name(c.protocol), c.endpoint, sampler);
  }
  if (!c.file.empty()) return fmt::format("tracing: OTLP JSON lines to {} (sampler {})", c.file, sampler);
  return fmt::format("tracing: spans sampled ({}) but exported nowhere", sampler);
}

}  // namespace meshloop::trace
