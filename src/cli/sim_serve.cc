#include "cli/sim_serve.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <thread>
#include <utility>

#include "api/metrics.h"
#include "mapek/sim_mapek.h"
#include "obs/process_metrics.h"
#include "sim/meshloop_agent.h"
#include "sim/scoring.h"
#include "web/status_page.h"

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
// The status page's windows: PDR over packets sent 6 s to 1 s ago (a second for them to arrive), reroute p95 over
// the last 30 s, and this many points of history (one per virtual second).
constexpr double kPdrFrom = 6, kPdrTo = 1, kRerouteWindow = 30;
constexpr std::size_t kHistory = 600, kIncidentsShown = 200;

double p95(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(v.size())));
  return v[std::max<std::size_t>(rank, 1) - 1];
}

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
    if (scenario.params.mapek != "off") {
      mapek_.push_back(std::make_unique<obs::MapekMetrics>(*node_registries_.back(), mapek::diagnosis_names(),
                                                           mapek::action_names(), mapek::final_outcome_names()));
    }
    exposition_.expose(*node_registries_.back());
  }
  crashed_.assign(n, false);
  const nlohmann::json none = nlohmann::json::array();
  topology_ = {{"observer", "sim"}, {"time_s", 0}, {"nodes", none}, {"links", none}};
  incidents_ = {{"incidents", none}};
  status_ = {{"observer", "sim"},        {"time_s", 0},        {"pdr", nullptr},
             {"reroute_p95_s", nullptr}, {"faults_active", 0}, {"history", none}};
}

SimServe::~SimServe() {
  if (server_) server_->stop();
}

void SimServe::declare(obs::MetricsRegistry& registry) {
  obs::SimMetrics sim(registry, {}, {}, {});  // the loop's families are obs's (declare_obs_metrics)
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
  web::add_status_page(*s->server_);
  auto snapshot = [self](const nlohmann::json SimServe::*which) {
    return [self, which](const api::Request&) {
      std::lock_guard<std::mutex> lock(self->mu_);
      return api::Response::json(self->*which);
    };
  };
  s->server_->route("GET", "/api/v1/topology", snapshot(&SimServe::topology_));
  s->server_->route("GET", "/api/v1/incidents", snapshot(&SimServe::incidents_));
  s->server_->route("GET", "/api/v1/status", snapshot(&SimServe::status_));
  s->server_->route(
      "POST", "/api/v1/faults", [self](const api::Request& req) { return self->inject_request(req); },
      api::Access::kWrite);
  s->http_ = std::make_unique<obs::HttpMetrics>(s->own_, s->server_->route_patterns());
  api::observe_requests(*s->server_, *s->http_);
  if (Status st = s->server_->start(); !st.ok()) return st;
  return s;
}

void SimServe::attach(sim::RunOptions& options, const std::string& protocol) {
  protocol_ = protocol;
  counted_.clear();
  scored_.clear();
  faults_.clear();
  last_update_ = kTimeNever;
  tracked_.clear();
  ttd_seen_.clear();
  remediations_seen_[0] = remediations_seen_[1] = 0;
  incidents_json_ = nlohmann::json::array();
  reroutes_.clear();
  history_ = nlohmann::json::array();
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = true;
  }
  options.inject = [this](TimePoint) { return take_injections(); };  // the world starts them now
  options.observe_every = realtime_ ? milliseconds(50) : seconds(1);
  options.observe = [this](const sim::WorldView& view) { return observe(view); };
  options.on_event = [this](mesh::NodeId node, const mesh::Event& e) { on_event(node, e); };
}

void SimServe::on_event(mesh::NodeId node, const mesh::Event& e) {
  if (node == 0 || node > mesh_.size()) return;
  mesh_[node - 1]->observe(e);
  reroute_[node - 1].event(e, nullptr, done_);
  for (double s : done_) {
    mesh_[node - 1]->observe_reroute(s);
    reroutes_.emplace_back(sim_time_, s);
  }
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
  sim_time_ = to_seconds(view.now);
  sim_.set_time(sim_time_);

  // Faults injected so far (scheduled ones, then any POST /api/v1/faults added), and in effect now.
  while (faults_.size() < view.faults.size()) faults_.push_back(view.faults[faults_.size()]);
  counted_.resize(faults_.size(), false);
  scored_.resize(faults_.size(), false);
  std::map<std::string, std::size_t> active;
  for (int k = 0; k < sim::kFaultKindCount; ++k) active[sim::fault_kind_name(static_cast<sim::FaultKind>(k))] = 0;
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    if (!counted_[i] && faults_[i].start <= view.now) {
      sim_.injected(protocol_, sim::fault_kind_name(faults_[i].kind));
      counted_[i] = true;
    }
    if (counted_[i] && view.now < faults_[i].end) ++active[sim::fault_kind_name(faults_[i].kind)];
  }
  for (const auto& [kind, count] : active) sim_.set_active(protocol_, kind, count);

  // The nodes' mesh metrics, once per virtual second.
  if (last_update_ == kTimeNever || view.now - last_update_ >= seconds(1)) {
    last_update_ = view.now;
    std::size_t alive = 0;
    telemetry_.assign(mesh_.size() + 1, std::nullopt);
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
      if (auto* m = dynamic_cast<sim::MeshloopAgent*>(agent)) {
        telemetry_[i + 1] = m->node().telemetry(view.now);
        mesh_[i]->update(*telemetry_[i + 1]);
      }
    }
    sim_.set_nodes_alive(alive);
    score_final(view);
    if (loops_ != nullptr && !mapek_.empty()) observe_loops();
    publish(view);
  }
  return true;
}

void SimServe::score_final(const sim::WorldView& view) {
  const auto& faults = faults_;
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < faults.size(); ++i) {
    if (counted_[i] && !scored_[i] && faults[i].end + kFinalAfterEnd <= view.now) ready.push_back(i);
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = false;
  }
  const auto& faults = faults_;
  for (std::size_t i = 0; i < faults.size() && i < stats.score.outcomes.size(); ++i) {
    if (scored_[i] || !counted_[i]) continue;
    const sim::FaultOutcome& o = stats.score.outcomes[i];
    sim_.scored(protocol_, sim::fault_kind_name(faults[i].kind), sim::fault_status_name(o.status), o.mttr_s);
    scored_[i] = true;
  }
  for (int k = 0; k < sim::kFaultKindCount; ++k) {
    sim_.set_active(protocol_, sim::fault_kind_name(static_cast<sim::FaultKind>(k)), 0);
  }
}

void SimServe::observe_loops() {
  // The loop records a verification as a new decision carrying the applied one's incident id: an incident's latest
  // record gives its current outcome, and an applied action is pending until a final record of its incident.
  const auto decisions = loops_->decisions();
  std::map<std::pair<mesh::NodeId, std::uint64_t>, mapek::Outcome> latest;
  for (const auto& [node, d] : decisions) {
    if (d.incident != 0) latest[{node, d.incident}] = d.outcome;
  }
  std::vector<std::size_t> pending(mapek_.size(), 0);
  for (const auto& [key, outcome] : latest) {
    if (outcome == mapek::Outcome::kPending && key.first >= 1 && key.first <= mapek_.size()) ++pending[key.first - 1];
  }
  const char* mode = mapek::mode_name(loops_->mode());
  nlohmann::json shown = nlohmann::json::array();
  const std::size_t first = decisions.size() > kIncidentsShown ? decisions.size() - kIncidentsShown : 0;
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const auto& [node, d] = decisions[i];
    if (node == 0 || node > mapek_.size()) continue;
    obs::MapekMetrics& m = *mapek_[node - 1];
    const DecisionKey key{node,        d.at.time_since_epoch().count(), static_cast<int>(d.element.kind), d.element.a,
                          d.element.b, static_cast<int>(d.outcome)};
    auto [it, fresh] = tracked_.try_emplace(key, Tracked{next_incident_, static_cast<int>(d.outcome)});
    if (fresh) {
      ++next_incident_;
      if (mapek::is_final(d.outcome)) {
        m.finished(mapek::action_name(d.action), mapek::outcome_name(d.outcome));
      } else {
        m.decided(mapek::diagnosis_name(d.diagnosis), mapek::action_name(d.action));
      }
    }
    if (i < first) continue;
    const mapek::Outcome now = d.incident != 0 ? latest[{node, d.incident}] : d.outcome;
    shown.push_back({{"id", it->second.id},
                     {"time_s", to_seconds(d.at)},
                     {"node", node},
                     {"element", d.element.text()},
                     {"diagnosis", mapek::diagnosis_name(d.diagnosis)},
                     {"action", mapek::action_name(d.action)},
                     {"reason", d.reason},
                     {"mode", mode},
                     {"outcome", mapek::incident_outcome_name(now)},
                     {"incident", d.incident}});
  }
  for (std::size_t i = 0; i < mapek_.size(); ++i) mapek_[i]->set_pending(pending[i]);
  const auto anomaly = loops_->anomaly_scores();
  for (std::size_t i = 0; i < mapek_.size() && i < anomaly.size(); ++i) {
    if (anomaly[i]) mapek_[i]->anomaly_scores(anomaly[i]->node, anomaly[i]->link);
  }
  incidents_json_ = std::move(shown);

  // The detectors' scores against the truth, each newly detected fault's time to detect, and the remediations.
  const auto scores = loops_->detector_scores();
  ttd_seen_.resize(scores.size(), 0);
  for (std::size_t k = 0; k < scores.size(); ++k) {
    const auto& sc = scores[k];
    sim_.set_detection(sc.name, sc.precision, sc.recall, sc.f1);
    for (; ttd_seen_[k] < sc.ttd_s.size(); ++ttd_seen_[k]) sim_.detected(sc.name, sc.ttd_s[ttd_seen_[k]]);
  }
  const std::uint64_t now[2] = {loops_->false_remediations(), loops_->true_remediations()};
  for (int v = 0; v < 2; ++v) {
    sim_.remediations(v == 1, now[v] >= remediations_seen_[v] ? now[v] - remediations_seen_[v] : 0);
    remediations_seen_[v] = now[v];
  }
}

void SimServe::publish(const sim::WorldView& view) {
  const double t = to_seconds(view.now);
  const std::size_t n = scenario_.topo.n;
  // Node-kind faults in effect now mark their node degraded (a crash marks it down through its missing agent).
  std::vector<bool> faulty(n + 1, false);
  std::size_t active = 0;
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    const sim::Fault& f = faults_[i];
    if (!counted_[i] || view.now >= f.end) continue;
    ++active;
    if (f.is_node_fault() && f.node >= 1 && f.node <= n) faulty[f.node] = true;
  }
  const auto& tel = telemetry_;  // this second's, taken for the mesh metrics (by id; none for a crashed node)
  nlohmann::json nodes = nlohmann::json::array();
  for (mesh::NodeId u = 1; u <= n; ++u) {
    const bool alive = u - 1 < view.agents.size() && view.agents[u - 1] != nullptr;
    std::size_t up = 0;
    if (tel[u]) {
      for (const auto& nb : tel[u]->neighbours) up += nb.up ? 1 : 0;
    }
    const char* health = !alive ? "down" : (faulty[u] || up < scenario_.adj.degree(u)) ? "degraded" : "up";
    nodes.push_back({{"id", u}, {"health", health}, {"neighbours", up}});
  }
  nlohmann::json links = nlohmann::json::array();
  for (const auto& [ea, eb] : scenario_.topo.edges) {
    const mesh::NodeId a = std::min(ea, eb), b = std::max(ea, eb);
    // Each end's own table: the link is up when either end sees the other two-way; cost and quality from the
    // first end that knows the link (a link to or from a crashed node is down, at quality 0).
    const mesh::NeighbourInfo* info = nullptr;
    bool up = false;
    for (const auto& [self, peer] : {std::pair{a, b}, std::pair{b, a}}) {
      if (!tel[self]) continue;
      for (const auto& nb : tel[self]->neighbours) {
        if (nb.id != peer) continue;
        if (info == nullptr) info = &nb;
        up = up || nb.up;
      }
    }
    const bool usable = up && info != nullptr;
    const double cost = usable && info->cost != mesh::kInfiniteCost ? static_cast<double>(info->cost) : 0.0;
    const double quality = usable ? std::clamp(info->delivery_ratio_in * info->delivery_ratio_out, 0.0, 1.0) : 0.0;
    links.push_back({{"a", a}, {"b", b}, {"up", usable}, {"cost", cost}, {"quality", quality}});
  }

  // PDR as DESIGN.md defines it (packets between connected ends) over the packets sent kPdrFrom..kPdrTo s ago.
  const auto from_us = static_cast<std::int64_t>((t - kPdrFrom) * 1e6),
             to_us = static_cast<std::int64_t>((t - kPdrTo) * 1e6);
  std::uint64_t sent = 0, delivered = 0;
  for (const sim::FlowLog& log : view.logs) {
    for (auto it = log.packets.rbegin(); it != log.packets.rend() && it->sent_us >= from_us; ++it) {
      if (it->sent_us > to_us || !it->connected) continue;
      ++sent;
      delivered += it->delivered() ? 1 : 0;
    }
  }
  while (!reroutes_.empty() && reroutes_.front().first < t - kRerouteWindow) reroutes_.pop_front();
  std::vector<double> recent;
  for (const auto& r : reroutes_) recent.push_back(r.second);
  const nlohmann::json pdr =
      sent == 0 ? nlohmann::json(nullptr) : nlohmann::json(static_cast<double>(delivered) / static_cast<double>(sent));
  const nlohmann::json reroute = recent.empty() ? nlohmann::json(nullptr) : nlohmann::json(p95(recent));
  history_.push_back({{"time_s", t}, {"pdr", pdr}, {"reroute_p95_s", reroute}, {"faults_active", active}});
  if (history_.size() > kHistory) history_.erase(history_.begin());

  nlohmann::json topology = {
      {"observer", "sim"}, {"time_s", t}, {"nodes", std::move(nodes)}, {"links", std::move(links)}};
  nlohmann::json status = {{"observer", "sim"},        {"protocol", protocol_},   {"time_s", t}, {"pdr", pdr},
                           {"reroute_p95_s", reroute}, {"faults_active", active}, {"nodes", n},  {"history", history_}};
  std::lock_guard<std::mutex> lock(mu_);
  topology_ = std::move(topology);
  status_ = std::move(status);
  incidents_ = {{"incidents", incidents_json_}};
}

std::vector<sim::Fault> SimServe::take_injections() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(injections_, {});
}

api::Response SimServe::inject_request(const api::Request& req) {
  auto bad = [](const std::string& m) { return api::Response::error(400, "invalid_argument", m); };
  const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return bad("the body must be a JSON object {\"kind\":..., \"node\" or \"link\":..., \"duration_s\":...}");
  }
  if (!body.contains("kind") || !body["kind"].is_string()) return bad("'kind' must be a fault kind name");
  const std::string kind_text = body["kind"].get<std::string>();
  auto kind = sim::parse_fault_kind(kind_text);
  if (!kind.ok()) return bad(kind.status().message());
  if (!body.contains("duration_s") || !body["duration_s"].is_number()) return bad("'duration_s' must be a number");
  const double duration = body["duration_s"].get<double>();
  if (!(duration > 0 && duration <= 3600)) return bad("'duration_s' must be in (0, 3600]");
  auto node_field = [&](const char* name) -> Result<long long> {
    if (!body.contains(name) || !body[name].is_number_integer()) {
      return Status::InvalidArgument(fmt::format("'{}' must be an integer for {}", name, kind_text));
    }
    return body[name].get<long long>();
  };
  std::string element;
  sim::Fault probe;
  probe.kind = *kind;
  if (probe.is_node_fault()) {
    auto node = node_field("node");
    if (!node.ok()) return bad(node.status().message());
    element = std::to_string(*node);
  } else if (probe.is_link_fault()) {
    if (!body.contains("link") || !body["link"].is_string()) return bad("'link' must be \"A-B\" for " + kind_text);
    element = body["link"].get<std::string>();
  } else if (*kind == sim::FaultKind::kPartition) {
    auto node = node_field("node");
    if (!node.ok()) return bad(node.status().message());
    auto size = node_field("size");
    if (!size.ok()) return bad(size.status().message());
    element = fmt::format("{}:{}", *node, *size);
  } else {
    element = "mesh";
  }
  // The schedule's own parser checks the element against the topology; the world moves the start to now.
  auto fault =
      sim::parse_fault(fmt::format("{} {} 0s {}ms", kind_text, element, std::llround(duration * 1000)), scenario_.topo);
  if (!fault.ok()) return bad(fault.status().message());
  const std::string text = fault->element(scenario_.topo);
  std::lock_guard<std::mutex> lock(mu_);
  if (!running_) return api::Response::error(409, "conflict", "no simulation run in progress");
  injections_.push_back(std::move(fault).value());
  return api::Response::json({{"accepted", true}, {"kind", kind_text}, {"element", text}, {"duration_s", duration}},
                             202);
}

}  // namespace meshloop::cli
