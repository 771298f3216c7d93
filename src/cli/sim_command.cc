// `meshloop sim`: run protocols on a simulated mesh with injected faults and score them against the ground truth.
// Parameters: scenario YAML (--scenario or --config) < MESHLOOP_SIM_* environment < flags; see docs/simulator.md.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

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
#include "mapek/sim_mapek.h"
#include "ml/model_file.h"

namespace meshloop::cli {
namespace {

struct SimArgs {
  std::string scenario;
  std::string report;
  bool quiet = false;
  std::string serve;    // --serve host:port: expose the simulated mesh live on /metrics
  std::string fp_csv;   // --mapek-fp-csv: per window and detector, false positives / negative element-windows
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
  // The MAPE-K loop: meshloop runs once without it (its usual entry) and once more, on the same scenario, with one
  // loop per node ("meshloop+mapek"), so the report compares the two on the same seeds.
  std::unique_ptr<mapek::Knowledge> knowledge;
  std::unique_ptr<mapek::SimMapek> loops;
  if (params->mapek != "off") {
    if (std::find(params->protocols.begin(), params->protocols.end(), "meshloop") == params->protocols.end()) {
      std::cerr << "meshloop sim: --mapek needs the meshloop protocol\n";
      return 2;
    }
    mapek::SimMapekOptions mo;
    mo.mode = params->mapek == "observe" ? mapek::Mode::kObserve : mapek::Mode::kAct;
    if (params->mapek_model == "none") {
      mo.model_note = "none (learned thresholds)";
    } else {
      auto model = ml::load_model(params->mapek_model);
      if (model.ok()) {
        mo.model = std::make_shared<const ml::GraphSage>(std::move(model).value());
        mo.model_note = params->mapek_model;
      } else {  // refused with its reason; the loops fall back to the learned thresholds
        std::cerr << "meshloop sim: warning: " << model.status().message() << "; loops use learned thresholds\n";
        mo.model_note = "refused: " + model.status().message();
      }
    }
    knowledge = std::make_unique<mapek::Knowledge>();
    loops = std::make_unique<mapek::SimMapek>(*scenario, mo, *knowledge);
  }
  std::vector<sim::RunStats> runs;
  std::vector<std::pair<sim::Protocol, bool>> plan;  // protocol, with the loop
  for (const auto& proto : protocols) {
    // Paced for someone watching the loop (--realtime), the run without it would only make them wait a whole
    // duration first: it is left out, and with it the report's loop-off comparison.
    if (!(loops && args.realtime && proto.name == "meshloop")) plan.emplace_back(proto, false);
    if (loops && proto.name == "meshloop") {
      sim::Protocol with = proto;
      with.name = params->mapek == "observe" ? "meshloop+mapek-observe" : "meshloop+mapek";
      plan.emplace_back(std::move(with), true);
    }
  }
  const sim::RunStats* off_run = nullptr;
  const sim::RunStats* on_run = nullptr;
  for (const auto& [proto, with_loop] : plan) {
    if (stop) break;
    ProgressBar bar(proto.name);
    sim::RunOptions opts;
    if (!args.quiet) opts.progress = [&bar](double f) { bar.update(f); };
    if (serve) {
      serve->watch(with_loop ? loops.get() : nullptr);
      serve->attach(opts, proto.name);
    }
    if (with_loop) loops->attach(opts);
    // The run without the loop takes the same telemetry measurements as the run with it, so that the two differ by
    // the loop's commands only: reading a node's telemetry is not free of effects on its routing today (the
    // simulator's route-computation feature calls Node::telemetry(), whose backup count can refresh a stale router
    // and change equal-cost tie-breaks), so an unmeasured baseline would differ from an observing loop by that.
    if (loops && proto.name == "meshloop" && !with_loop) opts.on_telemetry = [](const sim::TelemetryWindow&) {};
    runs.push_back(sim::run_protocol(*scenario, proto, opts));
    if (serve) serve->finished(runs.back());
  }
  for (std::size_t i = 0; i < runs.size() && i < plan.size(); ++i) {
    if (plan[i].first.name == "meshloop" && !plan[i].second) off_run = &runs[i];
    if (plan[i].second) on_run = &runs[i];
  }
  if ((*tracing)->enabled()) {
    (*tracing)->flush(std::chrono::seconds(60));
    const trace::BatchCounters tc = (*tracing)->counters();
    std::cerr << "meshloop sim: tracing: " << tc.exported << " spans exported, "
              << tc.dropped_queue_full + tc.dropped_export_failed << " dropped" << std::endl;
  }
  std::cout << sim::report_table(*scenario, runs);
  nlohmann::json mapek_report, detection_report;
  if (loops && off_run && on_run) {
    mapek_report = loops->mapek_json();
    auto summary = [](const sim::Summary& s) {
      return s.count == 0 ? nlohmann::json{{"p50", nullptr}, {"p95", nullptr}, {"max", nullptr}, {"count", 0}}
                          : nlohmann::json{{"p50", s.p50}, {"p95", s.p95}, {"max", s.max}, {"count", s.count}};
    };
    // Per fault kind: how the faults that broke flows ended, and the outage: MTTR when routing repaired it, else
    // the fault's whole duration (a lower bound: it was broken at least until it healed). The outage is what
    // compares the loop on and off fairly when off leaves a kind to heal by itself (gray holes), where MTTR alone
    // would count only the faults repaired.
    auto side = [&](const sim::RunStats& r) {
      nlohmann::json by_kind = nlohmann::json::object();
      for (const auto& [kind, s] : r.score.mttr_by_kind) by_kind[kind] = summary(s);
      std::map<std::string, std::vector<double>> outage;
      std::map<std::string, std::map<std::string, int>> status;
      for (std::size_t i = 0; i < r.score.outcomes.size() && i < scenario->faults.size(); ++i) {
        const sim::Fault& f = scenario->faults[i];
        if (f.is_shift()) continue;
        const sim::FaultOutcome& o = r.score.outcomes[i];
        const std::string kind = sim::fault_kind_name(f.kind);
        ++status[kind][sim::fault_status_name(o.status)];
        if (o.status == sim::FaultStatus::kNotBroken) continue;
        outage[kind].push_back(o.mttr_s ? *o.mttr_s : to_seconds(f.end - f.start));
      }
      nlohmann::json outcomes = nlohmann::json::object();
      std::vector<double> all;
      for (const auto& [kind, st] : status) {
        nlohmann::json k = nlohmann::json::object();
        for (const auto& [name, n] : st) k[name] = n;
        double sum = 0;
        for (double x : outage[kind]) sum += x;
        k["outage_mean_s"] = outage[kind].empty() ? nlohmann::json(nullptr) : nlohmann::json(sum / outage[kind].size());
        all.insert(all.end(), outage[kind].begin(), outage[kind].end());
        outcomes[kind] = k;
      }
      return nlohmann::json{{"pdr", r.score.pdr},
                            {"mttr_s", summary(r.score.mttr_s)},
                            {"mttr_by_kind", by_kind},
                            {"faults_breaking_flows", r.score.faults_breaking_flows},
                            {"unrecovered_faults", r.score.unrecovered_faults},
                            {"unrecovered_by_routing", r.score.unrecovered_by_routing},
                            {"control_bytes_per_node_s", r.control_bytes_per_node_s},
                            {"outage_s", summary(sim::summarize(all))},
                            {"faults_by_kind", outcomes}};
    };
    mapek_report["off"] = side(*off_run);
    mapek_report["on"] = side(*on_run);
    detection_report = loops->detection_json();
    const auto totals = loops->totals();
    std::uint64_t applied = 0;
    for (std::size_t k = 1; k < mapek::kActionKindCount; ++k) {
      for (std::size_t o = 1; o < mapek::kOutcomeCount; ++o) applied += totals.actions[k][o];
    }
    std::cout << fmt::format(
        "\n  MAPE-K ({}, {}): {} decisions, {} actions applied, {} rolled back, {} false remediations\n"
        "  {:<34} {:>16} {:>16}\n  {:<34} {:>15.4f}% {:>15.4f}%\n",
        params->mapek, mapek_report["detector"].get<std::string>(), totals.decisions, applied, totals.rollbacks,
        loops->false_remediations(), "loop", "off", params->mapek, "PDR", 100 * off_run->score.pdr,
        100 * on_run->score.pdr);
    auto row = [&](const std::string& label, const sim::Summary& a, const sim::Summary& b) {
      auto cell = [](const sim::Summary& s) {
        return s.count == 0 ? std::string("-") : fmt::format("{:.2f}/{:.2f} n={}", s.p50, s.p95, s.count);
      };
      std::cout << fmt::format("  {:<34} {:>16} {:>16}\n", label, cell(a), cell(b));
    };
    row("MTTR s p50/p95", off_run->score.mttr_s, on_run->score.mttr_s);
    for (const auto& [kind, s] : off_run->score.mttr_by_kind) {
      auto it = on_run->score.mttr_by_kind.find(kind);
      row("  " + kind, s, it == on_run->score.mttr_by_kind.end() ? sim::Summary{} : it->second);
    }
    const auto off_side = side(*off_run), on_side = side(*on_run);
    auto outage_cell = [](const nlohmann::json& j) {
      return j["outage_s"]["count"] == 0 ? std::string("-")
                                         : fmt::format("{:.2f}/{:.2f} n={}", j["outage_s"]["p50"].get<double>(),
                                                       j["outage_s"]["p95"].get<double>(), j["outage_s"]["count"].get<int>());
    };
    std::cout << fmt::format("  {:<34} {:>16} {:>16}\n", "outage s p50/p95 (unrepaired: dur.)", outage_cell(off_side),
                             outage_cell(on_side));
    for (const auto& [kind, k] : off_side["faults_by_kind"].items()) {
      auto cell = [&](const nlohmann::json& j) {
        const auto& x = j["faults_by_kind"][kind];
        return x["outage_mean_s"].is_null() ? std::string("-") : fmt::format("{:.2f}", x["outage_mean_s"].get<double>());
      };
      std::cout << fmt::format("    {:<32} {:>16} {:>16}\n", kind + " mean outage s", cell(off_side), cell(on_side));
    }
    std::cout << fmt::format("  {:<34} {:>16} {:>16}\n", "unrecovered (+ by routing)",
                             fmt::format("{} + {}", off_run->score.unrecovered_faults, off_run->score.unrecovered_by_routing),
                             fmt::format("{} + {}", on_run->score.unrecovered_faults, on_run->score.unrecovered_by_routing));
    std::cout << "  detection (mesh-wide, per element-window):\n";
    for (const auto& [name, d] : detection_report.items()) {
      std::cout << fmt::format("    {:<11} precision {:.3f} recall {:.3f} F1 {:.3f}  ttd p50 {}\n", name,
                               d["precision"].get<double>(), d["recall"].get<double>(), d["f1"].get<double>(),
                               d["ttd_s"]["p50"].is_null() ? std::string("-") : fmt::format("{:.1f}s", d["ttd_s"]["p50"].get<double>()));
    }
  }
  if (loops && !args.fp_csv.empty()) {
    std::ofstream csv(args.fp_csv);
    csv << "t_s";
    const auto names = loops->detector_names();
    for (const auto& n : names) csv << "," << n << "_fp," << n << "_negatives," << n << "_fp_rate";
    csv << ",loop_actions\n";
    std::map<double, int> actions;
    for (const auto& [id, d] : loops->decisions()) {
      if (d.outcome == mapek::Outcome::kPending || d.outcome == mapek::Outcome::kProposed) {
        if (d.action != mapek::ActionKind::kNone) ++actions[to_seconds(d.at)];
      }
    }
    for (const auto& row : loops->fp_timeline()) {
      csv << fmt::format("{:.1f}", row.t_s);
      for (const auto& [fp, neg] : row.fp_neg) {
        csv << fmt::format(",{},{},{:.5f}", fp, neg, neg == 0 ? 0.0 : static_cast<double>(fp) / static_cast<double>(neg));
      }
      auto it = actions.lower_bound(row.t_s - 0.01);
      csv << "," << (it != actions.end() && it->first < row.t_s + 0.01 ? it->second : 0) << "\n";
    }
    if (!csv) {
      std::cerr << "meshloop sim: cannot write '" << args.fp_csv << "'\n";
      return 1;
    }
  }
  if (!args.report.empty()) {
    std::ofstream out(args.report);
    nlohmann::json report = sim::report_json(*scenario, runs);
    if (!mapek_report.is_null()) {
      report["mapek"] = mapek_report;
      report["detection"] = detection_report;
    }
    out << report.dump(2) << "\n";
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
  cmd->add_flag("--realtime", args->realtime,
                "With --serve: pace virtual time to wall time (with --mapek: only the run with the loop)");
  cmd->add_option("--mapek-fp-csv", args->fp_csv,
                  "With --mapek: write each window's false-positive rate per detector (CSV) to FILE");
  cmd->callback([layered, args] { exit_code() = run_sim(*layered, *args); });
}

}  // namespace meshloop::cli
