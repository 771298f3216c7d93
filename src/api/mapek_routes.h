// The node's MAPE-K routes on the api::Server (docs/api.md):
//   GET    /api/v1/incidents[?limit=N]        the loop's incidents, newest first
//   GET    /api/v1/mapek                      mode, rate limits, overrides in force, active actions, counts
//   PUT    /api/v1/mapek/mode                 {"mode": "observe" | "act" | "paused"}            (write)
//   GET    /api/v1/mapek/overrides            the overrides in force
//   POST   /api/v1/mapek/overrides            {"action": ..., "element": ..., "expires_in_s": ...} (write)
//   DELETE /api/v1/mapek/overrides/<id>                                                          (write)
// Handlers parse and check the request here, then touch the loop only on the driver thread
// (UdpDriver::control), where the commands it returns are applied to the node.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/server.h"
#include "core/result.h"
#include "mapek/node_mapek.h"
#include "transport/udp_driver.h"

namespace meshloop::api {

// An override request, checked. Exposed for tests.
struct OverrideRequest {
  mapek::Element element;
  std::optional<mapek::ActionKind> pin;  // nullopt: "clear" (no action on the element, any active one undone)
  std::optional<double> expires_in_s;    // nullopt: until removed
};
// InvalidArgument naming the field for anything but {"action": <action name or "clear">, "element": "node N" |
// "link A-B", "expires_in_s": <number > 0, optional>}.
Result<OverrideRequest> parse_override(const std::string& body);
// InvalidArgument unless the body is {"mode": "observe" | "act" | "paused"}.
Result<mapek::Mode> parse_mode_request(const std::string& body);

// REQUIRES: `driver` and `mapek` outlive the server's use of these routes (stop the server first); `mapek` is
// the one the driver's control callback ticks.
void add_mapek_routes(Server& server, transport::UdpDriver& driver, mapek::NodeMapek& mapek);

}  // namespace meshloop::api
