// `meshloop metrics --list`: the reference of every metric meshloop can expose, built from the components' own
// registration code (never a hand-kept list), as a table or as the markdown committed in docs/metrics.md.
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/sim_serve.h"
#include "obs/reference.h"
#include "obs/registry.h"

namespace meshloop::cli {

namespace {

// The one list of metric-exposing components. A component that adds metrics declares them here with the same
// code that registers them at run time (its XxxMetrics constructor on a scratch registry).
std::vector<obs::MetricInfo> all_metrics() {
  obs::MetricsRegistry registry("example");
  obs::declare_obs_metrics(registry);  // exposition, process, build info, mesh, HTTP server
  SimServe::declare(registry);         // meshloop sim --serve: the simulator's ground truth
  return registry.catalogue();
}

}  // namespace

void add_metrics_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("metrics", "Describe the metrics meshloop exposes on /metrics");
  cmd->footer(
      "docs/metrics.md is generated with: meshloop metrics --list --format markdown > docs/metrics.md");
  struct Settings {
    bool list = false;
    std::string format = "table";
  };
  auto settings = std::make_shared<Settings>();
  cmd->add_flag("--list", settings->list, "Print every metric: name, type, unit, labels, help");
  cmd->add_option("--format", settings->format, "Output format of --list")
      ->check(CLI::IsMember({"table", "markdown"}))
      ->capture_default_str();
  cmd->callback([settings] {
    if (!settings->list) {
      std::cerr << "meshloop metrics: nothing to do (try --list)\n";
      exit_code() = 2;
      return;
    }
    const auto metrics = all_metrics();
    std::cout << (settings->format == "markdown" ? obs::reference_markdown(metrics) : obs::reference_table(metrics));
  });
}

}  // namespace meshloop::cli
