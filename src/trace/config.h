// trace::TracingConfig: what the tracing SDK is set up with, from the OpenTelemetry environment variables and then
// our flags (flags win).
//
// Standard variables: OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_ENDPOINT
// (base URL: /v1/traces is appended), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is), OTEL_EXPORTER_OTLP[_TRACES]_
// HEADERS / _TIMEOUT (ms) / _PROTOCOL (http/protobuf, http/json), OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG
// (the C++ SDK reads neither, so we do), OTEL_BSP_MAX_QUEUE_SIZE / _MAX_EXPORT_BATCH_SIZE / _SCHEDULE_DELAY.
// The original system's variables are honoured with a one-line notice naming the standard one: JAEGER_SAMPLER_TYPE
// (const, probabilistic) with JAEGER_SAMPLER_PARAM, OTEL_ENABLED=false; JAEGER_AGENT_HOST/PORT (the retired Thrift
// agent) are not used, with a notice saying to set an OTLP endpoint instead.
// Thread-safety: plain values and pure functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace meshloop::trace {

enum class Protocol { kHttpProtobuf, kHttpJson };
const char* protocol_name(Protocol p);

enum class SamplerKind {
  kAlwaysOn,
  kAlwaysOff,
  kTraceIdRatio,
  kParentBasedAlwaysOn,
  kParentBasedAlwaysOff,
  kParentBasedTraceIdRatio,
};
const char* sampler_name(SamplerKind s);  // the OTEL_TRACES_SAMPLER spelling

struct TracingConfig {
  bool disabled = false;                 // no SDK: every tracer is the API's no-op
  std::string service_name = "meshloop";
  std::vector<std::pair<std::string, std::string>> resource_attributes;  // OTEL_RESOURCE_ATTRIBUTES, in order
  std::string endpoint;                  // the full traces URL; empty: the local file (or nothing)
  Protocol protocol = Protocol::kHttpProtobuf;
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds timeout{10000};
  SamplerKind sampler = SamplerKind::kParentBasedAlwaysOn;
  double sampler_ratio = 1.0;            // for the ratio samplers, in [0, 1]
  // Without an endpoint: spans go to this OTLP-JSON-lines file ("" = nowhere: the SDK still samples and ids flow).
  std::string file;
  std::size_t max_queue = 2048;          // spans waiting for export; more are dropped and counted
  std::size_t max_batch = 512;
  std::chrono::milliseconds schedule_delay{1000};
};

// Flags (meshloop node / sim): each one set overrides what the environment said.
struct TracingFlags {
  std::optional<bool> enabled;                // --trace on|off
  std::optional<std::string> endpoint;        // --trace-endpoint URL (a full traces URL, or a base URL ending in /)
  std::optional<std::string> protocol;        // --trace-protocol
  std::optional<std::string> sampler;         // --trace-sampler
  std::optional<std::string> sampler_arg;     // --trace-sampler-arg
  std::optional<std::string> file;            // --trace-file PATH|off
  std::optional<std::string> service_name;    // --service-name
};

using GetEnv = std::function<const char*(const char*)>;

// Reads the environment into a config whose defaults come from `base` (file default included). Notices (one line
// each, for the log) go to `notices`. InvalidArgument names the variable at fault.
Result<TracingConfig> config_from_env(const GetEnv& getenv, TracingConfig base, std::vector<std::string>* notices);
// Applies `flags` on top of `config`. InvalidArgument names the flag at fault.
Status apply_flags(const TracingFlags& flags, TracingConfig& config);

// Parsers shared by the two (exposed for tests).
Result<Protocol> parse_protocol(const std::string& text);
Result<SamplerKind> parse_sampler(const std::string& text);
Result<double> parse_ratio(const std::string& text);
// "k1=v1,k2=v2" with percent-decoding (W3C baggage form, as OTEL_RESOURCE_ATTRIBUTES and _HEADERS use it).
Result<std::vector<std::pair<std::string, std::string>>> parse_key_values(const std::string& text);

// One line for the log: where spans go and how they are sampled.
std::string describe(const TracingConfig& config);

}  // namespace meshloop::trace
