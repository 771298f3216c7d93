// `meshloop sim --serve ADDR [--realtime]`: the simulated mesh, live on the process's one HTTP server.
//
// Every simulated node has its own registry (node="<id>") with the mesh metrics a real node exposes, refreshed
// every virtual second from the node's telemetry and fed its events (neighbour changes, and the reroute time: from
// the loss of a next hop, dated one dead interval before its neighbour-down event, to the failover onto the backup,
// since the simulator's observer sees events, not packets). The simulator process's own registry (node="sim")
// carries the ground truth (obs::SimMetrics: faults injected and active by kind, outcomes and MTTR as scored),
// process and build metrics, and the HTTP server's. --realtime paces virtual time to wall time.
//
// With the MAPE-K loop (watch()), each node's registry also carries its loop's decisions and outcomes
// (obs::MapekMetrics) and the simulator's the detectors' scores against the truth.
//
// The status page (web/) is served at / with the JSON it reads: GET /api/v1/topology (nodes' health and
// neighbours, links' state, cost and quality, from the ground truth and the nodes' own tables), /api/v1/incidents
// (every loop decision with its reason and outcome), /api/v1/status (PDR over the last 5 s, reroute p95 over the
// last 30 s, faults active, and their recent history); POST /api/v1/faults injects a fault into the running world
// (a write route), recorded in the ground truth like a scheduled one. docs/status-page.md has the shapes.
//
// Nothing here runs unless --serve is given: a plain `meshloop sim` passes no hooks to the world.
// Thread-safety: the hooks run on the simulator's thread; the server's threads render the exposition and read the
// JSON snapshots and queue injected faults under mu_.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "api/server.h"
#include "core/result.h"
#include "obs/exposition.h"
#include "obs/http_metrics.h"
#include "obs/mapek_metrics.h"
#include "obs/mesh_metrics.h"
#include "obs/registry.h"
#include "obs/reroute_timer.h"
#include "obs/sim_metrics.h"
#include "sim/scenario.h"
#include "sim/world.h"

namespace meshloop::mapek {
class SimMapek;
}

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
  // The MAPE-K loops driving the next attached run (null: none). REQUIRES: `loops` outlives that run.
  void watch(const mapek::SimMapek* loops) { loops_ = loops; }
  // After the run: the faults not yet scored get the final scoring's outcome.
  void finished(const sim::RunStats& stats);

  // Declares every metric the simulator's exposition adds (for `meshloop metrics --list`).
  static void declare(obs::MetricsRegistry& registry);

 private:
  SimServe(const sim::Scenario& scenario, bool realtime, const std::atomic<bool>& stop);
  bool observe(const sim::WorldView& view);
  void on_event(mesh::NodeId node, const mesh::Event& event);
  void score_final(const sim::WorldView& view);
  void observe_loops();
  void publish(const sim::WorldView& view);
  std::vector<sim::Fault> take_injections();
  api::Response inject_request(const api::Request& request);

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
  std::vector<bool> counted_;  // per fault: started (counted as injected)
  std::vector<bool> scored_;   // per fault
  double sim_time_ = 0;
  TimePoint last_update_ = kTimeNever;
  std::chrono::steady_clock::time_point wall_start_;
  std::vector<double> done_;
  std::vector<sim::Fault> faults_;                         // the run's: scheduled, then injected (view.faults)
  std::vector<std::optional<mesh::Telemetry>> telemetry_;  // by node id: this second's snapshots (none: crashed)

  // The MAPE-K loops (sim thread only).
  using DecisionKey = std::tuple<mesh::NodeId, std::int64_t, int, mesh::NodeId, mesh::NodeId, int>;
  struct Tracked {
    std::uint64_t id;
    int outcome;
  };
  const mapek::SimMapek* loops_ = nullptr;
  std::vector<std::unique_ptr<obs::MapekMetrics>> mapek_;
  std::map<DecisionKey, Tracked> tracked_;
  std::uint64_t next_incident_ = 1;
  std::vector<std::size_t> ttd_seen_;
  std::uint64_t remediations_seen_[2] = {0, 0};  // false, true
  nlohmann::json incidents_json_ = nlohmann::json::array();
  std::deque<std::pair<double, double>> reroutes_;  // (virtual time, seconds) of the last 30 s
  nlohmann::json history_ = nlohmann::json::array();

  // Read by the server's threads.
  mutable std::mutex mu_;
  nlohmann::json topology_, incidents_, status_;  // the latest snapshots, as served
  std::vector<sim::Fault> injections_;            // queued by POST /api/v1/faults for the next observation
  bool running_ = false;
};

}  // namespace meshloop::cli
