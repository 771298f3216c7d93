#include "trace/context.h"

#include <opentelemetry/context/context.h>
#include <opentelemetry/trace/context.h>
#include <opentelemetry/trace/default_span.h>
#include <opentelemetry/trace/propagation/http_trace_context.h>

#include <algorithm>

#include "mesh/wire.h"

namespace meshloop::trace {
namespace {

namespace nostd = opentelemetry::nostd;
using opentelemetry::context::propagation::TextMapCarrier;
using opentelemetry::trace::propagation::HttpTraceContext;

// A carrier over two strings (the mesh form) or a header map.
class MapCarrier final : public TextMapCarrier {
 public:
  explicit MapCarrier(std::map<std::string, std::string>& headers) : headers_(headers) {}
  nostd::string_view Get(nostd::string_view key) const noexcept override {
    auto it = headers_.find(std::string(key));
    return it == headers_.end() ? nostd::string_view() : nostd::string_view(it->second);
  }
  void Set(nostd::string_view key, nostd::string_view value) noexcept override {
    headers_[std::string(key)] = std::string(value);
  }

 private:
  std::map<std::string, std::string>& headers_;
};

otel_trace::SpanContext extract(std::map<std::string, std::string>& headers) {
  MapCarrier carrier(headers);
  HttpTraceContext propagator;
  opentelemetry::context::Context empty;
  auto ctx = propagator.Extract(carrier, empty);
  return otel_trace::GetSpan(ctx)->GetContext();
}

void inject(const otel_trace::SpanContext& context, std::map<std::string, std::string>& headers) {
  if (!context.IsValid()) return;
  MapCarrier carrier(headers);
  HttpTraceContext propagator;
  nostd::shared_ptr<otel_trace::Span> span(new otel_trace::DefaultSpan(context));
  opentelemetry::context::Context empty;
  auto ctx = otel_trace::SetSpan(empty, span);
  propagator.Inject(carrier, ctx);
}

}  // namespace

std::vector<std::uint8_t> encode_context(const otel_trace::SpanContext& context) {
  std::map<std::string, std::string> headers;
  inject(context, headers);
  auto parent = headers.find("traceparent");
  if (parent == headers.end()) return {};
  std::string text = parent->second;
  auto state = headers.find("tracestate");
  if (state != headers.end() && !state->second.empty() && state->second.find('\n') == std::string::npos &&
      text.size() + 1 + state->second.size() <= mesh::kMaxTraceContextSize) {
    text += '\n';
    text += state->second;
  }
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

otel_trace::SpanContext decode_context(std::span<const std::uint8_t> bytes) {
  if (bytes.empty() || bytes.size() > mesh::kMaxTraceContextSize) return otel_trace::SpanContext::GetInvalid();
  const std::string text(bytes.begin(), bytes.end());
  std::map<std::string, std::string> headers;
  const auto nl = text.find('\n');
  headers["traceparent"] = text.substr(0, nl);
  if (nl != std::string::npos) headers["tracestate"] = text.substr(nl + 1);
  return extract(headers);
}

otel_trace::SpanContext extract_http(const std::map<std::string, std::string>& headers) {
  std::map<std::string, std::string> copy;
  for (const char* name : {"traceparent", "tracestate"}) {
    auto it = headers.find(name);
    if (it != headers.end()) copy[name] = it->second;
  }
  if (!copy.count("traceparent")) return otel_trace::SpanContext::GetInvalid();
  return extract(copy);
}

void inject_http(const otel_trace::SpanContext& context, std::map<std::string, std::string>& headers) {
  inject(context, headers);
}

std::string traceparent(const otel_trace::SpanContext& context) {
  std::map<std::string, std::string> headers;
  inject(context, headers);
  auto it = headers.find("traceparent");
  return it == headers.end() ? std::string() : it->second;
}

}  // namespace meshloop::trace
