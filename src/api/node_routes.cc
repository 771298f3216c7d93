#include "api/node_routes.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace meshloop::api {
namespace {

using nlohmann::json;

json node_or_null(mesh::NodeId id) { return id == mesh::kNoNode ? json(nullptr) : json(id); }

json gap_json(const transport::Gap& g) {
  return {{"ms", static_cast<double>(g.length_us()) / 1000.0},
          {"start_unix_us", g.start_unix_us},
          {"end_unix_us", g.end_unix_us}};
}

json counters_json(const mesh::Counters& c) {
  return {{"rx_packets", c.rx_packets},
          {"rx_bytes", c.rx_bytes},
          {"tx_packets", c.tx_packets},
          {"tx_bytes", c.tx_bytes},
          {"control_tx_bytes", c.control_tx_bytes},
          {"control_rx_bytes", c.control_rx_bytes},
          {"data_tx_bytes", c.data_tx_bytes},
          {"data_rx_bytes", c.data_rx_bytes},
          {"rejected_malformed", c.rejected_malformed},
          {"rejected_unauthenticated", c.rejected_unauthenticated},
          {"rejected_replay", c.rejected_replay},
          {"unknown_tlvs", c.unknown_tlvs},
          {"data_originated", c.data_originated},
          {"data_delivered", c.data_delivered},
          {"data_forwarded", c.data_forwarded},
          {"dropped_no_route", c.dropped_no_route},
          {"dropped_ttl", c.dropped_ttl},
          {"failovers", c.failovers},
          {"spf_runs", c.spf_runs},
          {"lsas_originated", c.lsas_originated},
          {"lsas_received", c.lsas_received},
          {"retransmissions", c.retransmissions}};
}

json driver_counters_json(const transport::DriverCounters& c) {
  return {{"rx_datagrams", c.rx_datagrams},
          {"tx_datagrams", c.tx_datagrams},
          {"dropped_unknown_sender", c.dropped_unknown_sender},
          {"dropped_fault_in", c.dropped_fault_in},
          {"dropped_fault_out", c.dropped_fault_out},
          {"send_errors", c.send_errors},
          {"receive_errors", c.receive_errors}};
}

}  // namespace

json status_json(const transport::DriverSnapshot& s) {
  // The node's TimePoints are steady-clock; shown as wall-clock Unix microseconds.
  auto to_unix = [&](TimePoint t) { return s.now_unix_us - (s.now - t).count(); };
  json neighbours = json::array();
  for (const auto& n : s.telemetry.neighbours) {
    std::string address;
    if (n.port < s.peers.size()) address = transport::to_string(s.peers[n.port].address);
    neighbours.push_back({{"id", n.id},
                          {"port", n.port},
                          {"address", address},
                          {"state", n.up ? "up" : "down"},
                          {"etx", n.etx},
                          {"rtt_ms", n.srtt_s * 1000.0},
                          {"cost", n.cost == mesh::kInfiniteCost ? json(nullptr) : json(n.cost)},
                          {"delivery_ratio_in", n.delivery_ratio_in},
                          {"delivery_ratio_out", n.delivery_ratio_out},
                          {"since_unix_us", to_unix(n.since)}});
  }
  json peers = json::array();
  for (const auto& p : s.peers) {
    peers.push_back({{"port", p.port},
                     {"address", transport::to_string(p.address)},
                     {"node", node_or_null(p.node)},
                     {"dropping", p.dropping},
                     {"loss", p.loss}});
  }
  json routes = json::array();
  for (const auto& r : s.routes) {
    routes.push_back({{"destination", r.destination},
                      {"next_hop", node_or_null(r.next_hop)},
                      {"cost", r.cost},
                      {"backup_path", r.backup_path},
                      {"pinned", r.pinned}});
  }
  json sending = json::array();
  for (const auto& f : s.sending) {
    sending.push_back({{"flow", f.flow}, {"destination", f.destination}, {"rate_pps", f.rate_pps}, {"sent", f.sent}});
  }
  json receiving = json::array();
  for (const auto& f : s.receiving) {
    json gaps = json::array();
    for (const auto& g : f.recent_gaps) gaps.push_back(gap_json(g));
    receiving.push_back({{"origin", f.origin},
                         {"flow", f.flow},
                         {"epoch", f.epoch},
                         {"interval_us", f.interval_us},
                         {"received", f.received},
                         {"lost", f.lost},
                         {"reordered", f.reordered},
                         {"restarts", f.restarts},
                         {"last_seq", f.last_seq},
                         {"first_arrival_unix_us", f.first_arrival_unix_us},
                         {"last_arrival_unix_us", f.last_arrival_unix_us},
                         {"last_latency_us", f.last_latency_us},
                         {"longest_gap", gap_json(f.longest_gap)},
                         {"recent_gaps", gaps}});
  }
  json events = json::array();
  for (const auto& e : s.recent_events) {
    json ev = {{"unix_us", to_unix(e.at)}, {"kind", mesh::event_kind_name(e.kind)}};
    if (e.peer != mesh::kNoNode) ev["peer"] = e.peer;
    if (e.destination != mesh::kNoNode) ev["destination"] = e.destination;
    if (e.next_hop != mesh::kNoNode) ev["next_hop"] = e.next_hop;
    if (e.value != 0) ev["value"] = e.value;
    if (!e.detail.empty()) ev["detail"] = e.detail;
    events.push_back(std::move(ev));
  }
  json counters = counters_json(s.telemetry.counters);
  counters["driver"] = driver_counters_json(s.driver);
  return {{"node",
           {{"id", s.id},
            {"listen", transport::to_string(s.listen)},
            {"boot_epoch", s.boot_epoch},
            {"started_unix_us", s.started_unix_us},
            {"uptime_s", static_cast<double>(s.now_unix_us - s.started_unix_us) / 1e6}}},
          {"now_unix_us", s.now_unix_us},
          {"neighbours", neighbours},
          {"peers", peers},
          {"routes", routes},
          {"routes_count", s.telemetry.routes},
          {"routes_with_backup", s.telemetry.routes_with_backup},
          {"lsdb_size", s.telemetry.lsdb_size},
          {"counters", counters},
          {"traffic", {{"sending", sending}, {"receiving", receiving}, {"other_deliveries", s.other_deliveries}}},
          {"recent_events", events}};
}

json topology_json(const transport::DriverSnapshot& s) {
  constexpr double kDegraded = 0.9;
  const double time_s = static_cast<double>(s.now_unix_us) / 1e6;
  // Undirected links from the database; both directions are present (Node::topology() is two-way only).
  struct Link {
    mesh::Cost ab = 0, ba = 0;
  };
  std::map<std::pair<mesh::NodeId, mesh::NodeId>, Link> links;
  std::set<mesh::NodeId> up{s.id};
  for (const auto& [from, to, cost] : s.topology) {
    up.insert(from);
    up.insert(to);
    if (from < to) {
      links[{from, to}].ab = cost;
    } else {
      links[{to, from}].ba = cost;
    }
  }
  std::map<mesh::NodeId, const mesh::NeighbourInfo*> measured;
  for (const auto& n : s.telemetry.neighbours) measured[n.id] = &n;
  auto quality_of = [](const mesh::NeighbourInfo& n) {
    return std::clamp(std::min(n.delivery_ratio_in, n.delivery_ratio_out), 0.0, 1.0);
  };
  std::set<mesh::NodeId> degraded;
  json out_links = json::array();
  for (const auto& [ends, l] : links) {
    const auto [a, b] = ends;
    const mesh::Cost cost = std::max(l.ab, l.ba);
    json link = {{"a", a}, {"b", b}, {"up", true}, {"cost", cost}};
    const mesh::NodeId other = a == s.id ? b : b == s.id ? a : mesh::kNoNode;
    auto it = other == mesh::kNoNode ? measured.end() : measured.find(other);
    if (it != measured.end()) {
      const double q = quality_of(*it->second);
      link["quality"] = q;
      link["measured"] = true;
      if (q < kDegraded) degraded.insert(other);
    } else {
      link["quality"] = cost == 0 ? 1.0 : std::min(1.0, 100.0 / static_cast<double>(cost));
      link["measured"] = false;
    }
    out_links.push_back(std::move(link));
  }
  // Our own links that are down: known neighbours that are not up (they may still be up elsewhere in the mesh).
  std::set<mesh::NodeId> down;
  for (const auto& [id, n] : measured) {
    if (n->up) continue;
    degraded.insert(s.id);
    if (up.count(id) == 0) down.insert(id);
    const auto ends = std::minmax(s.id, id);
    if (links.count({ends.first, ends.second}) != 0) continue;
    out_links.push_back({{"a", ends.first},
                         {"b", ends.second},
                         {"up", false},
                         {"cost", n->cost == mesh::kInfiniteCost ? 0 : n->cost},
                         {"quality", quality_of(*n)},
                         {"measured", true}});
  }
  std::map<mesh::NodeId, int> degree;
  for (const auto& [ends, l] : links) {
    ++degree[ends.first];
    ++degree[ends.second];
  }
  json nodes = json::array();
  std::set<mesh::NodeId> all = up;
  all.insert(down.begin(), down.end());
  for (mesh::NodeId id : all) {
    const char* health = up.count(id) == 0 ? "down" : degraded.count(id) != 0 ? "degraded" : "up";
    nodes.push_back({{"id", id}, {"health", health}, {"neighbours", degree[id]}});
  }
  return {{"observer", s.id}, {"time_s", time_s}, {"nodes", nodes}, {"links", out_links}};
}

json routes_json(const transport::DriverSnapshot& s) {
  json routes = json::array();
  for (const auto& r : s.routes) {
    json backups = json::array();
    if (!r.backup_path.empty()) backups.push_back(r.backup_path.front());
    routes.push_back({{"destination", r.destination},
                      {"next_hop", node_or_null(r.next_hop)},
                      {"cost", r.cost},
                      {"backups", backups},
                      {"backup_path", r.backup_path},
                      {"pinned", r.pinned}});
  }
  return {{"node", s.id}, {"time_s", static_cast<double>(s.now_unix_us) / 1e6}, {"routes", routes}};
}

Response readiness(const transport::DriverSnapshot& s) {
  const auto up = std::count_if(s.telemetry.neighbours.begin(), s.telemetry.neighbours.end(),
                                [](const mesh::NeighbourInfo& n) { return n.up; });
  if (up > 0 || s.peers.empty()) {
    return Response::json({{"status", "ready"}, {"node", s.id}, {"neighbours_up", up}, {"peers", s.peers.size()}});
  }
  Response r = Response::error(
      503, "not_ready",
      "no neighbour is up yet (0 of " + std::to_string(s.peers.size()) + " configured peers heard two-way)");
  r.headers["Retry-After"] = "1";
  return r;
}

void add_node_routes(Server& server, transport::UdpDriver& driver) {
  server.route("GET", "/healthz", [&driver](const Request&) {
    auto snap = driver.snapshot(std::chrono::milliseconds(1000));
    if (!snap.ok()) return Response::error(503, "unavailable", snap.status().message());
    return Response::json({{"status", "ok"}, {"node", snap->id}});
  });
  server.route("GET", "/readyz", [&driver](const Request&) {
    auto snap = driver.snapshot(std::chrono::milliseconds(1000));
    if (!snap.ok()) return Response::error(503, "unavailable", snap.status().message());
    return readiness(*snap);
  });
  server.route("GET", "/api/v1/topology", [&driver](const Request&) {
    auto snap = driver.snapshot();
    if (!snap.ok()) return Response::error(503, "unavailable", snap.status().message());
    return Response::json(topology_json(*snap));
  });
  server.route("GET", "/api/v1/routes", [&driver](const Request&) {
    auto snap = driver.snapshot();
    if (!snap.ok()) return Response::error(503, "unavailable", snap.status().message());
    return Response::json(routes_json(*snap));
  });
  server.route("GET", "/api/v1/status", [&driver](const Request&) {
    auto snap = driver.snapshot();
    if (!snap.ok()) return Response::error(503, "unavailable", snap.status().message());
    return Response::json(status_json(*snap));
  });
  server.route(
      "POST", "/api/v1/faults/drop",
      [&driver](const Request& req) {
        const json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
        if (body.is_discarded() || !body.is_object()) {
          return Response::error(400, "invalid_argument",
                                 "the body must be a JSON object {\"peer\":..., \"drop\":...} or {\"peer\":..., "
                                 "\"loss\":...}");
        }
        if (!body.contains("peer") || !(body["peer"].is_string() || body["peer"].is_number_unsigned())) {
          return Response::error(400, "invalid_argument",
                                 "'peer' must be a node id (number) or a peer address \"host:port\"");
        }
        const bool has_drop = body.contains("drop"), has_loss = body.contains("loss");
        if (has_drop == has_loss) {
          return Response::error(400, "invalid_argument", "give exactly one of 'drop' (true/false) or 'loss' (0..1)");
        }
        if (has_drop && !body["drop"].is_boolean()) {
          return Response::error(400, "invalid_argument", "'drop' must be true or false");
        }
        if (has_loss &&
            (!body["loss"].is_number() || body["loss"].get<double>() < 0 || body["loss"].get<double>() > 1)) {
          return Response::error(400, "invalid_argument", "'loss' must be a number in [0, 1]");
        }
        const std::string peer =
            body["peer"].is_string() ? body["peer"].get<std::string>() : std::to_string(body["peer"].get<std::uint64_t>());
        auto port = driver.resolve_peer(peer);
        if (!port.ok()) {
          const int code = port.status().code() == StatusCode::kNotFound ? 404 : 400;
          return Response::error(code, code == 404 ? "not_found" : "invalid_argument", port.status().message());
        }
        json out = {{"peer", {{"port", *port}, {"address", transport::to_string(driver.options().peers[*port])}}}};
        if (has_drop) {
          const bool drop = body["drop"].get<bool>();
          if (Status s = driver.set_drop(*port, drop); !s.ok()) return Response::error(404, "not_found", s.message());
          out["drop"] = drop;
        } else {
          const double loss = body["loss"].get<double>();
          if (Status s = driver.set_loss(*port, loss); !s.ok()) return Response::error(404, "not_found", s.message());
          out["loss"] = loss;
        }
        return Response::json(out);
      },
      Access::kWrite);
}

}  // namespace meshloop::api
