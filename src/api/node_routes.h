// The node's routes on the api::Server: GET /healthz, GET /api/v1/status, POST /api/v1/faults/drop.
// Handlers read the node only through UdpDriver::snapshot()/set_drop(), which are thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "api/server.h"
#include "transport/udp_driver.h"

namespace meshloop::api {

// REQUIRES: `driver` outlives the server's use of these routes (stop the server first).
void add_node_routes(Server& server, transport::UdpDriver& driver);

// The body of GET /api/v1/status (exposed for tests and for tools that read a snapshot directly).
nlohmann::json status_json(const transport::DriverSnapshot& snapshot);

}  // namespace meshloop::api
