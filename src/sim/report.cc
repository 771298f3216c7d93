#include "sim/report.h"

#include <algorithm>

#include <fmt/format.h>

namespace meshloop::sim {
namespace {

using nlohmann::json;

json summary_json(const Summary& s) {
  if (s.count == 0) return json{{"p50", nullptr}, {"p95", nullptr}, {"max", nullptr}, {"count", 0}};
  return json{{"p50", s.p50}, {"p95", s.p95}, {"max", s.max}, {"count", s.count}};
}

// The parameters, losses and counts of the kinds routing cannot see appear only when the scenario uses them, so that
// reports of scenarios written before those kinds existed stay byte-identical.
bool uses_kind(const Scenario& sc, FaultKind k) {
  const auto& kinds = sc.params.fault_kinds;
  return (sc.params.fault_list.empty() && sc.params.faults > 0 &&
          std::find(kinds.begin(), kinds.end(), k) != kinds.end()) ||
         std::any_of(sc.faults.begin(), sc.faults.end(), [k](const Fault& f) { return f.kind == k; });
}

std::string duration_text(Duration d) { return fmt::format("{}s", to_seconds(d)); }

std::string fmt_summary(const Summary& s, int precision = 3) {
  if (s.count == 0) return "-";
  return fmt::format("{:.{}f} / {:.{}f} / {:.{}f} (n={})", s.p50, precision, s.p95, precision, s.max, precision,
                     s.count);
}

}  // namespace

json scenario_json(const Scenario& sc) {
  const ScenarioParams& p = sc.params;
  json kinds = json::array();
  for (FaultKind k : p.fault_kinds) kinds.push_back(fault_kind_name(k));
  json faults = json::array();
  for (const Fault& f : sc.faults) {
    faults.push_back(json{{"kind", fault_kind_name(f.kind)},
                          {"element", f.element(sc.topo)},
                          {"start_s", to_seconds(f.start)},
                          {"end_s", to_seconds(f.end)}});
  }
  json flows = json::array();
  for (const Flow& f : sc.flows) flows.push_back(json{{"src", f.src}, {"dst", f.dst}});
  json out{
      {"name", p.name},
      {"nodes", sc.topo.n},
      {"links", sc.topo.edges.size()},
      {"topology", p.topology},
      {"topology_file", p.topology_file},
      {"degree", p.degree},
      {"mean_degree", sc.topo.mean_degree()},
      {"rgg_radius", sc.topo.radius},
      {"rgg_attempts", sc.topo.attempts},
      {"rgg_bridged_components", sc.topo.bridged_components},
      {"seed", p.seed},
      {"duration_s", to_seconds(p.duration)},
      {"warmup_s", to_seconds(p.warmup)},
      {"faults", sc.faults.size()},
      {"fault_kinds", kinds},
      {"fault_min_s", to_seconds(p.fault_min)},
      {"fault_max_s", to_seconds(p.fault_max)},
      {"burst_loss", p.fault.burst_loss},
      {"degradation_max_loss", p.fault.degradation_max_loss},
      {"flap_period_s", to_seconds(p.fault.flap_period)},
      {"flows", sc.flows.size()},
      {"rate_pps", p.rate},
      {"payload_bytes", p.payload_bytes},
      {"link", json{{"delay_s", to_seconds(p.link.delay)},
                    {"jitter_s", to_seconds(p.link.jitter)},
                    {"loss", p.link.loss},
                    {"bandwidth_bps", p.link.bandwidth_bps},
                    {"queue_bytes", p.link.queue_bytes},
                    {"ge_p_good_bad", p.link.bursts.p_good_to_bad},
                    {"ge_p_bad_good", p.link.bursts.p_bad_to_good},
                    {"ge_loss_good", p.link.bursts.loss_good},
                    {"ge_loss_bad", p.link.bursts.loss_bad}}},
      {"hello_interval_s", to_seconds(p.hello_interval)},
      {"dead_multiplier", p.dead_multiplier},
      {"protocols", p.protocols},
      {"ground_truth", json{{"faults", faults}, {"flows", flows}}},
  };
  if (uses_kind(sc, FaultKind::kGrayHole)) out["gray_hole_drop"] = p.fault.gray_hole_drop;
  if (uses_kind(sc, FaultKind::kOverload)) out["overload_drop"] = p.fault.overload_drop;
  if (uses_kind(sc, FaultKind::kRegimeChange)) {
    out["regime_loss"] = p.fault.regime_loss;
    out["shifts"] = std::count_if(sc.faults.begin(), sc.faults.end(), [](const Fault& f) { return f.is_shift(); });
  }
  return out;
}

json protocol_json(const Scenario& sc, const RunStats& run) {
  const Score& s = run.score;
  json losses{{"link", run.lost_on_link},
              {"link_down", run.lost_link_down},
              {"queue_full", run.lost_queue_full},
              {"node_down", run.lost_node_down}};
  if (uses_kind(sc, FaultKind::kGrayHole)) losses["gray_hole"] = run.lost_gray_hole;
  if (uses_kind(sc, FaultKind::kOverload)) losses["overload"] = run.lost_overload;
  json by_kind = json::object();
  for (const auto& [kind, summary] : s.mttr_by_kind) by_kind[kind] = summary_json(summary);
  json faults = json::array();
  for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
    const FaultOutcome& o = s.outcomes[i];
    json f{{"kind", fault_kind_name(sc.faults[i].kind)},
           {"element", sc.faults[i].element(sc.topo)},
           {"start_s", to_seconds(sc.faults[i].start)},
           {"end_s", to_seconds(sc.faults[i].end)},
           {"status", fault_status_name(o.status)},
           {"covered_flows", o.covered_flows},
           {"excluded_flows", o.excluded_flows},
           {"broken_flows", o.broken_flows},
           {"attributed_elsewhere", o.attributed_elsewhere},
           {"mttr_s", o.mttr_s ? json(*o.mttr_s) : json(nullptr)},
           {"resume_s", o.resume_s ? json(*o.resume_s) : json(nullptr)}};
    faults.push_back(std::move(f));
  }
  json events = json::object();
  for (const auto& [k, v] : run.agent_events) events[k] = v;
  auto runs_json = [](const std::vector<Score::LossRun>& runs) {
    json out = json::array();
    for (const auto& lr : runs) out.push_back(json{{"flow", lr.flow}, {"start_s", lr.start_s}, {"packets", lr.packets}});
    return out;
  };
  return json{
      {"pdr", s.pdr},
      {"packets", json{{"sent", s.sent},
                       {"delivered", s.delivered},
                       {"disconnected_sent", s.disconnected_sent},
                       {"disconnected_delivered", s.disconnected_delivered},
                       {"tail_excluded", s.tail_excluded},
                       {"duplicates", s.duplicates},
                       {"misdelivered", run.misdelivered}}},
      {"latency_ms", summary_json(s.latency_ms)},
      {"mttr_s", summary_json(s.mttr_s)},
      {"mttr_by_kind", by_kind},
      {"faults_total", s.faults},
      {"faults_breaking_flows", s.faults_breaking_flows},
      {"broken_flows", s.broken_flows},
      {"unrecovered_faults", s.unrecovered_faults},
      {"unrecovered_by_routing", s.unrecovered_by_routing},
      {"control_bytes_per_node_s", run.control_bytes_per_node_s},
      {"control_bytes", run.control_bytes},
      {"control_packets", run.control_packets},
      {"data_transmissions", run.data_transmissions},
      {"losses", losses},
      {"convergence_s", run.convergence_s ? json(*run.convergence_s) : json(nullptr)},
      {"agent_events", events},
      {"lost_outside_faults", s.lost_outside_faults},
      {"longest_loss_runs", runs_json(s.longest_loss_runs)},
      {"longest_unexplained_runs", runs_json(s.longest_unexplained_runs)},
      {"events", run.events},
      {"faults", faults},
  };
}

json report_json(const Scenario& sc, const std::vector<RunStats>& runs) {
  json protocols = json::object();
  json per = json::object();
  std::uint64_t events = 0;
  double wall = 0;
  for (const RunStats& r : runs) {
    // batman-adv, the protocol meshloop is measured against, goes under "baseline" (same keys, plus its name), so
    // tooling reads every head-to-head report the same way; any other protocol under its own name.
    const std::string key = r.protocol == "batman" ? "baseline" : r.protocol;
    protocols[key] = protocol_json(sc, r);
    protocols[key]["name"] = r.protocol;
    per[key] = json{{"events", r.events},
                           {"wall_s", r.wall_s},
                           {"events_per_s", r.wall_s > 0 ? static_cast<double>(r.events) / r.wall_s : 0.0}};
    events += r.events;
    wall += r.wall_s;
  }
  return json{{"scenario", scenario_json(sc)},
              {"protocols", protocols},
              {"sim", json{{"events", events},
                           {"wall_s", wall},
                           {"virtual_s", to_seconds(sc.params.duration)},
                           {"events_per_s", wall > 0 ? static_cast<double>(events) / wall : 0.0},
                           {"per_protocol", per}}}};
}

std::string report_table(const Scenario& sc, const std::vector<RunStats>& runs) {
  const ScenarioParams& p = sc.params;
  std::string out = fmt::format(
      "scenario {}: {} nodes, {} links ({} topology, mean degree {:.2f}), {} virtual, seed {}\n"
      "  {} flows at {} pkt/s, {} faults ({}..{}), warm-up {}\n\n",
      p.name, sc.topo.n, sc.topo.edges.size(), p.topology, sc.topo.mean_degree(), duration_text(p.duration), p.seed,
      sc.flows.size(), p.rate, sc.faults.size(), duration_text(p.fault_min), duration_text(p.fault_max),
      duration_text(p.warmup));
  auto row = [&](const std::string& label, auto&& cell) {
    out += fmt::format("  {:<34}", label);
    for (const RunStats& r : runs) out += fmt::format(" {:>34}", cell(r));
    out += "\n";
  };
  row("protocol", [](const RunStats& r) { return r.protocol; });
  row("PDR (connected pairs)", [](const RunStats& r) {
    return fmt::format("{:.4f}% ({}/{})", 100.0 * r.score.pdr, r.score.delivered, r.score.sent);
  });
  row("sent while disconnected (apart)", [](const RunStats& r) { return std::to_string(r.score.disconnected_sent); });
  row("latency ms p50/p95/max", [](const RunStats& r) { return fmt_summary(r.score.latency_ms, 2); });
  row("MTTR s p50/p95/max", [](const RunStats& r) { return fmt_summary(r.score.mttr_s); });
  for (const auto& [kind, unused] : runs.empty() ? std::map<std::string, Summary>{} : runs[0].score.mttr_by_kind) {
    row("  " + kind, [&](const RunStats& r) {
      auto it = r.score.mttr_by_kind.find(kind);
      return it == r.score.mttr_by_kind.end() ? std::string("-") : fmt_summary(it->second);
    });
  }
  row("faults breaking flows / total", [](const RunStats& r) {
    return fmt::format("{}/{} ({} flows)", r.score.faults_breaking_flows, r.score.faults, r.score.broken_flows);
  });
  row("lost packets no fault explains", [](const RunStats& r) { return std::to_string(r.score.lost_outside_faults); });
  row("unrecovered faults", [](const RunStats& r) { return std::to_string(r.score.unrecovered_faults); });
  row("unrecovered by routing (healed 1st)", [](const RunStats& r) { return std::to_string(r.score.unrecovered_by_routing); });
  row("control bytes/node/s", [](const RunStats& r) { return fmt::format("{:.1f}", r.control_bytes_per_node_s); });
  row("initial convergence", [](const RunStats& r) {
    return r.convergence_s ? fmt::format("{:.2f}s", *r.convergence_s) : std::string("not reached");
  });
  row("events (events/s wall)", [](const RunStats& r) {
    return fmt::format("{} ({:.0f}/s)", r.events, r.wall_s > 0 ? static_cast<double>(r.events) / r.wall_s : 0.0);
  });
  row("wall time", [](const RunStats& r) { return fmt::format("{:.2f}s", r.wall_s); });
  return out;
}

}  // namespace meshloop::sim
