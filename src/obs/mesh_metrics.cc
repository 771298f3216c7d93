#include "obs/mesh_metrics.h"

#include <limits>
#include <set>
#include <string>

namespace meshloop::obs {

namespace {

void advance(prometheus::Counter& c, std::uint64_t now, std::uint64_t before) {
  c.Increment(static_cast<double>(now >= before ? now - before : now));
}

// SPF on a few hundred nodes takes tens of microseconds to milliseconds.
const std::vector<double> kSpfBuckets = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                         0.0025,  0.005,    0.01,    0.025,  0.05,    0.1,    0.25};
// Reroute: fast reroute acts within a hello interval or two (100 ms default); detection bounds it at seconds.
const std::vector<double> kRerouteBuckets = {0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10};

}  // namespace

MeshMetrics::MeshMetrics(MetricsRegistry& r)
    : neighbour_up_(r.gauge("meshloop_mesh_neighbour_up",
                            "1 when the neighbour (peer = its node id) is two-way and alive, 0 when known but down.",
                            {"peer"})),
      link_cost_(r.gauge("meshloop_mesh_link_cost",
                         "Cost this node advertises for its link to the peer (100 = one perfect hop; +Inf when "
                         "drained or down).",
                         {"peer"})),
      link_etx_(r.gauge("meshloop_mesh_link_etx",
                        "Expected transmission count of the link to the peer (1 = lossless), from hello loss.",
                        {"peer"})),
      link_rtt_(r.gauge("meshloop_mesh_link_rtt_seconds", "Smoothed round-trip time to the peer, in seconds.",
                        {"peer"})),
      link_ratio_(r.gauge("meshloop_mesh_link_delivery_ratio",
                          "Hello delivery ratio of the link to the peer: in = theirs as we receive them, out = ours "
                          "as they report receiving them.",
                          {"peer", "direction"})),
      dropped_(r.counter("meshloop_mesh_data_packets_dropped_total",
                         "Data packets dropped here, by reason (no_route, ttl).", {"reason"})),
      rejected_(r.counter("meshloop_mesh_packets_rejected_total",
                          "Received packets rejected before use, by reason (malformed, unauthenticated, replay).",
                          {"reason"})),
      packets_(r.counter("meshloop_mesh_packets_total", "Mesh packets (control and data) received (rx, rejected ones included) and sent (tx).",
                         {"direction"})),
      control_bytes_(r.counter("meshloop_mesh_control_bytes_total",
                               "Bytes of control packets (hellos, advertisements, acks), by direction (rx, tx); "
                               "mesh header and payload, without IP/UDP headers.",
                               {"direction"})),
      data_bytes_(r.counter("meshloop_mesh_data_bytes_total",
                            "Bytes of data packets, by direction (rx, tx); mesh header and payload, without IP/UDP "
                            "headers.",
                            {"direction"})),
      neighbour_changes_(r.counter("meshloop_mesh_neighbour_changes_total",
                                   "Neighbour state changes seen as events, by new state (up, down).", {"state"})),
      neighbours_up_(r.gauge("meshloop_mesh_neighbours_up", "Neighbours currently two-way and alive.").get()),
      routes_(r.gauge("meshloop_mesh_routes", "Destinations with an installed route.").get()),
      routes_with_backup_(r.gauge("meshloop_mesh_routes_with_backup",
                                  "Installed routes that also have a precomputed node-protecting backup path.")
                              .get()),
      lsdb_(r.gauge("meshloop_mesh_lsdb_entries", "Link-state advertisements in this node's database.").get()),
      spf_runs_(r.counter("meshloop_mesh_spf_runs_total", "Shortest-path computations run.").get()),
      failovers_(r.counter("meshloop_mesh_failovers_total",
                           "Fast reroutes: traffic moved onto a precomputed backup path after losing a next hop.")
                     .get()),
      originated_(r.counter("meshloop_mesh_data_packets_originated_total",
                            "Data packets this node sent as their origin.")
                      .get()),
      delivered_(r.counter("meshloop_mesh_data_packets_delivered_total",
                           "Data packets addressed to this node and delivered to its application.")
                     .get()),
      forwarded_(r.counter("meshloop_mesh_data_packets_forwarded_total",
                           "Data packets this node forwarded on behalf of others.")
                     .get()),
      dropped_no_route_(dropped_.with({"no_route"})),
      dropped_ttl_(dropped_.with({"ttl"})),
      rejected_malformed_(rejected_.with({"malformed"})),
      rejected_unauthenticated_(rejected_.with({"unauthenticated"})),
      rejected_replay_(rejected_.with({"replay"})),
      unknown_tlvs_(r.counter("meshloop_mesh_unknown_tlvs_total",
                              "TLVs of unknown type skipped in authenticated packets (a newer peer's extensions).")
                        .get()),
      packets_rx_(packets_.with({"rx"})),
      packets_tx_(packets_.with({"tx"})),
      control_rx_(control_bytes_.with({"rx"})),
      control_tx_(control_bytes_.with({"tx"})),
      data_rx_(data_bytes_.with({"rx"})),
      data_tx_(data_bytes_.with({"tx"})),
      lsas_originated_(r.counter("meshloop_mesh_lsas_originated_total",
                                 "Link-state advertisements this node originated (changes and refreshes).")
                           .get()),
      lsas_received_(r.counter("meshloop_mesh_lsas_received_total",
                               "Link-state advertisements received that were newer than this node's copy.")
                         .get()),
      retransmissions_(r.counter("meshloop_mesh_lsa_retransmissions_total",
                                 "Link-state advertisements sent again because a neighbour had not acknowledged them.")
                           .get()),
      encode_failures_(r.counter("meshloop_mesh_encode_failures_total",
                                 "Packets this node could not encode and did not send (always a bug in the node, "
                                 "never the network).")
                           .get()),
      neighbour_went_up_(neighbour_changes_.with({"up"})),
      neighbour_went_down_(neighbour_changes_.with({"down"})),
      spf_duration_(r.histogram("meshloop_mesh_spf_duration_seconds",
                                "Wall time of one shortest-path computation, in seconds.", kSpfBuckets)
                        .get()),
      reroute_duration_(r.histogram("meshloop_mesh_reroute_duration_seconds",
                                    "Time from losing a next hop to traffic flowing on the new one, measured "
                                    "locally, in seconds.",
                                    kRerouteBuckets)
                            .get()) {}

MeshMetrics::PeerSeries& MeshMetrics::peer(mesh::NodeId id) {
  auto it = peers_.find(id);
  if (it != peers_.end()) return it->second;
  const std::string p = std::to_string(id);
  PeerSeries s{&neighbour_up_.with({p}), &link_cost_.with({p}),       &link_etx_.with({p}),
               &link_rtt_.with({p}),     &link_ratio_.with({p, "in"}), &link_ratio_.with({p, "out"})};
  return peers_.emplace(id, s).first->second;
}

void MeshMetrics::drop_peer(const PeerSeries& s) {
  neighbour_up_.remove(*s.up);
  link_cost_.remove(*s.cost);
  link_etx_.remove(*s.etx);
  link_rtt_.remove(*s.rtt);
  link_ratio_.remove(*s.ratio_in);
  link_ratio_.remove(*s.ratio_out);
}

void MeshMetrics::update(const mesh::Telemetry& t) {
  int up = 0;
  std::set<mesh::NodeId> present;
  for (const mesh::NeighbourInfo& n : t.neighbours) {
    present.insert(n.id);
    PeerSeries& s = peer(n.id);
    up += n.up ? 1 : 0;
    s.up->Set(n.up ? 1 : 0);
    s.cost->Set(n.cost == mesh::kInfiniteCost ? std::numeric_limits<double>::infinity()
                                              : static_cast<double>(n.cost));
    s.etx->Set(n.etx);
    s.rtt->Set(n.srtt_s);
    s.ratio_in->Set(n.delivery_ratio_in);
    s.ratio_out->Set(n.delivery_ratio_out);
  }
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (present.count(it->first)) {
      ++it;
    } else {
      drop_peer(it->second);
      it = peers_.erase(it);
    }
  }
  neighbours_up_.Set(up);
  routes_.Set(static_cast<double>(t.routes));
  routes_with_backup_.Set(static_cast<double>(t.routes_with_backup));
  lsdb_.Set(static_cast<double>(t.lsdb_size));

  const mesh::Counters& c = t.counters;
  const mesh::Counters& b = last_;
  advance(spf_runs_, c.spf_runs, b.spf_runs);
  advance(failovers_, c.failovers, b.failovers);
  advance(originated_, c.data_originated, b.data_originated);
  advance(delivered_, c.data_delivered, b.data_delivered);
  advance(forwarded_, c.data_forwarded, b.data_forwarded);
  advance(dropped_no_route_, c.dropped_no_route, b.dropped_no_route);
  advance(dropped_ttl_, c.dropped_ttl, b.dropped_ttl);
  advance(rejected_malformed_, c.rejected_malformed, b.rejected_malformed);
  advance(rejected_unauthenticated_, c.rejected_unauthenticated, b.rejected_unauthenticated);
  advance(rejected_replay_, c.rejected_replay, b.rejected_replay);
  advance(unknown_tlvs_, c.unknown_tlvs, b.unknown_tlvs);
  advance(packets_rx_, c.rx_packets, b.rx_packets);
  advance(packets_tx_, c.tx_packets, b.tx_packets);
  advance(control_rx_, c.control_rx_bytes, b.control_rx_bytes);
  advance(control_tx_, c.control_tx_bytes, b.control_tx_bytes);
  advance(data_rx_, c.data_rx_bytes, b.data_rx_bytes);
  advance(data_tx_, c.data_tx_bytes, b.data_tx_bytes);
  advance(lsas_originated_, c.lsas_originated, b.lsas_originated);
  advance(lsas_received_, c.lsas_received, b.lsas_received);
  advance(retransmissions_, c.retransmissions, b.retransmissions);
  advance(encode_failures_, c.encode_failures, b.encode_failures);
  last_ = c;
}

void MeshMetrics::observe(const mesh::Event& e) {
  switch (e.kind) {
    case mesh::EventKind::kNeighbourUp: neighbour_went_up_.Increment(); break;
    case mesh::EventKind::kNeighbourDown: neighbour_went_down_.Increment(); break;
    default: break;  // counted from snapshots (failovers, SPF runs, rejections, drops) or not a metric
  }
}

void MeshMetrics::observe_spf_duration(double seconds) { spf_duration_.Observe(seconds); }
void MeshMetrics::observe_reroute(double seconds) { reroute_duration_.Observe(seconds); }

}  // namespace meshloop::obs
