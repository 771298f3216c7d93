#include "cli/sim_serve.h"

#include <map>
#include <thread>

#include "api/metrics.h"
#include "obs/process_metrics.h"
#include "sim/meshloop_agent.h"
#include "sim/scoring.h"

namespace meshloop::cli {

namespace {

std::vector<std::string> fault_kind_names() {
  std::vector<std::string> out;
  for (int k = 0; k < sim::kFaultKindCount; ++k) out.emplace_back(sim::fault_kind_name(static_cast<sim::FaultKind>(k)));
  return out;
}

std::vector<std::string> outcome_names() {
  return {sim::fault_status_name(sim::FaultStatus::kNotBroken), sim::fault_status_name(sim::FaultStatus::kRecovered),
          sim::fault_status_name(sim::FaultStatus::kUnrecoveredByRouting),
          sim::fault_status_name(sim::FaultStatus::kUnrecovered)};
}

// A fault's outcome is final once its recovery windows after its end are behind the scoring horizon.
constexpr Duration kFinalAfterEnd = seconds(5);

}  // namespace

SimServe::SimServe(const sim::Scenario& scenario, bool realtime, const std::atomic<bool>& stop)
    : scenario_(scenario),
      realtime_(realtime),
      stop_(stop),
      own_("sim"),
      exposition_(own_),
      sim_(own_, scenario.params.protocols, fault_kind_names(), outcome_names()) {
  obs::register_process_metrics(own_);
  obs::register_build_info(own_);
  const std::size_t n = scenario.topo.n;
  const Duration detection = scenario.params.hello_interval * scenario.params.dead_multiplier;
  for (std::size_t u = 1; u <= n; ++u) {
    node_registries_.push_back(std::make_unique<obs::MetricsRegistry>(std::to_string(u)));
    mesh_.push_back(std::make_unique<obs::MeshMetrics>(*node_registries_.back()));
    reroute_.emplace_back(obs::RerouteTimer::Options{detection, seconds(30), /*complete_on_switch=*/true});
    exposition_.expose(*node_registries_.back());
  }
  crashed_.assign(n, false);
}

SimServe::~SimServe() {
  if (server_) server_->stop();
}

void SimServe::declare(obs::MetricsRegistry& registry) {
  obs::SimMetrics sim(registry, {}, {}, {});
}

Result<std::unique_ptr<SimServe>> SimServe::start(const sim::Scenario& scenario, const std::string& host, int port,
                                                  bool realtime, const std::atomic<bool>& stop) {
  std::unique_ptr<SimServe> s(new SimServe(scenario, realtime, stop));
  api::ServerOptions o;
  o.host = host;
  o.port = port;
  s->server_ = std::make_unique<api::Server>(o);
  api::add_metrics_route(*s->server_, s->exposition_);
  SimServe* self = s.get();
  s->server_->route("GET", "/healthz", [self](const api::Request&) {
    return api::Response::json({{"status", "ok"}, {"protocol", self->protocol_}});
  });
  s->http_ = std::make_unique<obs::HttpMetrics>(s->own_, s->server_->route_patterns());
  api::observe_requests(*s->server_, *s->http_);
  if (Status st = s->server_->start(); !st.ok()) return st;
  return s;
}

void SimServe::attach(sim::RunOptions& options, const std::string& protocol) {
  protocol_ = protocol;
  injected_ = 0;
  scored_.assign(scenario_.faults.size(), false);
  last_update_ = kTimeNever;
  options.observe_every = realtime_ ? milliseconds(50) : seconds(1);
  options.observe = [this](const sim::WorldView& view) { return observe(view); };
  options.on_event = [this](mesh::NodeId node, const mesh::Event& e) { on_event(node, e); };
}

void SimServe::on_event(mesh::NodeId node, const mesh::Event& e) {
  if (node == 0 || node > mesh_.size()) return;
  mesh_[node - 1]->observe(e);
  reroute_[node - 1].event(e, nullptr, done_);
  for (double s : done_) mesh_[node - 1]->observe_reroute(s);
  done_.clear();
}

bool SimServe::observe(const sim::WorldView& view) {
  if (view.now == kTimeZero) wall_start_ = std::chrono::steady_clock::now();
  if (realtime_) {
    // Virtual time runs no faster than wall time; sleep in short slices so a signal ends the run promptly.
    const auto due = wall_start_ + std::chrono::microseconds(view.now.time_since_epoch().count());
    while (!stop_ && std::chrono::steady_clock::now() < due) {
      std::this_thread::sleep_until(std::min(due, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)));
    }
  }
  if (stop_) return false;
  sim_.set_time(to_seconds(view.now));

  // Faults injected so far (the schedule is sorted by start), and in effect now.
  const auto& faults = scenario_.faults;
  while (injected_ < faults.size() && faults[injected_].start <= view.now) {
    sim_.injected(protocol_, sim::fault_kind_name(faults[injected_].kind));
    ++injected_;
  }
  std::map<std::string, std::size_t> active;
  for (int k = 0; k < sim::kFaultKindCount; ++k) active[sim::fault_kind_name(static_cast<sim::FaultKind>(k))] = 0;
  for (std::size_t i = 0; i < injected_; ++i) {
    if (view.now < faults[i].end) ++active[sim::fault_kind_name(faults[i].kind)];
  }
  for (const auto& [kind, count] : active) sim_.set_active(protocol_, kind, count);

  // The nodes' mesh metrics, once per virtual second.
  if (last_update_ == kTimeNever || view.now - last_update_ >= seconds(1)) {
    last_update_ = view.now;
    std::size_t alive = 0;
    for (std::size_t i = 0; i < view.agents.size() && i < mesh_.size(); ++i) {
      sim::Agent* agent = view.agents[i].get();
      if (agent == nullptr) {
        if (!crashed_[i]) {
          // A crashed node reports nothing: no neighbours, no routes; its counters restart with its next boot.
          mesh::Telemetry empty;
          empty.self = static_cast<mesh::NodeId>(i + 1);
          mesh_[i]->update(empty);
          crashed_[i] = true;
        }
        continue;
      }
      ++alive;
      crashed_[i] = false;
      if (auto* m = dynamic_cast<sim::MeshloopAgent*>(agent)) mesh_[i]->update(m->node().telemetry(view.now));
    }
    sim_.set_nodes_alive(alive);
    score_final(view);
  }
  return true;
}

void SimServe::score_final(const sim::WorldView& view) {
  const auto& faults = scenario_.faults;
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < injected_; ++i) {
    if (!scored_[i] && faults[i].end + kFinalAfterEnd <= view.now) ready.push_back(i);
  }
  if (ready.empty()) return;
  sim::ScoringParams p;
  p.horizon = view.now - p.window;
  const sim::Score score = sim::score_run(view.logs, view.truths, p);
  for (std::size_t i : ready) {
    const sim::FaultOutcome& o = score.outcomes[i];
    sim_.scored(protocol_, sim::fault_kind_name(faults[i].kind), sim::fault_status_name(o.status), o.mttr_s);
    scored_[i] = true;
  }
}

void SimServe::finished(const sim::RunStats& stats) {
  const auto& faults = scenario_.faults;
  for (std::size_t i = 0; i < faults.size() && i < stats.score.outcomes.size(); ++i) {
    if (scored_[i] || i >= injected_) continue;
    const sim::FaultOutcome& o = stats.score.outcomes[i];
    sim_.scored(protocol_, sim::fault_kind_name(faults[i].kind), sim::fault_status_name(o.status), o.mttr_s);
    scored_[i] = true;
  }
  for (int k = 0; k < sim::kFaultKindCount; ++k) {
    sim_.set_active(protocol_, sim::fault_kind_name(static_cast<sim::FaultKind>(k)), 0);
  }
}

}  // namespace meshloop::cli
