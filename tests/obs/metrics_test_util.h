// Helpers shared by the obs tests: read a sample out of a registry, run a command and capture its output.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "obs/registry.h"

namespace meshloop::testing {

// The value of the series `name` whose labels include all of `labels` (node included if given); nullopt if none.
// Histograms answer with their sample count.
inline std::optional<double> sample(const obs::MetricsRegistry& registry, const std::string& name,
                                    const std::map<std::string, std::string>& labels = {}) {
  for (const auto& f : registry.collect()) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      std::size_t matched = 0;
      for (const auto& l : m.label) {
        auto it = labels.find(l.name);
        if (it != labels.end() && it->second == l.value) ++matched;
      }
      if (matched != labels.size()) continue;
      switch (f.type) {
        case prometheus::MetricType::Counter: return m.counter.value;
        case prometheus::MetricType::Gauge: return m.gauge.value;
        case prometheus::MetricType::Histogram: return static_cast<double>(m.histogram.sample_count);
        default: return m.untyped.value;
      }
    }
  }
  return std::nullopt;
}

struct CommandOutput {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` through /bin/sh, feeding `input` on stdin when given (through a temp file).
inline CommandOutput run_command(const std::string& command, const std::optional<std::string>& input = {}) {
  std::string full = command + " 2>&1";
  std::string input_path;
  if (input) {
    char tmpl[] = "/tmp/meshloop-obs-input-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd < 0) return {};
    input_path = tmpl;
    FILE* f = fdopen(fd, "w");
    std::fwrite(input->data(), 1, input->size(), f);
    std::fclose(f);
    full += " < " + input_path;
  }
  CommandOutput out;
  FILE* p = popen(full.c_str(), "r");
  if (p) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.output.append(buf, n);
    const int status = pclose(p);
    out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  if (!input_path.empty()) std::remove(input_path.c_str());
  return out;
}

inline std::string source_dir() {
  const char* env = std::getenv("MESHLOOP_SOURCE_DIR");
  return env ? env : MESHLOOP_TEST_SOURCE_DIR;
}

}  // namespace meshloop::testing
