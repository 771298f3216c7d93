// obs::MeshMetrics: the mesh core's metrics, produced by a driver from the core's telemetry snapshots and events.
//
// mesh::Node is I/O-free and deterministic, so it knows nothing of Prometheus: it counts (mesh::Counters) and
// reports (mesh::Telemetry, mesh::Event). The driver that owns a node owns one MeshMetrics next to it and calls
//   update(node.telemetry(now))   at a steady period (the UDP driver: every second or before each scrape;
//                                 the simulator: every virtual second per simulated node) -- counters advance by the
//                                 delta since the previous snapshot, gauges take the snapshot's values;
//   observe(event)                for each mesh::Event the node outputs (event-driven series);
//   observe_spf_duration(s)       after timing an SPF run it triggered (wall time on real nodes);
//   observe_reroute(s)            when traffic to a destination flows on a new next hop, with the time since the
//                                 old next hop was lost.
// A counter that goes backwards between snapshots means the node was replaced (a restart in the simulator or in a
// test): the counter then advances by the new value, as Prometheus's rate() would read a reset.
//
// Labels and their bounds: `node` (the registry's, one value), `peer` = a neighbour's node id (at most the number of
// neighbours, itself bounded by the mesh size; series of a neighbour that leaves the snapshot are removed),
// `direction` (rx, tx; in, out for delivery ratios), `reason` (fixed lists), `state` (up, down).
//
// Thread-safety: one thread (the driver's) calls update/observe; exposition may read concurrently.
#pragma once

#include <map>

#include "mesh/node.h"
#include "obs/registry.h"

namespace meshloop::obs {

class MeshMetrics {
 public:
  // Declares the mesh families in `registry` and creates every fixed-label series at zero.
  // REQUIRES: `registry` outlives this object; one MeshMetrics per registry (per node).
  explicit MeshMetrics(MetricsRegistry& registry);

  void update(const mesh::Telemetry& telemetry);
  void observe(const mesh::Event& event);
  void observe_spf_duration(double seconds);
  void observe_reroute(double seconds);

 private:
  struct PeerSeries {
    prometheus::Gauge* up;
    prometheus::Gauge* cost;
    prometheus::Gauge* etx;
    prometheus::Gauge* rtt;
    prometheus::Gauge* ratio_in;
    prometheus::Gauge* ratio_out;
  };
  PeerSeries& peer(mesh::NodeId id);
  void drop_peer(const PeerSeries& s);

  // Families with per-neighbour or per-reason series (declared before the series taken from them).
  GaugeFamily neighbour_up_, link_cost_, link_etx_, link_rtt_, link_ratio_;
  CounterFamily dropped_, rejected_, packets_, control_bytes_, data_bytes_, neighbour_changes_;
  // Plain series (references into the registry).
  prometheus::Gauge& neighbours_up_;
  prometheus::Gauge& routes_;
  prometheus::Gauge& routes_with_backup_;
  prometheus::Gauge& lsdb_;
  prometheus::Counter& spf_runs_;
  prometheus::Counter& failovers_;
  prometheus::Counter& originated_;
  prometheus::Counter& delivered_;
  prometheus::Counter& forwarded_;
  prometheus::Counter& dropped_no_route_;
  prometheus::Counter& dropped_ttl_;
  prometheus::Counter& rejected_malformed_;
  prometheus::Counter& rejected_unauthenticated_;
  prometheus::Counter& rejected_replay_;
  prometheus::Counter& unknown_tlvs_;
  prometheus::Counter& packets_rx_;
  prometheus::Counter& packets_tx_;
  prometheus::Counter& control_rx_;
  prometheus::Counter& control_tx_;
  prometheus::Counter& data_rx_;
  prometheus::Counter& data_tx_;
  prometheus::Counter& lsas_originated_;
  prometheus::Counter& lsas_received_;
  prometheus::Counter& retransmissions_;
  prometheus::Counter& encode_failures_;
  prometheus::Counter& neighbour_went_up_;
  prometheus::Counter& neighbour_went_down_;
  prometheus::Histogram& spf_duration_;
  prometheus::Histogram& reroute_duration_;

  mesh::Counters last_{};
  std::map<mesh::NodeId, PeerSeries> peers_;
};

}  // namespace meshloop::obs
