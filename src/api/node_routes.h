// The node's routes on the api::Server: GET /healthz, GET /readyz, GET /api/v1/status, GET /api/v1/topology,
// GET /api/v1/routes, POST /api/v1/faults/drop.
// Handlers read the node only through UdpDriver::snapshot()/set_drop()/set_loss(), which are thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "api/server.h"
#include "transport/udp_driver.h"

namespace meshloop::api {

// REQUIRES: `driver` outlives the server's use of these routes (stop the server first).
void add_node_routes(Server& server, transport::UdpDriver& driver);

// The body of GET /api/v1/status (exposed for tests and for tools that read a snapshot directly).
nlohmann::json status_json(const transport::DriverSnapshot& snapshot);

// GET /api/v1/topology: the mesh as this node's link-state database describes it (shape shared with the simulator's
// status page: docs/api.md). Nodes with links in the database are "up" ("degraded" when one of their links that
// this node measures is down or delivers under 90 % of hellos), neighbours heard before but absent from it "down";
// links from the advertisements (cost: the larger of the two directions' costs), this node's own with measured
// quality (the worse direction's hello delivery ratio), the others' estimated from their cost (100 / cost).
nlohmann::json topology_json(const transport::DriverSnapshot& snapshot);
// GET /api/v1/routes: per destination the primary next hop, the backup next hops and the backup path.
nlohmann::json routes_json(const transport::DriverSnapshot& snapshot);
// GET /readyz: ready once at least one neighbour is up, or when no peer is configured (a node alone).
Response readiness(const transport::DriverSnapshot& snapshot);

}  // namespace meshloop::api
