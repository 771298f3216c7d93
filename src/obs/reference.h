// The metrics reference: every metric meshloop can expose, as printed by `meshloop metrics --list` and committed
// as docs/metrics.md (a test compares the two).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "obs/registry.h"

namespace meshloop::obs {

// Declares, in `registry`, every metric the obs module itself defines or owns: the exposition's own metrics,
// process metrics, build info, the mesh metrics and the HTTP server's. Components added later (sim, mapek, ...)
// declare theirs next to this call in src/cli/metrics_command.cc, which is the one list docs/metrics.md is
// generated from.
void declare_obs_metrics(MetricsRegistry& registry);

// A plain-text table (name, type, unit, labels, help), sorted by name.
std::string reference_table(std::vector<MetricInfo> metrics);
// docs/metrics.md: a heading, how to regenerate it, the conventions, and one table row per metric, sorted by name.
std::string reference_markdown(std::vector<MetricInfo> metrics);

}  // namespace meshloop::obs
