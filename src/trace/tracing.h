// trace::Tracing: the one place that builds the OpenTelemetry SDK (resource, sampler, processor, exporter) and, for
// a process, installs it as the global tracer provider. Components never see this: they ask the API for a tracer,
// which is a no-op until main installs a provider (STYLE.md: instrumentation that costs nothing when off).
//
// Export: with an endpoint, the OTLP/HTTP exporter (http/protobuf or http/json, one attempt per batch) behind the
// bounded batch processor; without one, the OTLP-JSON-lines file when a path is set, else spans are sampled and
// dropped uncounted (ids still flow, so downstream nodes' traces connect). Dropped spans are reported through
// Callbacks::on_dropped (meshloop_trace_spans_dropped_total).
// Thread-safety: create() and install_global() from one thread at start-up; tracer() from any thread; the
// destructor flushes and, when installed, puts the no-op provider back.
#pragma once

#include <opentelemetry/nostd/shared_ptr.h>
#include <opentelemetry/sdk/trace/exporter.h>
#include <opentelemetry/sdk/trace/id_generator.h>
#include <opentelemetry/trace/tracer.h>
#include <opentelemetry/trace/tracer_provider.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "trace/batch_processor.h"
#include "trace/config.h"

namespace meshloop::trace {

struct ResourceInfo {
  std::string instance_id;   // service.instance.id: the node id ("" for none: a simulator names nodes per span)
  std::string host_name;     // host.name ("" for none)
  std::string version;       // service.version
};

struct Callbacks {
  std::function<void(std::uint64_t)> on_dropped;
  std::function<void(std::uint64_t)> on_exported;
};

// Extra knobs for callers other than a node process (tests, the simulator).
struct Plumbing {
  std::unique_ptr<opentelemetry::sdk::trace::SpanExporter> exporter;  // replaces the configured one when set
  std::unique_ptr<opentelemetry::sdk::trace::IdGenerator> ids;        // replaces random ids when set
  bool block_when_full = false;                                       // see BatchOptions
};

class Tracing {
 public:
  // Builds the SDK. A disabled config yields a Tracing whose tracer() is the no-op one. IoError when the trace file
  // cannot be opened.
  static Result<std::unique_ptr<Tracing>> create(const TracingConfig& config, const ResourceInfo& resource,
                                                 Callbacks callbacks = {}, Plumbing plumbing = {});
  ~Tracing();
  Tracing(const Tracing&) = delete;
  Tracing& operator=(const Tracing&) = delete;

  // Makes this the process's global tracer provider (opentelemetry::trace::Provider).
  void install_global();
  opentelemetry::nostd::shared_ptr<opentelemetry::trace::Tracer> tracer(const std::string& scope);
  bool enabled() const { return processor_ != nullptr; }
  const TracingConfig& config() const { return config_; }
  // Exports what has ended so far; false on timeout.
  bool flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // Queue and export counts so far (zero when disabled).
  BatchCounters counters() const;

 private:
  Tracing() = default;
  TracingConfig config_;
  BoundedBatchProcessor* processor_ = nullptr;  // owned by provider_
  opentelemetry::nostd::shared_ptr<opentelemetry::trace::TracerProvider> provider_;
  bool installed_ = false;
};

// The resource attributes a config and a ResourceInfo give (service.name, service.instance.id, service.version,
// host.name, then OTEL_RESOURCE_ATTRIBUTES' own), for tests and docs.
std::vector<std::pair<std::string, std::string>> resource_attributes(const TracingConfig& config,
                                                                     const ResourceInfo& resource);

// Trace and span ids from a seeded generator (core::Rng), so a simulator run's traces are the same for the same
// seed. Never all-zero (invalid). Thread-safety: a mutex; the simulator calls it from one thread anyway.
std::unique_ptr<opentelemetry::sdk::trace::IdGenerator> seeded_id_generator(std::uint64_t seed);

// This machine's host name ("" when unknown).
std::string local_host_name();

}  // namespace meshloop::trace
