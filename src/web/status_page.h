// The live status page (web/index.html and its assets, embedded at build time), served at GET / and
// GET /static/<file> by any process with an api::Server: `meshloop node` and `meshloop sim --serve`.
//
// The page is static; in the browser it polls the JSON routes the process serves beside it (GET /api/v1/topology,
// /api/v1/incidents, /api/v1/status; docs/status-page.md) and draws them. It needs nothing from the network but
// its own server (no CDN). Thread-safety: as api::Server::route (register before start()).
#pragma once

#include "api/server.h"

namespace meshloop::web {

// Registers GET / and GET /static/* on `server`. REQUIRES: before server.start().
void add_status_page(api::Server& server);

}  // namespace meshloop::web
