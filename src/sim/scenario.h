// sim::Scenario: every parameter of a simulated experiment, and the world it describes (topology, fault schedule,
// flows) built once from them so that all protocols under comparison run on exactly the same inputs.
//
// Parameters come from a layered Config (scenario YAML < MESHLOOP_SIM_* environment < flags); scenario_keys() is
// the single list of keys, flags and help texts, used by `meshloop sim` to declare its options and by
// params_from_config() to read them. Defaults are documented in docs/simulator.md.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"
#include "core/time.h"
#include "sim/faults.h"
#include "sim/link_model.h"
#include "sim/topology.h"
#include "sim/traffic.h"

namespace meshloop::sim {

struct ScenarioParams {
  std::string name = "adhoc";
  std::size_t nodes = 50;
  std::string topology = "rgg";  // grid | rgg | ba | file
  std::string topology_file;
  double degree = 8;
  std::uint64_t seed = 1;
  Duration duration = seconds(120);
  Duration warmup = seconds(20);  // no traffic and no faults before this (initial convergence)
  int faults = 10;
  std::vector<FaultKind> fault_kinds = {FaultKind::kLinkCut,  FaultKind::kNodeCrash, FaultKind::kLossBurst,
                                        FaultKind::kPartition, FaultKind::kFlapping, FaultKind::kDegradation};
  Duration fault_min = seconds(5);
  Duration fault_max = seconds(30);
  std::vector<std::string> fault_list;  // explicit faults; when non-empty they replace the random schedule
  FaultParams fault;
  int flows = 10;
  double rate = 10;                  // packets per second per flow
  std::size_t payload_bytes = 64;
  LinkParams link;
  Duration hello_interval = milliseconds(200);
  int dead_multiplier = 3;
  std::vector<std::string> protocols = {"meshloop"};
  Duration tail = seconds(5);
  // The MAPE-K loop in `meshloop sim` (off | on | observe), and the GraphSAGE model its loops load ("none": thresholds).
  std::string mapek = "off";
  std::string mapek_model = "models/graphsage-default.bin";  // faults end at least this long before the run ends (room for recovery windows)
};

struct ScenarioKey {
  const char* key;      // "sim.nodes"
  const char* flag;     // "--nodes"
  const char* help;
  const char* default_text;
};
const std::vector<ScenarioKey>& scenario_keys();

// Reads every key of scenario_keys() from `config` (missing keys keep their defaults). Errors name the key and the
// layer its value came from.
Result<ScenarioParams> params_from_config(const Config& config);

struct Scenario {
  ScenarioParams params;
  Topology topo;
  Adjacency adj;
  std::vector<Fault> faults;  // sorted by start
  std::vector<Flow> flows;
  TimePoint end() const { return at(params.duration); }
};

// Builds the topology, the fault schedule (random or explicit) and the flows. Fails on unusable parameters.
Result<Scenario> build_scenario(const ScenarioParams& params);

}  // namespace meshloop::sim
