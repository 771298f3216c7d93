// The tracing options every long-running command shares (node, sim) and the one call that turns the merged
// configuration plus the OTEL_* environment into an installed SDK (trace/tracing.h). Flags (and MESHLOOP_TRACE_*,
// and YAML trace.*) override the OTEL_* variables.
#pragma once

#include <memory>
#include <string>

#include "cli/options.h"
#include "core/config.h"
#include "trace/tracing.h"

namespace meshloop::cli {

// Declares trace.enabled (--trace), trace.endpoint, trace.protocol, trace.sampler, trace.sampler_arg, trace.file.
// `default_enabled` is what --help shows.
void add_trace_options(LayeredOptions& options, const std::string& default_enabled);

// Reads OTEL_* (notices logged), applies the configuration's trace.* keys, and builds the SDK. `base` carries the
// command's defaults (file path, sampler, disabled). Does not install it globally (the caller decides).
Result<std::unique_ptr<trace::Tracing>> make_tracing(const Config& config, trace::TracingConfig base,
                                                     const trace::ResourceInfo& resource, trace::Callbacks callbacks,
                                                     trace::Plumbing plumbing = {});

}  // namespace meshloop::cli
