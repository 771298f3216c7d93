// Process and build metrics, under the standard names Prometheus client libraries export, so that existing
// dashboards and alerts recognise them:
//   process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
//   process_max_fds, process_start_time_seconds  (read from /proc/self at every scrape; Linux only: a value that
//   cannot be read is left out of that scrape rather than reported as 0)
//   meshloop_build_info{version,revision} = 1   (src/core/version.h)
// Each carries the registry's `node` label like every other series.
//
// Thread-safety: the collector reads /proc on the scraping thread; nothing is shared.
#pragma once

#include <optional>

#include "obs/registry.h"

namespace meshloop::obs {

// Adds the process collector to `registry`. Call once per process (on the registry of the process's own node; the
// simulator calls it on the registry it keeps for the simulator process itself).
void register_process_metrics(MetricsRegistry& registry);

// Declares meshloop_build_info and sets its one series to 1.
void register_build_info(MetricsRegistry& registry);

// What the collector reads, exposed for tests.
struct ProcessSample {
  std::optional<double> cpu_seconds, resident_bytes, virtual_bytes, open_fds, max_fds, start_time_seconds;
};
ProcessSample read_process_sample();

}  // namespace meshloop::obs
