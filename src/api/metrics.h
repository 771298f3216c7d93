// Metrics on the process's one HTTP server: GET /metrics from an obs::Exposition, the server's own request metrics,
// and api::NodeMetrics, everything a `meshloop node` exposes and the driver observer that keeps it current.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/server.h"
#include "mesh/node.h"
#include "obs/exposition.h"
#include "obs/http_metrics.h"
#include "obs/mesh_metrics.h"
#include "obs/registry.h"
#include "obs/reroute_timer.h"
#include "transport/udp_driver.h"

namespace meshloop::api {

// The /metrics response for a request (its Accept-Encoding honoured), gzipped by the exposition when asked and
// sent verbatim. Exposed for tests.
Response metrics_response(const obs::Exposition& exposition, const Request& request);

// GET `path` serves `exposition`. REQUIRES: before server.start(); `exposition` outlives the server's serving.
void add_metrics_route(Server& server, const obs::Exposition& exposition, const std::string& path = "/metrics");

// Records every request the server answers in `metrics` (its observer hook). REQUIRES: before server.start(), after
// every route is added (their patterns are created at zero); `metrics` outlives the server's serving.
void observe_requests(Server& server, obs::HttpMetrics& metrics);

// A node's metrics: one registry whose `node` label is the node id, with the process and build metrics, the mesh
// metrics fed by the UDP driver (snapshots every telemetry interval, events, SPF tick time, the reroute time
// measured from the driver's packets), the exposition's own and the HTTP server's.
// Thread-safety: the DriverObserver methods run on the driver thread; attach() before serving; the exposition is
// read by the server's threads concurrently (prometheus-cpp series are atomic).
class NodeMetrics final : public transport::DriverObserver {
 public:
  // `detection`: the node's dead interval (hello interval x dead multiplier), used to date a lost neighbour that
  // the driver never heard.
  NodeMetrics(mesh::NodeId id, Duration detection);
  NodeMetrics(const NodeMetrics&) = delete;
  NodeMetrics& operator=(const NodeMetrics&) = delete;

  // Adds GET /metrics to `server` and observes its requests. REQUIRES: before server.start(), after the other
  // routes; this object outlives the server's serving.
  void attach(Server& server);

  void telemetry(const mesh::Telemetry& t) override;
  void event(const mesh::Event& e, const std::function<TimePoint(mesh::NodeId)>& last_heard) override;
  void spf_ran(double wall_seconds) override;
  void data_sent(mesh::NodeId next_hop, TimePoint now) override {
    reroute_.data_sent(next_hop, now, done_);
    if (!done_.empty()) flush_reroutes();
  }

  obs::MetricsRegistry& registry() { return registry_; }
  const obs::Exposition& exposition() const { return exposition_; }

 private:
  void flush_reroutes();

  obs::MetricsRegistry registry_;
  obs::Exposition exposition_;
  obs::MeshMetrics mesh_;
  std::unique_ptr<obs::HttpMetrics> http_;
  obs::RerouteTimer reroute_;
  std::vector<double> done_;
};

}  // namespace meshloop::api
