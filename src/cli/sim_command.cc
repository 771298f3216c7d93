// `meshloop sim`: run protocols on a simulated mesh with injected faults and score them against the ground truth.
// Parameters: scenario YAML (--scenario or --config) < MESHLOOP_SIM_* environment < flags; see docs/simulator.md.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "baseline/batman_agent.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/sim_serve.h"
#include "cli/trace_setup.h"
#include "core/version.h"
#include "trace/mesh_tracer.h"
#include "transport/address.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/world.h"
#ifdef MESHLOOP_SIM_HAVE_MESHLOOP_AGENT
#include "sim/meshloop_agent.h"
#endif

namespace meshloop::cli {
namespace {

struct SimArgs {
  std::string scenario;
  std::string report;
  bool quiet = false;
  std::string serve;    // --serve host:port: expose the simulated mesh live on /metrics
  bool realtime = false;
};

// SIGINT/SIGTERM while serving: blocked in every thread and taken by one waiting thread, which sets `stop`.
class SignalWaiter {
 public:
  explicit SignalWaiter(std::atomic<bool>& stop) : stop_(stop) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this] {
      const timespec slice{0, 100'000'000};
      while (!done_) {
        if (sigtimedwait(&set_, nullptr, &slice) > 0) stop_ = true;
      }
    });
  }
  ~SignalWaiter() {
    done_ = true;
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  std::atomic<bool>& stop_;
  std::atomic<bool> done_{false};
  sigset_t set_{}, old_{};
  std::thread thread_;
};

// The protocols `meshloop sim` can run, by name. The baseline adds itself here.
Result<sim::Protocol> make_protocol(const std::string& name, const sim::ScenarioParams& p, mesh::TraceHooks* trace) {
#ifdef MESHLOOP_SIM_HAVE_MESHLOOP_AGENT
  if (name == "meshloop") {
    mesh::NodeConfig config;
    config.hello_interval = p.hello_interval;
    config.dead_multiplier = p.dead_multiplier;
    return sim::meshloop_protocol(config, trace);
  }
#else
  (void)p;
  (void)trace;
#endif
  // The baseline keeps its documented defaults (1 s originator interval): the comparison is with batman-adv as
  // deployed, not with a batman tuned to our hello interval (docs/decisions/0010-batman-baseline.md).
  if (name == "batman") return baseline::batman_protocol(baseline::BatmanConfig{});
  return Status::InvalidArgument("unknown protocol '" + name + "' (available: meshloop, batman)");
}

// The scenario file is the bottom layer; LayeredOptions supplies --config, env and flags above it.
Result<Config> resolve(const LayeredOptions& layered, const SimArgs& args) {
  auto top = layered.resolve();
  if (!top.ok() || args.scenario.empty()) return top;
  auto base = Config::from_yaml_file(args.scenario);
  if (!base.ok()) return base.status();
  std::vector<std::string> known;
  for (const auto& k : sim::scenario_keys()) known.emplace_back(k.key);
  if (Status s = base->check_known(known); !s.ok()) return s;
  for (const std::string& key : top->keys()) {
    const char* env = std::getenv(Config::env_name(key).c_str());
    base->set(key, *top->get(key), env != nullptr ? "env " + Config::env_name(key) : "flag or --config");
  }
  return base;
}

class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1) {}
  void update(double fraction) {
    if (!enabled_) return;
    const int pct = static_cast<int>(fraction * 100.0);
    if (pct == last_) return;
    last_ = pct;
    const int width = 40, filled = pct * width / 100;
    std::fprintf(stderr, "\r%-10s [%s%s] %3d%%", label_.c_str(), std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), '.').c_str(), pct);
    if (pct >= 100) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  std::string label_;
  bool enabled_;
  int last_ = -1;
};

int run_sim(const LayeredOptions& layered, const SimArgs& args) {
  auto config = resolve(layered, args);
  if (!config.ok()) {
    std::cerr << "meshloop sim: " << config.status().message() << "\n";
    return 2;
  }
  auto params = sim::params_from_config(*config);
  if (!params.ok()) {
    std::cerr << "meshloop sim: " << params.status().message() << "\n";
    return 2;
  }
  // Tracing (off unless --trace on): one provider shared by every simulated node, ids from the scenario's seed,
  // span times on a fixed virtual epoch, so the same seed gives the same traces.
  trace::TracingConfig trace_defaults;
  trace_defaults.disabled = true;
  trace_defaults.file = (std::filesystem::temp_directory_path() / "meshloop-sim.traces.jsonl").string();
  // Batches only when full (and at the final flush), never on a timer: the file's lines then group the same spans
  // the same way in every run, not as the export thread's timing happened to.
  trace_defaults.schedule_delay = std::chrono::hours(24);
  trace::Plumbing plumbing;
  plumbing.ids = trace::seeded_id_generator(params->seed ^ 0x7472616365ULL);  // "trace"
  plumbing.block_when_full = true;  // lose nothing: the simulator waits for the exporter instead
  auto tracing = make_tracing(*config, trace_defaults, trace::ResourceInfo{"sim", "", version()}, {},
                              std::move(plumbing));
  if (!tracing.ok()) {
    std::cerr << "meshloop sim: " << tracing.status().message() << "\n";
    return 2;
  }
  std::unique_ptr<trace::MeshTracer> mesh_tracer;
  if ((*tracing)->enabled()) {
    constexpr std::int64_t kVirtualEpochUs = 1767225600LL * 1000000;  // 2026-01-01T00:00:00Z is virtual time zero
    mesh_tracer = std::make_unique<trace::MeshTracer>((*tracing)->tracer("meshloop.mesh"),
                                                      trace::MeshTracerOptions{kVirtualEpochUs});
  }
  std::vector<sim::Protocol> protocols;
  for (const auto& name : params->protocols) {
    auto proto = make_protocol(name, *params, mesh_tracer.get());
    if (!proto.ok()) {
      std::cerr << "meshloop sim: " << proto.status().message() << "\n";
      return 2;
    }
    protocols.push_back(std::move(proto).value());
  }
  auto scenario = sim::build_scenario(*params);
  if (!scenario.ok()) {
    std::cerr << "meshloop sim: " << scenario.status().message() << "\n";
    return 2;
  }
  if (args.realtime && args.serve.empty()) {
    std::cerr << "meshloop sim: --realtime needs --serve (pacing only matters to someone watching)\n";
    return 2;
  }
  std::atomic<bool> stop{false};
  std::unique_ptr<SignalWaiter> signals;
  std::unique_ptr<SimServe> serve;
  if (!args.serve.empty()) {
    auto hp = transport::parse_host_port(args.serve, true);
    if (!hp.ok()) {
      std::cerr << "meshloop sim: --serve: " << hp.status().message() << "\n";
      return 2;
    }
    signals = std::make_unique<SignalWaiter>(stop);  // before the server's threads start, so they inherit the mask
    auto started = SimServe::start(*scenario, hp->host, hp->port, args.realtime, stop);
    if (!started.ok()) {
      std::cerr << "meshloop sim: " << started.status().message() << "\n";
      return 1;
    }
    serve = std::move(started).value();
    std::cerr << "meshloop sim: serving the simulated mesh on http://"
              << (hp->host.find(':') != std::string::npos ? "[" + hp->host + "]" : hp->host) << ":" << serve->port()
              << "/metrics" << (args.realtime ? " (virtual time paced to wall time)" : "") << std::endl;
  }
  std::vector<sim::RunStats> runs;
  for (const auto& proto : protocols) {
    if (stop) break;
    ProgressBar bar(proto.name);
    sim::RunOptions opts;
    if (!args.quiet) opts.progress = [&bar](double f) { bar.update(f); };
    if (serve) serve->attach(opts, proto.name);
    runs.push_back(sim::run_protocol(*scenario, proto, opts));
    if (serve) serve->finished(runs.back());
  }
  if ((*tracing)->enabled()) {
    (*tracing)->flush(std::chrono::seconds(60));
    const trace::BatchCounters tc = (*tracing)->counters();
    std::cerr << "meshloop sim: tracing: " << tc.exported << " spans exported, "
              << tc.dropped_queue_full + tc.dropped_export_failed << " dropped" << std::endl;
  }
  std::cout << sim::report_table(*scenario, runs);
  if (!args.report.empty()) {
    std::ofstream out(args.report);
    out << sim::report_json(*scenario, runs).dump(2) << "\n";
    if (!out) {
      std::cerr << "meshloop sim: cannot write report '" << args.report << "'\n";
      return 1;
    }
  }
  if (serve && !stop) {
    std::cerr << "meshloop sim: run done; still serving /metrics until SIGINT or SIGTERM" << std::endl;
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}

}  // namespace

void add_sim_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("sim", "Simulate a mesh with injected faults and score the protocols against ground truth");
  auto layered = std::make_shared<LayeredOptions>(*cmd);
  auto args = std::make_shared<SimArgs>();
  for (const auto& k : sim::scenario_keys()) layered->add(k.key, k.flag, k.help, k.default_text);
  add_trace_options(*layered, "off");
  cmd->add_option("--scenario", args->scenario, "Scenario YAML file (keys under 'sim:'); env and flags override it");
  cmd->add_option("--report", args->report, "Write the JSON report to FILE");
  cmd->add_flag("--quiet", args->quiet, "No progress bar");
  cmd->add_option("--serve", args->serve,
                  "Expose the simulated mesh live on http://ADDR/metrics (host:port; port 0 picks one), one node "
                  "label per simulated node plus the ground truth; keeps serving after the run until SIGINT/SIGTERM");
  cmd->add_flag("--realtime", args->realtime, "With --serve: pace virtual time to wall time");
  cmd->callback([layered, args] { exit_code() = run_sim(*layered, *args); });
}

}  // namespace meshloop::cli
