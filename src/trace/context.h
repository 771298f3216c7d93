// W3C trace context (traceparent, tracestate) where meshloop carries it: in packet TLVs and in HTTP headers.
//
// On the mesh the bytes are the traceparent header value, optionally followed by '\n' and the tracestate value
// (neither may contain a newline), at most mesh::kMaxTraceContextSize bytes. Parsing is the W3C propagator's
// (opentelemetry::trace::propagation::HttpTraceContext): a malformed or absent context yields an invalid SpanContext,
// never an error, since the bytes come from the network.
// Thread-safety: pure functions.
#pragma once

#include <opentelemetry/trace/span_context.h>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace meshloop::trace {

namespace otel_trace = opentelemetry::trace;

// The mesh encoding of `context`; empty when it is invalid.
std::vector<std::uint8_t> encode_context(const otel_trace::SpanContext& context);
// The context `bytes` carry (remote), or an invalid one.
otel_trace::SpanContext decode_context(std::span<const std::uint8_t> bytes);

// HTTP: the remote context of a request's headers (names lower-case, as api::Request holds them), or an invalid one.
otel_trace::SpanContext extract_http(const std::map<std::string, std::string>& headers);
// Adds traceparent (and tracestate when not empty) for `context` to `headers`; nothing when it is invalid.
void inject_http(const otel_trace::SpanContext& context, std::map<std::string, std::string>& headers);

// "00-<trace id>-<span id>-<flags>", or "" when invalid.
std::string traceparent(const otel_trace::SpanContext& context);

}  // namespace meshloop::trace
