#include "trace/tracing.h"

#include <opentelemetry/exporters/otlp/otlp_http_exporter_factory.h>
#include <opentelemetry/exporters/otlp/otlp_http_exporter_options.h>
#include <opentelemetry/sdk/common/global_log_handler.h>
#include <opentelemetry/sdk/resource/resource.h>
#include <opentelemetry/sdk/trace/random_id_generator.h>
#include <opentelemetry/sdk/trace/span_data.h>
#include <opentelemetry/sdk/trace/samplers/always_off.h>
#include <opentelemetry/sdk/trace/samplers/always_on.h>
#include <opentelemetry/sdk/trace/samplers/parent.h>
#include <opentelemetry/sdk/trace/samplers/trace_id_ratio.h>
#include <opentelemetry/sdk/trace/tracer_provider.h>
#include <opentelemetry/trace/noop.h>
#include <opentelemetry/trace/provider.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "core/rng.h"

#include "trace/file_exporter.h"

namespace meshloop::trace {
namespace {

namespace sdk_trace = opentelemetry::sdk::trace;
namespace otlp = opentelemetry::exporter::otlp;
namespace nostd = opentelemetry::nostd;

std::unique_ptr<sdk_trace::Sampler> make_sampler(const TracingConfig& c) {
  auto base = [&](SamplerKind k) -> std::shared_ptr<sdk_trace::Sampler> {
    switch (k) {
      case SamplerKind::kAlwaysOff:
      case SamplerKind::kParentBasedAlwaysOff:
        return std::make_shared<sdk_trace::AlwaysOffSampler>();
      case SamplerKind::kTraceIdRatio:
      case SamplerKind::kParentBasedTraceIdRatio:
        return std::make_shared<sdk_trace::TraceIdRatioBasedSampler>(c.sampler_ratio);
      default:
        return std::make_shared<sdk_trace::AlwaysOnSampler>();
    }
  };
  switch (c.sampler) {
    case SamplerKind::kAlwaysOn:
      return std::make_unique<sdk_trace::AlwaysOnSampler>();
    case SamplerKind::kAlwaysOff:
      return std::make_unique<sdk_trace::AlwaysOffSampler>();
    case SamplerKind::kTraceIdRatio:
      return std::make_unique<sdk_trace::TraceIdRatioBasedSampler>(c.sampler_ratio);
    default:
      return std::make_unique<sdk_trace::ParentBasedSampler>(base(c.sampler));
  }
}

// The SDK's internal log: to spdlog (a failed export at most once a minute as a warning, the rest at debug), and a
// failed export, which the OTLP/HTTP exporter only logs, noted for the batch processor to count.
class SdkLogHandler final : public opentelemetry::sdk::common::internal_log::LogHandler {
 public:
  void Handle(opentelemetry::sdk::common::internal_log::LogLevel level, const char* file, int line, const char* msg,
              const opentelemetry::sdk::common::AttributeMap&) noexcept override {
    using opentelemetry::sdk::common::internal_log::LogLevel;
    const std::string text = msg ? msg : "";
    const std::string where = file ? file : "";
    const bool export_error = level == LogLevel::Error && where.find("otlp_http_exporter") != std::string::npos &&
                              text.find("Export") != std::string::npos;
    if (export_error) note_export_failure_on_this_thread();
    try {
      if (level == LogLevel::Error) {
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard<std::mutex> lock(mu_);
        if (now - last_warning_ > std::chrono::minutes(1)) {
          last_warning_ = now;
          spdlog::warn("tracing: {} (spans are dropped and counted in meshloop_trace_spans_dropped_total; further "
                       "export errors are logged at debug level for a minute)",
                       text);
          return;
        }
      }
      spdlog::debug("opentelemetry {}:{}: {}", where, line, text);
    } catch (...) {
    }
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_warning_{};
};

// A sink for "sampled but exported nowhere".
class DiscardExporter final : public sdk_trace::SpanExporter {
 public:
  std::unique_ptr<sdk_trace::Recordable> MakeRecordable() noexcept override {
    return std::make_unique<sdk_trace::SpanData>();
  }
  opentelemetry::sdk::common::ExportResult Export(
      const nostd::span<std::unique_ptr<sdk_trace::Recordable>>&) noexcept override {
    return opentelemetry::sdk::common::ExportResult::kSuccess;
  }
  bool ForceFlush(std::chrono::microseconds) noexcept override { return true; }
  bool Shutdown(std::chrono::microseconds) noexcept override { return true; }
};

class SeededIdGenerator final : public sdk_trace::IdGenerator {
 public:
  explicit SeededIdGenerator(std::uint64_t seed) : IdGenerator(false), rng_(seed) {}
  opentelemetry::trace::SpanId GenerateSpanId() noexcept override {
    std::uint8_t b[8];
    fill(b, sizeof b);
    return opentelemetry::trace::SpanId(b);
  }
  opentelemetry::trace::TraceId GenerateTraceId() noexcept override {
    std::uint8_t b[16];
    fill(b, sizeof b);
    return opentelemetry::trace::TraceId(b);
  }

 private:
  void fill(std::uint8_t* out, std::size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    do {
      for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t v = rng_.next_u64();
        for (std::size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
      }
    } while (std::all_of(out, out + n, [](std::uint8_t x) { return x == 0; }));
  }
  std::mutex mu_;
  Rng rng_;
};

}  // namespace

std::unique_ptr<sdk_trace::IdGenerator> seeded_id_generator(std::uint64_t seed) {
  return std::make_unique<SeededIdGenerator>(seed);
}

std::string local_host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

std::vector<std::pair<std::string, std::string>> resource_attributes(const TracingConfig& c, const ResourceInfo& r) {
  std::vector<std::pair<std::string, std::string>> out;
  auto set = [&](const std::string& k, const std::string& v) {
    for (auto& [key, value] : out) {
      if (key == k) {
        value = v;
        return;
      }
    }
    out.emplace_back(k, v);
  };
  for (const auto& [k, v] : c.resource_attributes) set(k, v);
  set("service.name", c.service_name);
  if (!r.instance_id.empty()) set("service.instance.id", r.instance_id);
  if (!r.version.empty()) set("service.version", r.version);
  if (!r.host_name.empty()) set("host.name", r.host_name);
  return out;
}

Result<std::unique_ptr<Tracing>> Tracing::create(const TracingConfig& config, const ResourceInfo& resource,
                                                 Callbacks callbacks, Plumbing plumbing) {
  std::unique_ptr<Tracing> t(new Tracing());
  t->config_ = config;
  if (config.disabled) {
    t->provider_ = nostd::shared_ptr<opentelemetry::trace::TracerProvider>(new opentelemetry::trace::NoopTracerProvider());
    return t;
  }
  static const bool log_handler_installed = [] {
    opentelemetry::sdk::common::internal_log::GlobalLogHandler::SetLogHandler(
        nostd::shared_ptr<opentelemetry::sdk::common::internal_log::LogHandler>(new SdkLogHandler()));
    return true;
  }();
  (void)log_handler_installed;
  std::unique_ptr<sdk_trace::SpanExporter> exporter = std::move(plumbing.exporter);
  if (!exporter && !config.endpoint.empty()) {
    otlp::OtlpHttpExporterOptions o;
    o.url = config.endpoint;
    o.content_type = config.protocol == Protocol::kHttpJson ? otlp::HttpRequestContentType::kJson
                                                              : otlp::HttpRequestContentType::kBinary;
    o.json_bytes_mapping = otlp::JsonBytesMappingKind::kHexId;
    o.use_json_name = true;  // lowerCamelCase keys, as the OTLP/JSON specification asks
    o.timeout = config.timeout;
    o.http_headers.clear();
    for (const auto& [k, v] : config.headers) o.http_headers.emplace(k, v);
    o.retry_policy_max_attempts = 1;  // a failed batch is dropped and counted, not retried in front of the next
    exporter = otlp::OtlpHttpExporterFactory::Create(o);
  }
  if (!exporter && !config.file.empty()) {
    auto file = JsonLinesExporter::open(config.file);
    if (!file.ok()) return file.status();
    exporter = std::move(file).value();
  }
  if (!exporter) exporter = std::make_unique<DiscardExporter>();

  BatchOptions batch;
  batch.max_queue = config.max_queue;
  batch.max_batch = config.max_batch;
  batch.schedule_delay = config.schedule_delay;
  batch.block_when_full = plumbing.block_when_full;
  batch.on_dropped = std::move(callbacks.on_dropped);
  batch.on_exported = std::move(callbacks.on_exported);
  auto processor = std::make_unique<BoundedBatchProcessor>(std::move(exporter), std::move(batch));
  t->processor_ = processor.get();

  opentelemetry::sdk::resource::ResourceAttributes attrs;
  for (const auto& [k, v] : resource_attributes(config, resource)) attrs.SetAttribute(k, v);
  auto res = opentelemetry::sdk::resource::Resource::Create(attrs);
  std::unique_ptr<sdk_trace::IdGenerator> ids = std::move(plumbing.ids);
  if (!ids) ids = std::unique_ptr<sdk_trace::IdGenerator>(new sdk_trace::RandomIdGenerator());
  t->provider_ = nostd::shared_ptr<opentelemetry::trace::TracerProvider>(
      new sdk_trace::TracerProvider(std::move(processor), res, make_sampler(config), std::move(ids)));
  return t;
}

Tracing::~Tracing() {
  if (installed_) {
    opentelemetry::trace::Provider::SetTracerProvider(
        nostd::shared_ptr<opentelemetry::trace::TracerProvider>(new opentelemetry::trace::NoopTracerProvider()));
  }
  if (processor_ != nullptr) {
    static_cast<sdk_trace::TracerProvider*>(provider_.get())->Shutdown();
  }
}

void Tracing::install_global() {
  opentelemetry::trace::Provider::SetTracerProvider(provider_);
  installed_ = true;
}

nostd::shared_ptr<opentelemetry::trace::Tracer> Tracing::tracer(const std::string& scope) {
  return provider_->GetTracer(scope);
}

bool Tracing::flush(std::chrono::milliseconds timeout) {
  if (processor_ == nullptr) return true;
  return processor_->ForceFlush(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
}

BatchCounters Tracing::counters() const { return processor_ ? processor_->counters() : BatchCounters{}; }

}  // namespace meshloop::trace
