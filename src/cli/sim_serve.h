// `meshloop sim --serve ADDR [--realtime]`: the simulated mesh, live on the process's one HTTP server.
//
// Every simulated node has its own registry (node="<id>") with the mesh metrics a real node exposes, refreshed
// every virtual second from the node's telemetry and fed its events (neighbour changes, and the reroute time: from
// the loss of a next hop, dated one dead interval before its neighbour-down event, to the failover onto the backup,
// since the simulator's observer sees events, not packets). The simulator process's own registry (node="sim")
// carries the ground truth (obs::SimMetrics: faults injected and active by kind, outcomes and MTTR as scored),
// process and build metrics, and the HTTP server's. --realtime paces virtual time to wall time.
//
// Nothing here runs unless --serve is given: a plain `meshloop sim` passes no hooks to the world.
// Thread-safety: the hooks run on the simulator's thread; the server's threads only render the exposition.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "api/server.h"
#include "core/result.h"
#include "obs/exposition.h"
#include "obs/http_metrics.h"
#include "obs/mesh_metrics.h"
#include "obs/registry.h"
#include "obs/reroute_timer.h"
#include "obs/sim_metrics.h"
#include "sim/scenario.h"
#include "sim/world.h"

namespace meshloop::cli {

class SimServe {
 public:
  // Builds the registries for `scenario`'s nodes and starts serving on host:port (port 0: any free port).
  // `stop`: set by a signal; the hooks end the run when it is. REQUIRES: `scenario` and `stop` outlive this object.
  static Result<std::unique_ptr<SimServe>> start(const sim::Scenario& scenario, const std::string& host, int port,
                                                 bool realtime, const std::atomic<bool>& stop);
  ~SimServe();

  int port() const { return server_->port(); }
  // Hooks that expose the run of `protocol` (its mesh metrics when its agents are mesh::Nodes).
  void attach(sim::RunOptions& options, const std::string& protocol);
  // After the run: the faults not yet scored get the final scoring's outcome.
  void finished(const sim::RunStats& stats);

  // Declares every metric the simulator's exposition adds (for `meshloop metrics --list`).
  static void declare(obs::MetricsRegistry& registry);

 private:
  SimServe(const sim::Scenario& scenario, bool realtime, const std::atomic<bool>& stop);
  bool observe(const sim::WorldView& view);
  void on_event(mesh::NodeId node, const mesh::Event& event);
  void score_final(const sim::WorldView& view);

  const sim::Scenario& scenario_;
  const bool realtime_;
  const std::atomic<bool>& stop_;
  std::string protocol_;
  obs::MetricsRegistry own_;
  obs::Exposition exposition_;
  obs::SimMetrics sim_;
  std::vector<std::unique_ptr<obs::MetricsRegistry>> node_registries_;
  std::vector<std::unique_ptr<obs::MeshMetrics>> mesh_;
  std::vector<obs::RerouteTimer> reroute_;
  std::vector<bool> crashed_;
  std::unique_ptr<obs::HttpMetrics> http_;
  std::unique_ptr<api::Server> server_;
  // Per run.
  std::size_t injected_ = 0;        // faults (sorted by start) injected so far
  std::vector<bool> scored_;        // per fault
  TimePoint last_update_ = kTimeNever;
  std::chrono::steady_clock::time_point wall_start_;
  std::vector<double> done_;
};

}  // namespace meshloop::cli
