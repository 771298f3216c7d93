// `meshloop demo`: a live mesh of real `meshloop node` processes on 127.0.0.1 with traffic and injected faults,
// printing what broke and how long delivery took to recover, measured from the receivers' flow statistics.
#include <fmt/core.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/client.h"
#include "cli/commands.h"
#include "cli/demo_prometheus.h"
#include "cli/options.h"
#include "transport/local_mesh.h"
#include "transport/udp_driver.h"

namespace meshloop::cli {
namespace {

using mesh::NodeId;
using nlohmann::json;
using transport::unix_now_us;

// The alert rules of the source tree this binary was built from (deploy/alerts), if it is still there.
std::string default_alert_rules() {
#ifdef MESHLOOP_SOURCE_DIR
  const std::string path = MESHLOOP_SOURCE_DIR "/deploy/alerts/meshloop.rules.yml";
  if (std::filesystem::exists(path)) return path;
#endif
  return "";
}

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct DemoSettings {
  int nodes = 8;
  Duration duration = Duration::zero();  // zero: until Ctrl-C
  Duration fault_interval = seconds(5);
  std::uint64_t seed = 1;
  std::string binary;
  double rate = 20;
  int flows_per_node = 2;
  Duration hello = milliseconds(100);
  int dead_multiplier = 3;
  std::string work_dir;
  std::string log_level = "info";
  bool prometheus = true;      // a real Prometheus scraping the nodes, with our alert rules
  int prometheus_port = 9090;  // taken: any free port
  std::string alert_rules;     // empty: none
};

struct Flow {
  NodeId src;
  NodeId dst;
  std::uint32_t id;  // the flow index at its source
};
std::string name(const Flow& f) { return fmt::format("{}->{}", f.src, f.dst); }

// One poll of every running node's status.
struct View {
  std::map<NodeId, json> status;

  NodeId next_hop(NodeId at, NodeId dst) const {
    auto it = status.find(at);
    if (it == status.end()) return mesh::kNoNode;
    for (const auto& r : it->second["routes"]) {
      if (r["destination"].get<NodeId>() == dst && !r["next_hop"].is_null()) return r["next_hop"].get<NodeId>();
    }
    return mesh::kNoNode;
  }
  // The hop-by-hop path src..dst as the routing tables say now; empty when it is broken or loops.
  std::vector<NodeId> path(NodeId src, NodeId dst) const {
    std::vector<NodeId> p{src};
    NodeId at = src;
    while (at != dst) {
      at = next_hop(at, dst);
      if (at == mesh::kNoNode || p.size() > status.size() + 1) return {};
      p.push_back(at);
    }
    return p;
  }
  const json* flow_stats(const Flow& f) const {
    auto it = status.find(f.dst);
    if (it == status.end()) return nullptr;
    for (const auto& r : it->second["traffic"]["receiving"]) {
      if (r["origin"].get<NodeId>() == f.src && r["flow"].get<std::uint32_t>() == f.id) return &r;
    }
    return nullptr;
  }
};

class Demo {
 public:
  Demo(DemoSettings s, transport::LocalMesh& mesh) : s_(std::move(s)), mesh_(mesh), rng_(s_.seed) {}

  int run();

 private:
  struct Outcome {
    Flow flow;
    bool recovered = false;
    bool interrupted = false;
    std::int64_t outage_us = 0;
  };
  struct FaultRecord {
    std::string kind;  // "link cut", "node crash"
    std::vector<Outcome> outcomes;
  };

  View poll(std::chrono::milliseconds timeout = std::chrono::milliseconds(500)) {
    View v;
    for (auto& [id, n] : mesh_.nodes()) {
      if (!mesh_.running(id)) continue;
      auto st = api::get_status("127.0.0.1", n.http_port, timeout);
      if (st.ok()) v.status[id] = std::move(st).value();
    }
    return v;
  }
  double elapsed() const { return static_cast<double>(unix_now_us() - start_us_) / 1e6; }
  template <typename... Args>
  void say(fmt::format_string<Args...> f, Args&&... args) {
    std::cout << fmt::format("[{:7.1f}s] ", elapsed()) << fmt::format(f, std::forward<Args>(args)...) << std::endl;
  }
  // Sleeps until `unix_us` or Ctrl-C; false on Ctrl-C.
  // Sleeps until `unix_us` or Ctrl-C, showing the nodes' new MAPE-K decisions once a second; false on Ctrl-C.
  bool sleep_until(std::int64_t unix_us) {
    while (!g_stop) {
      if (unix_now_us() >= next_incident_poll_us_) {
        show_new_incidents();
        next_incident_poll_us_ = unix_now_us() + 1'000'000;
      }
      const std::int64_t left = unix_us - unix_now_us();
      if (left <= 0) return true;
      std::this_thread::sleep_for(std::chrono::microseconds(std::min<std::int64_t>(left, 50000)));
    }
    return false;
  }
  // Each node's loop decisions that acted (or would have, in observe mode), once each, with the loop's reason.
  void show_new_incidents() {
    for (auto& [id, n] : mesh_.nodes()) {
      if (!mesh_.running(id)) continue;
      auto r = api::http_get("127.0.0.1", n.http_port, "/api/v1/incidents?limit=20", std::chrono::milliseconds(300));
      if (!r.ok() || r->status != 200) continue;
      const json j = json::parse(r->body, nullptr, false);
      if (!j.is_object() || !j.contains("incidents")) continue;
      for (const auto& i : j["incidents"]) {
        const std::string key = fmt::format("{}/{}/{}", id, i.value("id", 0), i.value("outcome", ""));
        if (i.value("action", "none") == "none" || !seen_incidents_.insert(key).second) continue;
        std::string reason = i.value("reason", "");
        reason = reason.substr(0, reason.find("; values:"));  // the planner's value table stays in the API
        say("MAPE-K on node {}: {} {} -> {} [{}]: {}", id, i.value("diagnosis", "?"), i.value("element", "?"),
            i.value("action", "?"), i.value("outcome", "?"), reason);
      }
    }
  }
  bool done() const {
    return g_stop || (s_.duration > Duration::zero() && unix_now_us() >= start_us_ + s_.duration.count());
  }

  bool wait_for_convergence();
  std::vector<Outcome> measure(const std::vector<Flow>& flows, std::int64_t fault_us, std::int64_t deadline_us);
  void report(const std::string& what, const std::vector<Outcome>& outcomes, std::int64_t deadline_us);
  void one_fault(int number);
  void summary();

  DemoSettings s_;
  transport::LocalMesh& mesh_;
  std::mt19937_64 rng_;
  std::vector<Flow> flows_;
  std::int64_t start_us_ = unix_now_us();
  std::vector<FaultRecord> faults_;
  std::set<std::string> seen_incidents_;  // node/incident/outcome already shown
  std::int64_t next_incident_poll_us_ = 0;
};

bool Demo::wait_for_convergence() {
  const std::int64_t deadline = unix_now_us() + 30'000'000;
  while (!g_stop && unix_now_us() < deadline) {
    View v = poll();
    bool ok = v.status.size() == mesh_.nodes().size();
    for (auto& [id, st] : v.status) {
      std::size_t reachable = 0;
      for (const auto& r : st["routes"]) reachable += r["next_hop"].is_null() ? 0 : 1;
      ok = ok && reachable + 1 >= mesh_.nodes().size();
    }
    std::int64_t now = unix_now_us();
    for (const Flow& f : flows_) {
      const json* fs = v.flow_stats(f);
      ok = ok && fs != nullptr && now - (*fs)["last_arrival_unix_us"].get<std::int64_t>() < 500'000;
    }
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// Watches `flows` after a fault injected at `fault_us` until each has recovered or `deadline_us` passes. A flow
// has recovered when it delivers again after a pause (a gap of more than 2 nominal intervals ending after the
// fault), or when it never paused and still delivers 1 s after the fault. Its outage is its longest such gap.
std::vector<Demo::Outcome> Demo::measure(const std::vector<Flow>& flows, std::int64_t fault_us,
                                         std::int64_t deadline_us) {
  std::vector<Outcome> out;
  for (const Flow& f : flows) out.push_back(Outcome{f});
  while (!g_stop) {
    View v = poll();
    const std::int64_t now = unix_now_us();
    bool pending = false;
    for (Outcome& o : out) {
      if (o.recovered) continue;
      const json* fs = v.flow_stats(o.flow);
      if (fs == nullptr) {
        pending = true;
        continue;
      }
      const std::int64_t interval = std::max<std::int64_t>((*fs)["interval_us"].get<std::int64_t>(), 1000);
      const std::int64_t last = (*fs)["last_arrival_unix_us"].get<std::int64_t>();
      std::int64_t worst = 0;
      for (const auto& g : (*fs)["recent_gaps"]) {
        if (g["end_unix_us"].get<std::int64_t>() > fault_us) {
          worst = std::max(worst, g["end_unix_us"].get<std::int64_t>() - g["start_unix_us"].get<std::int64_t>());
        }
      }
      const bool flowing = now - last < 3 * interval && last > fault_us;
      o.outage_us = std::max(worst, flowing ? 0 : now - last);
      o.interrupted = worst > 0 || !flowing;
      if (flowing && (worst > 0 || now > fault_us + 1'000'000)) {
        o.recovered = true;
        o.outage_us = worst;
      } else {
        pending = true;
      }
    }
    if (!pending || now >= deadline_us) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return out;
}

void Demo::report(const std::string& what, const std::vector<Outcome>& outcomes, std::int64_t deadline_us) {
  (void)deadline_us;
  if (g_stop) return;
  if (outcomes.empty()) {
    say("  {}: no flow crossed it", what);
    return;
  }
  std::vector<const Outcome*> interrupted, unrecovered;
  const Outcome* worst = nullptr;
  for (const Outcome& o : outcomes) {
    if (!o.recovered) unrecovered.push_back(&o);
    if (o.interrupted) interrupted.push_back(&o);
    if (o.recovered && (worst == nullptr || o.outage_us > worst->outage_us)) worst = &o;
  }
  std::string line = fmt::format("  {}: {} flow(s) affected", what, outcomes.size());
  if (worst != nullptr) {
    if (worst->outage_us > 0) {
      std::vector<double> ms;
      for (const Outcome& o : outcomes) {
        if (o.recovered && o.outage_us > 0) ms.push_back(static_cast<double>(o.outage_us) / 1000.0);
      }
      std::sort(ms.begin(), ms.end());
      line += fmt::format(", delivery recovered after {:.0f} ms (worst flow {}; median {:.0f} ms)",
                          static_cast<double>(worst->outage_us) / 1000.0, name(worst->flow), ms[ms.size() / 2]);
    } else {
      line += ", no delivery gap beyond 2 packet intervals";
    }
  }
  if (!unrecovered.empty()) {
    std::string names;
    for (const Outcome* o : unrecovered) names += (names.empty() ? "" : ", ") + name(o->flow);
    line += fmt::format("; NOT recovered before the fault ended: {}", names);
  }
  say("{}", line);
}

void Demo::one_fault(int number) {
  View v = poll();
  // Paths now, and which links and transit nodes carry traffic.
  std::map<std::pair<NodeId, NodeId>, std::vector<Flow>> by_link;
  std::map<NodeId, std::vector<Flow>> by_transit;
  for (const Flow& f : flows_) {
    if (!mesh_.running(f.src) || !mesh_.running(f.dst)) continue;
    auto p = v.path(f.src, f.dst);
    for (std::size_t i = 0; i + 1 < p.size(); ++i) {
      by_link[{std::min(p[i], p[i + 1]), std::max(p[i], p[i + 1])}].push_back(f);
      if (i > 0) by_transit[p[i]].push_back(f);
    }
  }
  const bool want_node = (rng_() % 2) == 1;
  const std::int64_t heal_at = unix_now_us() + s_.fault_interval.count() / 2;
  if ((want_node && !by_transit.empty()) || by_link.empty()) {
    std::vector<NodeId> candidates;
    for (auto& [k, fl] : by_transit) candidates.push_back(k);
    if (candidates.empty()) {
      for (auto& [id, n] : mesh_.nodes()) candidates.push_back(id);
    }
    const NodeId victim = candidates[rng_() % candidates.size()];
    std::vector<Flow> affected = by_transit[victim];
    std::vector<std::string> lost;
    for (const Flow& f : flows_) {
      if (f.src == victim || f.dst == victim) lost.push_back(name(f));
    }
    mesh_.kill(victim, SIGKILL);
    const std::int64_t t = unix_now_us();
    say("fault #{}: node {} crashed (SIGKILL); {} flow(s) crossed it{}", number, victim, affected.size(),
        lost.empty() ? std::string() : fmt::format(" ({} flow(s) to or from it stop with it)", lost.size()));
    auto outcomes = measure(affected, t, heal_at);
    report(fmt::format("node {} crash", victim), outcomes, heal_at);
    faults_.push_back(FaultRecord{"node crash", outcomes});
    if (!sleep_until(heal_at)) return;
    if (Status s = mesh_.start(victim); !s.ok()) {
      say("could not restart node {}: {}", victim, s.message());
      return;
    }
    const std::int64_t t2 = unix_now_us();
    say("node {} restarted", victim);
    std::vector<Flow> others;
    for (const Flow& f : flows_) {
      if (f.src != victim && f.dst != victim) others.push_back(f);
    }
    auto after = measure(others, t2, t2 + 2'000'000);
    std::size_t paused = 0;
    std::int64_t worst = 0;
    for (const auto& o : after) {
      paused += o.outage_us > 0 ? 1 : 0;
      worst = std::max(worst, o.outage_us);
    }
    if (!g_stop) {
      say("  node {} rejoined: {}", victim,
          paused == 0
              ? std::string("no other flow paused")
              : fmt::format("{} other flow(s) paused, worst {:.0f} ms", paused, static_cast<double>(worst) / 1000.0));
    }
    return;
  }
  std::vector<std::pair<NodeId, NodeId>> candidates;
  for (auto& [l, fl] : by_link) candidates.push_back(l);
  const auto link = candidates[rng_() % candidates.size()];
  const auto& b = mesh_.node(link.second);
  const int a_http = mesh_.node(link.first).http_port;
  const std::string b_addr = transport::to_string(b.udp);
  if (Status s = api::set_drop("127.0.0.1", a_http, b_addr, true); !s.ok()) {
    say("fault #{}: could not cut link {}-{}: {}", number, link.first, link.second, s.message());
    return;
  }
  const std::int64_t t = unix_now_us();
  say("fault #{}: link {}-{} cut (node {} drops everything to and from {}); {} flow(s) crossed it", number, link.first,
      link.second, link.first, link.second, by_link[link].size());
  auto outcomes = measure(by_link[link], t, heal_at);
  report(fmt::format("link {}-{} cut", link.first, link.second), outcomes, heal_at);
  faults_.push_back(FaultRecord{"link cut", outcomes});
  sleep_until(heal_at);
  // Heal even on Ctrl-C: the processes are about to stop, but a half-cut mesh should never be left behind.
  if (Status s = api::set_drop("127.0.0.1", a_http, b_addr, false); !s.ok()) {
    say("could not heal link {}-{}: {}", link.first, link.second, s.message());
  } else if (!g_stop) {
    say("link {}-{} healed", link.first, link.second);
  }
}

void Demo::summary() {
  std::cout << "\nsummary after " << fmt::format("{:.0f}", elapsed()) << " s: " << faults_.size()
            << " fault(s) injected\n";
  std::map<std::string, std::vector<double>> outages;
  std::map<std::string, std::pair<int, int>> counts;  // faults, faults with an unrecovered flow
  for (const auto& f : faults_) {
    auto& c = counts[f.kind];
    ++c.first;
    double worst = 0;
    bool all = true;
    for (const auto& o : f.outcomes) {
      all = all && o.recovered;
      worst = std::max(worst, static_cast<double>(o.outage_us) / 1000.0);
    }
    if (!all) ++c.second;
    if (all && !f.outcomes.empty()) outages[f.kind].push_back(worst);
  }
  for (auto& [kind, c] : counts) {
    auto& v = outages[kind];
    std::sort(v.begin(), v.end());
    std::cout << fmt::format("  {:<10} {:>3} injected", kind, c.first);
    if (!v.empty()) {
      std::cout << fmt::format(", recovery (worst affected flow's delivery gap) p50 {:.0f} ms, max {:.0f} ms",
                               v[v.size() / 2], v.back());
    }
    std::cout << fmt::format(", {} with a flow not recovered before the fault ended\n", c.second);
  }
  std::cout << "  node logs: " << s_.work_dir << "\n";
}

int Demo::run() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  // Plan: a ring with chords; each node sends to `flows_per_node` others, preferring ones it is not linked to.
  for (int i = 1; i <= s_.nodes; ++i) {
    if (Status s = mesh_.add_node(static_cast<NodeId>(i)); !s.ok()) {
      std::cerr << "meshloop demo: " << s.message() << "\n";
      return 1;
    }
  }
  std::set<std::pair<NodeId, NodeId>> linked;
  for (auto [a, b] : transport::ring_with_chords(s_.nodes)) {
    (void)mesh_.link(a, b);
    linked.insert({a, b});
    linked.insert({b, a});
  }
  for (int i = 1; i <= s_.nodes; ++i) {
    std::vector<NodeId> far, near;
    for (int j = 1; j <= s_.nodes; ++j) {
      if (j == i) continue;
      (linked.count({static_cast<NodeId>(i), static_cast<NodeId>(j)}) ? near : far).push_back(static_cast<NodeId>(j));
    }
    std::shuffle(far.begin(), far.end(), rng_);
    std::shuffle(near.begin(), near.end(), rng_);
    far.insert(far.end(), near.begin(), near.end());
    for (int k = 0; k < s_.flows_per_node && k < static_cast<int>(far.size()); ++k) {
      mesh_.add_traffic(static_cast<NodeId>(i), transport::TrafficSpec{far[k], s_.rate});
      flows_.push_back(Flow{static_cast<NodeId>(i), far[k], static_cast<std::uint32_t>(k)});
    }
  }
  std::cout << fmt::format(
                   "meshloop demo: {} nodes on 127.0.0.1 in a ring with chords ({} links), {} flows at {:g} "
                   "packets/s, hello {} ms x {}, a fault every {:g} s{}\n",
                   s_.nodes, mesh_.links().size(), flows_.size(), s_.rate, s_.hello.count() / 1000, s_.dead_multiplier,
                   to_seconds(s_.fault_interval),
                   s_.duration > Duration::zero() ? fmt::format(" for {:g} s", to_seconds(s_.duration))
                                                  : std::string(" until Ctrl-C"))
            << fmt::format("  node logs in {}; each node's API: http://127.0.0.1:<port>/api/v1/status\n", s_.work_dir);
  for (auto& [id, n] : mesh_.nodes()) {
    std::string peers;
    for (NodeId p : n.peers) peers += (peers.empty() ? "" : ",") + std::to_string(p);
    std::cout << fmt::format("  node {}: udp {}  api http://127.0.0.1:{}  peers {}\n", id, transport::to_string(n.udp),
                             n.http_port, peers);
  }
  std::cout.flush();
  start_us_ = unix_now_us();
  if (Status s = mesh_.start_all(); !s.ok()) {
    std::cerr << "meshloop demo: " << s.message() << "\n";
    return 1;
  }
  std::optional<DemoPrometheus> prometheus;
  if (s_.prometheus) {
    DemoPrometheusOptions po;
    po.work_dir = s_.work_dir;
    po.port = s_.prometheus_port;
    po.alert_rules = s_.alert_rules;
    for (const auto& [id, n] : mesh_.nodes()) po.targets.push_back(n.http_port);
    auto started = DemoPrometheus::start(po);
    if (!started.ok()) {
      std::cerr << "meshloop demo: " << started.status().message() << " (--prometheus off runs without it)\n";
      return 1;
    }
    prometheus = std::move(started).value();
    say("Prometheus: http://127.0.0.1:{}/  (scraping {} nodes every 2 s{}; try meshloop_mesh_neighbours)",
        prometheus->port(), mesh_.nodes().size(),
        s_.alert_rules.empty() ? std::string() : ", alert rules " + s_.alert_rules);
  }
  if (!wait_for_convergence()) {
    if (g_stop) return 0;
    say("the mesh did not converge within 30 s; see the node logs in {}", s_.work_dir);
    for (auto& [id, n] : mesh_.nodes()) {
      if (!mesh_.running(id)) {
        say("node {} is not running ({})", id,
            n.process.exit_status() ? transport::describe_wait_status(*n.process.exit_status()) : "?");
      }
    }
    return 1;
  }
  say("converged: every node routes to every other, all {} flows deliver", flows_.size());
  const int first_api = mesh_.nodes().begin()->second.http_port;
  say("status page: http://127.0.0.1:{}/  (node {}'s view: topology, incidents, PDR; every node serves one)", first_api,
      mesh_.nodes().begin()->first);
  say("traces: {}", std::getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != nullptr
                        ? fmt::format("OTLP to {}", std::getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
                        : s_.work_dir + "/node-<id>.traces.jsonl (OTLP JSON lines)");
  int number = 0;
  std::int64_t next = unix_now_us() + s_.fault_interval.count() / 2;
  while (!done()) {
    if (!sleep_until(next) || done()) break;
    one_fault(++number);
    next += s_.fault_interval.count();
    if (next < unix_now_us()) next = unix_now_us() + s_.fault_interval.count() / 4;
  }
  summary();
  if (prometheus) prometheus->stop();
  return 0;
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "demo", "Run a live mesh of real node processes on 127.0.0.1, inject faults, and show how fast it heals");
  cmd->footer(
      "Starts N `meshloop node` processes (a ring with chords, free ports) sending traffic to each other, then "
      "every --fault-interval cuts a link (driver-level drop through a node's HTTP API) or crashes a node "
      "(SIGKILL), heals it half an interval later, and prints how long the affected flows' delivery paused. "
      "Each node runs its MAPE-K loop; the demo prints the decisions that act, with their reasons. "
      "A Prometheus (--prometheus) scrapes every node's /metrics and evaluates --alert-rules. "
      "Ctrl-C prints a summary and stops every process it started.");
  auto options = std::make_shared<LayeredOptions>(*cmd);
  options->add("demo.nodes", "--nodes", "Number of nodes (3..64)", "8");
  options->add("demo.duration", "--duration", "How long to run (0: until Ctrl-C)", "0");
  options->add("demo.fault_interval", "--fault-interval", "Time between faults", "5s");
  options->add("demo.seed", "--seed", "Seed for flows and fault choices", "1");
  options->add("demo.binary", "--binary", "The meshloop executable to run nodes with", "this executable");
  options->add("demo.rate", "--rate", "Packets per second of each flow", "20");
  options->add("demo.flows_per_node", "--flows-per-node", "Flows each node sends", "2");
  options->add("mesh.hello_interval", "--hello-interval", "Nodes' hello interval", "100ms");
  options->add("mesh.dead_multiplier", "--dead-multiplier", "Nodes' dead multiplier", "3");
  options->add("mesh.key", "--key", "Mesh key given to the nodes", "a random key");
  options->add("demo.work_dir", "--work-dir", "Directory for the node logs", "a new temporary directory");
  options->add("log.level", "--log-level", "Nodes' log level", "info");
  options->add("demo.prometheus", "--prometheus", "Run a Prometheus scraping the nodes (on or off)", "on");
  options->add("demo.prometheus_port", "--prometheus-port", "Prometheus's port on 127.0.0.1 (taken: any free one)",
               "9090");
  options->add("demo.alert_rules", "--alert-rules", "Prometheus alert rules to load ('none': none)",
               "deploy/alerts/meshloop.rules.yml of the source tree");
  cmd->callback([options] {
    auto fail = [](const std::string& m) {
      std::cerr << "meshloop demo: " << m << "\n";
      exit_code() = 2;
    };
    auto config = options->resolve();
    if (!config.ok()) return fail(config.status().message());
    DemoSettings s;
    auto nodes = config->get_int("demo.nodes", 8);
    if (!nodes.ok()) return fail(nodes.status().message());
    if (*nodes < 3 || *nodes > 64) return fail("--nodes must be between 3 and 64");
    s.nodes = static_cast<int>(*nodes);
    auto duration = config->get_duration("demo.duration", Duration::zero());
    if (!duration.ok()) return fail(duration.status().message());
    s.duration = *duration;
    auto interval = config->get_duration("demo.fault_interval", seconds(5));
    if (!interval.ok()) return fail(interval.status().message());
    if (*interval < seconds(2)) return fail("--fault-interval must be at least 2s (faults last half of it)");
    s.fault_interval = *interval;
    auto seed = config->get_int("demo.seed", 1);
    if (!seed.ok()) return fail(seed.status().message());
    s.seed = static_cast<std::uint64_t>(*seed);
    auto rate = config->get_double("demo.rate", 20);
    if (!rate.ok()) return fail(rate.status().message());
    if (!(*rate >= 1 && *rate <= 1000)) return fail("--rate must be between 1 and 1000 packets/s");
    s.rate = *rate;
    auto fpn = config->get_int("demo.flows_per_node", 2);
    if (!fpn.ok()) return fail(fpn.status().message());
    if (*fpn < 1 || *fpn > 8) return fail("--flows-per-node must be between 1 and 8");
    s.flows_per_node = static_cast<int>(*fpn);
    auto hello = config->get_duration("mesh.hello_interval", milliseconds(100));
    if (!hello.ok()) return fail(hello.status().message());
    s.hello = *hello;
    auto mult = config->get_int("mesh.dead_multiplier", 3);
    if (!mult.ok()) return fail(mult.status().message());
    s.dead_multiplier = static_cast<int>(*mult);
    s.log_level = config->get_string("log.level", "info");
    const std::string prom = config->get_string("demo.prometheus", "on");
    if (prom != "on" && prom != "off") return fail("--prometheus must be on or off, not '" + prom + "'");
    s.prometheus = prom == "on";
    auto prom_port = config->get_int("demo.prometheus_port", 9090);
    if (!prom_port.ok()) return fail(prom_port.status().message());
    if (*prom_port < 0 || *prom_port > 65535) return fail("--prometheus-port must be between 0 and 65535");
    s.prometheus_port = static_cast<int>(*prom_port);
    s.alert_rules = config->get_string("demo.alert_rules", default_alert_rules());
    if (s.alert_rules == "none") s.alert_rules.clear();
    std::error_code ec;
    s.binary = config->get_string("demo.binary", std::filesystem::read_symlink("/proc/self/exe", ec).string());
    if (s.work_dir = config->get_string("demo.work_dir", ""); s.work_dir.empty()) {
      auto dir = transport::make_temp_dir("meshloop-demo");
      if (!dir.ok()) return fail(dir.status().message());
      s.work_dir = *dir;
    } else {
      std::filesystem::create_directories(s.work_dir, ec);
      if (ec) return fail("cannot create " + s.work_dir + ": " + ec.message());
    }
    transport::LocalMesh::Options mo;
    mo.binary = s.binary;
    mo.work_dir = s.work_dir;
    mo.hello_interval = s.hello;
    mo.dead_multiplier = s.dead_multiplier;
    mo.log_level = s.log_level;
    // Traces: to OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the nodes inherit it), else one file per node here.
    mo.extra_args = {"--trace-file", s.work_dir + "/node-{id}.traces.jsonl"};
    std::random_device rd;
    mo.key =
        config->get_string("mesh.key", fmt::format("demo-{:016x}{:08x}", (std::uint64_t{rd()} << 32) | rd(), rd()));
    transport::LocalMesh mesh(mo);
    Demo demo(s, mesh);
    exit_code() = demo.run();
    mesh.stop_all();
  });
}

}  // namespace meshloop::cli
