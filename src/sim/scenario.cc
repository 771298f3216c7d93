#include "sim/scenario.h"

#include <algorithm>

namespace meshloop::sim {

const std::vector<ScenarioKey>& scenario_keys() {
  static const std::vector<ScenarioKey> keys = {
      {"sim.name", "--name", "Scenario name (for reports)", "adhoc"},
      {"sim.nodes", "--nodes", "Number of nodes (ids 1..N)", "50"},
      {"sim.topology", "--topology", "grid | rgg (random geometric) | ba (Barabasi-Albert) | file", "rgg"},
      {"sim.topology_file", "--topology-file", "Edge list for --topology file: one 'u v' pair a line", ""},
      {"sim.degree", "--degree", "Mean degree (rgg, ba)", "8"},
      {"sim.seed", "--seed", "Seed of every random draw in the run", "1"},
      {"sim.duration", "--duration", "Virtual run length", "120s"},
      {"sim.warmup", "--warmup", "Initial convergence time: no traffic or faults before it", "20s"},
      {"sim.faults", "--faults", "Number of random faults", "10"},
      {"sim.fault_kinds", "--fault-kinds",
       "Comma list of link_cut,node_crash,loss_burst,partition,flapping,degradation,gray_hole,overload,"
       "regime_change (all: the first six, which routing sees; every: all nine)",
       "all"},
      {"sim.fault_min", "--fault-min", "Shortest fault", "5s"},
      {"sim.fault_max", "--fault-max", "Longest fault", "30s"},
      {"sim.fault_list", "--fault-list",
       "Explicit faults instead of random ones, comma list of '<kind> <element> <start> <duration>'", ""},
      {"sim.burst_loss", "--burst-loss", "Loss rate of a loss_burst fault", "0.5"},
      {"sim.degradation_max_loss", "--degradation-max-loss", "Loss a degradation fault ramps up to", "0.8"},
      {"sim.flap_period", "--flap-period", "Down+up cycle of a flapping link", "4s"},
      {"sim.gray_hole_drop", "--gray-hole-drop", "Share of forwarded data a gray_hole node drops", "1"},
      {"sim.overload_drop", "--overload-drop", "Share of sent data an overloaded node's queues drop", "0.3"},
      {"sim.regime_loss", "--regime-loss", "Background loss a regime_change adds on every link direction", "0.05"},
      {"sim.flows", "--flows", "Number of CBR flows between random node pairs", "10"},
      {"sim.rate", "--rate", "Packets per second per flow", "10"},
      {"sim.payload", "--payload", "Payload bytes per data packet (>= 16)", "64"},
      {"sim.loss", "--loss", "Background Bernoulli loss per link direction", "0"},
      {"sim.delay", "--delay", "Link propagation delay", "2ms"},
      {"sim.jitter", "--jitter", "Uniform extra delay in [0, jitter]", "0"},
      {"sim.bandwidth", "--bandwidth", "Link bandwidth in bit/s (0: unlimited)", "10000000"},
      {"sim.queue_bytes", "--queue-bytes", "Drop-tail queue per link direction", "65536"},
      {"sim.ge_p_good_bad", "--ge-p-good-bad", "Gilbert-Elliott good->bad probability per packet (0: off)", "0"},
      {"sim.ge_p_bad_good", "--ge-p-bad-good", "Gilbert-Elliott bad->good probability per packet", "0.25"},
      {"sim.ge_loss_good", "--ge-loss-good", "Gilbert-Elliott loss in the good state", "0"},
      {"sim.ge_loss_bad", "--ge-loss-bad", "Gilbert-Elliott loss in the bad state", "1"},
      {"sim.hello_interval", "--hello-interval", "Protocol hello interval", "200ms"},
      {"sim.dead_multiplier", "--dead-multiplier", "Hellos missed before a neighbour is declared down", "3"},
      {"sim.protocols", "--protocols", "Comma list of protocols to run on the same scenario", "meshloop"},
      {"sim.mapek", "--mapek",
       "MAPE-K loop: off, on (meshloop runs twice, without and with the loop, on the same scenario) or observe", "off"},
      {"sim.mapek_model", "--mapek-model", "GraphSAGE model the loops load ('none': learned thresholds only)",
       "models/graphsage-default.bin"},
  };
  return keys;
}

Result<ScenarioParams> params_from_config(const Config& c) {
  ScenarioParams p;
  // Reads one typed key or returns its error.
#define MESHLOOP_READ(var, getter, key)             \
  do {                                              \
    auto r = c.getter(key, var);                    \
    if (!r.ok()) return r.status();                 \
    var = *r;                                       \
  } while (0)
  p.name = c.get_string("sim.name", p.name);
  std::int64_t nodes = static_cast<std::int64_t>(p.nodes);
  MESHLOOP_READ(nodes, get_int, "sim.nodes");
  if (nodes < 2 || nodes > 1'000'000) return Status::InvalidArgument("sim.nodes must be in 2..1000000");
  p.nodes = static_cast<std::size_t>(nodes);
  p.topology = c.get_string("sim.topology", p.topology);
  if (p.topology != "grid" && p.topology != "rgg" && p.topology != "ba" && p.topology != "file") {
    return Status::InvalidArgument("sim.topology must be grid, rgg, ba or file, not '" + p.topology + "'");
  }
  p.topology_file = c.get_string("sim.topology_file", p.topology_file);
  MESHLOOP_READ(p.degree, get_double, "sim.degree");
  std::int64_t seed = static_cast<std::int64_t>(p.seed);
  MESHLOOP_READ(seed, get_int, "sim.seed");
  p.seed = static_cast<std::uint64_t>(seed);
  MESHLOOP_READ(p.duration, get_duration, "sim.duration");
  MESHLOOP_READ(p.warmup, get_duration, "sim.warmup");
  std::int64_t faults = p.faults;
  MESHLOOP_READ(faults, get_int, "sim.faults");
  if (faults < 0) return Status::InvalidArgument("sim.faults must be >= 0");
  p.faults = static_cast<int>(faults);
  if (c.has("sim.fault_kinds")) {
    auto kinds = parse_fault_kinds(c.get_list("sim.fault_kinds"));
    if (!kinds.ok()) return Status::InvalidArgument("sim.fault_kinds: " + kinds.status().message());
    p.fault_kinds = *kinds;
  }
  MESHLOOP_READ(p.fault_min, get_duration, "sim.fault_min");
  MESHLOOP_READ(p.fault_max, get_duration, "sim.fault_max");
  p.fault_list = c.get_list("sim.fault_list");
  MESHLOOP_READ(p.fault.burst_loss, get_double, "sim.burst_loss");
  MESHLOOP_READ(p.fault.degradation_max_loss, get_double, "sim.degradation_max_loss");
  MESHLOOP_READ(p.fault.flap_period, get_duration, "sim.flap_period");
  MESHLOOP_READ(p.fault.gray_hole_drop, get_double, "sim.gray_hole_drop");
  MESHLOOP_READ(p.fault.overload_drop, get_double, "sim.overload_drop");
  MESHLOOP_READ(p.fault.regime_loss, get_double, "sim.regime_loss");
  std::int64_t flows = p.flows;
  MESHLOOP_READ(flows, get_int, "sim.flows");
  if (flows < 0) return Status::InvalidArgument("sim.flows must be >= 0");
  p.flows = static_cast<int>(flows);
  MESHLOOP_READ(p.rate, get_double, "sim.rate");
  if (p.rate <= 0 || p.rate > 100000) return Status::InvalidArgument("sim.rate must be in (0, 100000]");
  std::int64_t payload = static_cast<std::int64_t>(p.payload_bytes);
  MESHLOOP_READ(payload, get_int, "sim.payload");
  if (payload < static_cast<std::int64_t>(kPayloadHeader) || payload > 1200) {
    return Status::InvalidArgument("sim.payload must be in 16..1200 bytes");
  }
  p.payload_bytes = static_cast<std::size_t>(payload);
  MESHLOOP_READ(p.link.loss, get_double, "sim.loss");
  MESHLOOP_READ(p.link.delay, get_duration, "sim.delay");
  MESHLOOP_READ(p.link.jitter, get_duration, "sim.jitter");
  MESHLOOP_READ(p.link.bandwidth_bps, get_double, "sim.bandwidth");
  std::int64_t queue = p.link.queue_bytes;
  MESHLOOP_READ(queue, get_int, "sim.queue_bytes");
  if (queue < 1500) return Status::InvalidArgument("sim.queue_bytes must be at least 1500");
  p.link.queue_bytes = static_cast<std::uint32_t>(queue);
  MESHLOOP_READ(p.link.bursts.p_good_to_bad, get_double, "sim.ge_p_good_bad");
  MESHLOOP_READ(p.link.bursts.p_bad_to_good, get_double, "sim.ge_p_bad_good");
  MESHLOOP_READ(p.link.bursts.loss_good, get_double, "sim.ge_loss_good");
  MESHLOOP_READ(p.link.bursts.loss_bad, get_double, "sim.ge_loss_bad");
  MESHLOOP_READ(p.hello_interval, get_duration, "sim.hello_interval");
  std::int64_t mult = p.dead_multiplier;
  MESHLOOP_READ(mult, get_int, "sim.dead_multiplier");
  if (mult < 1 || mult > 100) return Status::InvalidArgument("sim.dead_multiplier must be in 1..100");
  p.dead_multiplier = static_cast<int>(mult);
  if (c.has("sim.protocols")) p.protocols = c.get_list("sim.protocols");
  if (p.protocols.empty()) return Status::InvalidArgument("sim.protocols is empty");
  p.mapek = c.get_string("sim.mapek", p.mapek);
  if (p.mapek != "off" && p.mapek != "on" && p.mapek != "observe") {
    return Status::InvalidArgument("sim.mapek must be off, on or observe, not '" + p.mapek + "'");
  }
  p.mapek_model = c.get_string("sim.mapek_model", p.mapek_model);
#undef MESHLOOP_READ
  for (double prob : {p.link.loss, p.link.bursts.p_good_to_bad, p.link.bursts.p_bad_to_good, p.link.bursts.loss_good,
                      p.link.bursts.loss_bad, p.fault.burst_loss, p.fault.degradation_max_loss,
                      p.fault.gray_hole_drop, p.fault.overload_drop, p.fault.regime_loss}) {
    if (prob < 0 || prob > 1) return Status::InvalidArgument("loss rates and probabilities must be in [0, 1]");
  }
  if (p.duration <= p.warmup) return Status::InvalidArgument("sim.duration must be longer than sim.warmup");
  if (p.link.delay < Duration{0} || p.link.jitter < Duration{0}) {
    return Status::InvalidArgument("sim.delay and sim.jitter must not be negative");
  }
  if (p.hello_interval <= Duration{0}) return Status::InvalidArgument("sim.hello_interval must be positive");
  return p;
}

Result<Scenario> build_scenario(const ScenarioParams& params) {
  Topology topo;
  if (params.topology == "grid") {
    topo = make_grid(params.nodes);
  } else if (params.topology == "rgg") {
    topo = make_rgg(params.nodes, params.degree, params.seed);
  } else if (params.topology == "ba") {
    topo = make_ba(params.nodes, params.degree, params.seed);
  } else {
    if (params.topology_file.empty()) return Status::InvalidArgument("--topology file needs --topology-file");
    auto loaded = load_edge_list(params.topology_file);
    if (!loaded.ok()) return loaded.status();
    topo = std::move(loaded).value();
  }
  if (topo.n < 2) return Status::InvalidArgument("a scenario needs at least two nodes");
  Scenario sc{params, topo, Adjacency(topo), {}, {}};
  sc.params.nodes = topo.n;
  if (!params.fault_list.empty()) {
    for (const auto& spec : params.fault_list) {
      auto f = parse_fault(spec, topo);
      if (!f.ok()) return f.status();
      if (f->end > sc.end()) return Status::InvalidArgument("fault '" + spec + "' ends after the run");
      sc.faults.push_back(std::move(f).value());
    }
    std::stable_sort(sc.faults.begin(), sc.faults.end(),
                     [](const Fault& a, const Fault& b) { return a.start < b.start; });
  } else {
    FaultScheduleParams fp;
    fp.count = params.faults;
    fp.kinds = params.fault_kinds;
    fp.min_duration = params.fault_min;
    fp.max_duration = params.fault_max;
    fp.earliest = at(params.warmup) + seconds(1);
    fp.latest_end = sc.end() - params.tail;
    fp.seed = params.seed;
    auto faults = make_fault_schedule(topo, fp);
    if (!faults.ok()) return faults.status();
    sc.faults = std::move(faults).value();
  }
  sc.flows = make_flows(topo.n, params.flows, params.rate, at(params.warmup), params.seed);
  return sc;
}

}  // namespace meshloop::sim
