#include "cli/trace_setup.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

namespace meshloop::cli {

void add_trace_options(LayeredOptions& options, const std::string& default_enabled) {
  options.add("trace.enabled", "--trace", "Tracing on or off (OTEL_SDK_DISABLED=true is off)", default_enabled);
  options.add("trace.endpoint", "--trace-endpoint",
              "OTLP/HTTP traces URL, or a base URL (http://host:4318/) [OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT]; "
              "without one spans go to --trace-file",
              "none");
  options.add("trace.protocol", "--trace-protocol", "http/protobuf or http/json [OTEL_EXPORTER_OTLP_PROTOCOL]",
              "http/protobuf");
  options.add("trace.sampler", "--trace-sampler",
              "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, "
              "parentbased_traceidratio [OTEL_TRACES_SAMPLER]",
              "parentbased_always_on");
  options.add("trace.sampler_arg", "--trace-sampler-arg", "Sampling ratio in [0, 1] [OTEL_TRACES_SAMPLER_ARG]", "1");
  options.add("trace.file", "--trace-file",
              "OTLP-JSON-lines file for spans when no endpoint is set, or 'off'", "a file in the temp directory");
}

Result<std::unique_ptr<trace::Tracing>> make_tracing(const Config& config, trace::TracingConfig base,
                                                     const trace::ResourceInfo& resource, trace::Callbacks callbacks,
                                                     trace::Plumbing plumbing) {
  std::vector<std::string> notices;
  auto c = trace::config_from_env([](const char* name) { return std::getenv(name); }, std::move(base), &notices);
  for (const auto& n : notices) spdlog::warn("{}", n);
  if (!c.ok()) return c.status();
  trace::TracingFlags flags;
  if (config.has("trace.enabled")) {
    const std::string v = config.get_string("trace.enabled", "on");
    if (v != "on" && v != "off" && v != "true" && v != "false") {
      return Status::InvalidArgument("--trace: '" + v + "' is not on or off");
    }
    flags.enabled = v == "on" || v == "true";
  }
  auto take = [&](const char* key, std::optional<std::string>& field) {
    if (config.has(key)) field = config.get_string(key, "");
  };
  take("trace.endpoint", flags.endpoint);
  take("trace.protocol", flags.protocol);
  take("trace.sampler", flags.sampler);
  take("trace.sampler_arg", flags.sampler_arg);
  take("trace.file", flags.file);
  if (Status s = trace::apply_flags(flags, *c); !s.ok()) return s;
  auto t = trace::Tracing::create(*c, resource, std::move(callbacks), std::move(plumbing));
  if (t.ok()) spdlog::info("{}", trace::describe((*t)->config()));
  return t;
}

}  // namespace meshloop::cli
