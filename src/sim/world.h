// sim::run_protocol: one protocol on one scenario in virtual time, scored against the ground truth.
//
// The world owns one Agent per live node, the links (one LinkDirection per direction, each with its own keyed
// random draws), the fault state and the delivery log. It is a discrete-event simulation: arrivals, flow sends, fault
// starts/ends, link flaps and per-node wake-ups (one pending wake per node at its agent's next_deadline(),
// re-armed after every interaction; stale wakes are skipped by a generation counter) come out of one Scheduler in
// (time, insertion) order. Nothing in the model reads a clock; the wall time is measured around the run only.
// Thread-safety: none; a run is single-threaded (separate runs may proceed on separate threads).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/agent.h"
#include "sim/scenario.h"
#include "sim/scoring.h"
#include "sim/telemetry.h"

namespace meshloop::sim {

struct RunStats {
  std::string protocol;
  Score score;
  std::vector<FaultTruth> truths;  // per fault: which flows it covered at injection
  std::uint64_t control_bytes = 0;    // incl. 28 bytes of IPv4+UDP per transmission
  std::uint64_t control_packets = 0;
  std::uint64_t data_transmissions = 0;
  std::uint64_t lost_on_link = 0;     // dropped by the link's loss model (incl. faults' extra loss)
  std::uint64_t lost_link_down = 0;   // sent on, or arriving over, a link that was down
  std::uint64_t lost_queue_full = 0;
  std::uint64_t lost_node_down = 0;   // arriving at a crashed node
  std::uint64_t lost_gray_hole = 0;   // forwarded data a gray hole dropped
  std::uint64_t lost_overload = 0;    // data an overloaded node's queues dropped
  std::uint64_t misdelivered = 0;     // data delivered to a node that is not the flow's destination
  double control_bytes_per_node_s = 0;
  std::optional<double> convergence_s;  // first check at which every node had routes to all N-1 others
  std::map<std::string, std::uint64_t> agent_events;  // by mesh event kind
  std::uint64_t events = 0;
  double wall_s = 0;
};

// What an observer of a running world may read (meshloop sim --serve). Valid only during the call.
struct WorldView {
  TimePoint now;
  const std::vector<std::unique_ptr<Agent>>& agents;  // index id - 1; null while the node is crashed
  const std::vector<FlowLog>& logs;                    // the delivery log so far
  const std::vector<FaultTruth>& truths;               // filled for each fault when it starts
  const std::vector<Fault>& faults;                    // the scenario's schedule, then those injected while running
};

class ControlView;  // below

struct RunOptions {
  Duration convergence_check = milliseconds(100);  // how often initial convergence is checked until reached
  std::function<void(double fraction)> progress;    // called now and then with virtual time / duration
  // Observation hooks, off (null) by default so that a run that does not observe pays nothing for them, and a run
  // that does gets the same results (observers only read). `observe` runs at time zero and then every
  // `observe_every` of virtual time; returning false ends the run there. `on_event` sees each agent event.
  std::function<bool(const WorldView&)> observe;
  Duration observe_every = seconds(1);
  std::function<void(NodeId node, const mesh::Event& event)> on_event;
  // Faults injected into the running world (meshloop sim --serve's POST /api/v1/faults): called right after each
  // `observe`; every fault it returns is appended to the schedule (WorldView::faults, the same index in `truths` and
  // in the score) and starts at max(its start, now), with ground truth recorded as for scheduled faults. Null: none.
  std::function<std::vector<Fault>(TimePoint now)> inject;
  // Telemetry windows (sim/telemetry.h): off (null) by default; when set, the radio and node-load models run and
  // this is called at the end of every telemetry.window of virtual time with every node's and link's features and
  // their ground-truth labels. Observing does not change the run (its draws come from streams of their own).
  std::function<void(const TelemetryWindow&)> on_telemetry;
  TelemetryParams telemetry;
  // Acting on the run (the MAPE-K loop in the simulator): off (null) by default. When set, the telemetry models run
  // and this is called at the end of every window (after on_telemetry, with the same window); it may apply commands
  // to live nodes through ControlView::apply, after which the world performs the node's outputs and re-arms its
  // timers, as after any input. A hook that applies nothing leaves the run unchanged.
  std::function<void(const TelemetryWindow&, ControlView&)> on_control;
};

// What on_control sees and may do. Valid only during the call.
class ControlView {
 public:
  virtual ~ControlView() = default;
  virtual TimePoint now() const = 0;
  virtual std::size_t nodes() const = 0;
  // Null while node `id` is crashed.
  virtual const Agent* agent(NodeId id) const = 0;
  // Applies `command` at node `id` now; false when the node is down or its protocol has no such knob.
  virtual bool apply(NodeId id, const mesh::Command& command) = 0;
};

RunStats run_protocol(const Scenario& scenario, const Protocol& protocol, const RunOptions& options = {});

// The node seed every protocol's agent of `id` gets in `epoch` (common random numbers).
std::uint64_t node_seed(std::uint64_t scenario_seed, NodeId id, std::uint32_t epoch);

}  // namespace meshloop::sim
