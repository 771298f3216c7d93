// sim report: the JSON report (stable keys) and the terminal table.
//
// Everything outside the "sim" section is a pure function of the scenario and the runs, so the same seed and
// binary give byte-identical text there; wall-clock values (wall_s, events_per_s) live only under "sim".
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario.h"
#include "sim/world.h"

namespace meshloop::sim {

nlohmann::json scenario_json(const Scenario& sc);
nlohmann::json protocol_json(const Scenario& sc, const RunStats& run);
// {"scenario":..., "protocols":{name: ...}, "sim":{events, wall_s, virtual_s, events_per_s, per_protocol}}
nlohmann::json report_json(const Scenario& sc, const std::vector<RunStats>& runs);
// A human-readable summary, one column per protocol.
std::string report_table(const Scenario& sc, const std::vector<RunStats>& runs);

}  // namespace meshloop::sim
