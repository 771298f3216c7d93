// sim::Agent: the routing protocol one simulated node runs, as the simulator sees it.
//
// The simulator is a driver of I/O-free protocol cores. An Agent receives bytes on ports, application data and
// ticks, each with `now`, and hands back its work through drain_outputs(): bytes to transmit on a port (marked
// control or data), application data delivered here, and protocol events. Between interactions the simulator
// sleeps until next_deadline(). Two protocols compared in one scenario are two Agent implementations: meshloop
// (MeshloopAgent, a thin adapter of mesh::Node) and, later, a batman-adv baseline.
//
// Control-packet accounting: every SendOutput with control == true is counted by the simulator as bytes.size() +
// 28 (IPv4 + UDP) per link transmission (DESIGN.md). An agent marks as control everything that is not application
// data (hellos, advertisements, acks, originator messages).
//
// Thread-safety: none. The simulator drives each agent from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/time.h"
#include "mesh/node.h"
#include "mesh/types.h"

namespace meshloop::sim {

using mesh::NodeId;
using mesh::PortId;

class Agent {
 public:
  virtual ~Agent() = default;

  // Declares the point-to-point link on `port` (ports are 0..degree-1, in the order of the neighbours' ids).
  virtual void add_port(PortId port, TimePoint now) = 0;
  // Bytes that arrived on `port`. Untrusted: the agent parses them.
  virtual void receive(PortId port, std::span<const std::uint8_t> bytes, TimePoint now) = 0;
  // Application data from this node to `destination`.
  virtual void send_data(NodeId destination, std::span<const std::uint8_t> payload, TimePoint now) = 0;
  // Timers; called at (or after) next_deadline().
  virtual void tick(TimePoint now) = 0;
  // Appends pending outputs to `out` (mesh::SendOutput / DeliverOutput / Event) and forgets them.
  virtual void drain_outputs(std::vector<mesh::Output>& out) = 0;
  // The earliest time tick() has work to do (kTimeNever when none).
  virtual TimePoint next_deadline() const = 0;

  // The next hop towards `destination` as forwarding would use it now; kNoNode if none. Used to find which flows
  // a fault's element lies on (ground truth), never to forward.
  virtual NodeId next_hop(NodeId destination) const = 0;
  // How many destinations this node has a route to (for the initial-convergence measurement).
  virtual std::size_t route_count(TimePoint now) const = 0;
  // Route computations since the agent booted, for the telemetry models (sim/telemetry.h); nullopt when the protocol
  // does not count them (the feature is then NaN, "not measured").
  virtual std::optional<std::uint64_t> route_computations(TimePoint now) const {
    (void)now;
    return std::nullopt;
  }
  // A command from the autonomic loop (mesh/node.h). False when this protocol has no such knob (nothing changed).
  virtual bool apply(const mesh::Command& command, TimePoint now) {
    (void)command;
    (void)now;
    return false;
  }
  // What the node's Monitor reads about its own routing; nullopt for protocols without one.
  virtual std::optional<mesh::Telemetry> mesh_telemetry(TimePoint now) const {
    (void)now;
    return std::nullopt;
  }
};

// Builds the agent of node `id` in its `boot_epoch` (1 at start, +1 on each restart after a crash). `seed` is the
// node's own random seed, derived from the scenario seed and the node id (and epoch), identical across protocols.
using AgentFactory = std::function<std::unique_ptr<Agent>(NodeId id, std::uint32_t boot_epoch, std::uint64_t seed)>;

// A protocol under test: its name in reports ("meshloop", "batman") and how to build its agents.
struct Protocol {
  std::string name;
  AgentFactory factory;
};

}  // namespace meshloop::sim
