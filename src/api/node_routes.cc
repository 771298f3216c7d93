#include "api/node_routes.h"

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
                     {"dropping", p.dropping}});
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

void add_node_routes(Server& server, transport::UdpDriver& driver) {
  server.route("GET", "/healthz", [&driver](const Request&) {
    auto snap = driver.snapshot(std::chrono::milliseconds(1000));
    if (!snap.ok()) return Response::error(503, "unavailable", snap.status().message());
    return Response::json({{"status", "ok"}, {"node", snap->id}});
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
          return Response::error(400, "invalid_argument", "the body must be a JSON object {\"peer\":..., \"drop\":...}");
        }
        if (!body.contains("peer") || !(body["peer"].is_string() || body["peer"].is_number_unsigned())) {
          return Response::error(400, "invalid_argument",
                                 "'peer' must be a node id (number) or a peer address \"host:port\"");
        }
        if (!body.contains("drop") || !body["drop"].is_boolean()) {
          return Response::error(400, "invalid_argument", "'drop' must be true or false");
        }
        const std::string peer =
            body["peer"].is_string() ? body["peer"].get<std::string>() : std::to_string(body["peer"].get<std::uint64_t>());
        auto port = driver.resolve_peer(peer);
        if (!port.ok()) {
          const int code = port.status().code() == StatusCode::kNotFound ? 404 : 400;
          return Response::error(code, code == 404 ? "not_found" : "invalid_argument", port.status().message());
        }
        const bool drop = body["drop"].get<bool>();
        if (Status s = driver.set_drop(*port, drop); !s.ok()) {
          return Response::error(404, "not_found", s.message());
        }
        return Response::json({{"peer",
                                {{"port", *port},
                                 {"address", transport::to_string(driver.options().peers[*port])}}},
                               {"drop", drop}});
      },
      Access::kWrite);
}

}  // namespace meshloop::api
