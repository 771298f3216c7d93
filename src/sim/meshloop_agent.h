// sim::MeshloopAgent: mesh::Node as a simulated agent. A thin adapter: every call forwards to the node.
// Thread-safety: none (like mesh::Node).
#pragma once

#include "mesh/node.h"
#include "sim/agent.h"

namespace meshloop::sim {

class MeshloopAgent final : public Agent {
 public:
  MeshloopAgent(const mesh::NodeConfig& config, NodeId id, std::uint64_t seed, mesh::TraceHooks* trace = nullptr)
      : node_(config, id, seed) {
    if (trace != nullptr) node_.set_trace_hooks(trace);
  }

  void add_port(PortId port, TimePoint now) override { node_.add_port(port, now); }
  void receive(PortId port, std::span<const std::uint8_t> bytes, TimePoint now) override {
    node_.receive(port, bytes, now);
  }
  void send_data(NodeId destination, std::span<const std::uint8_t> payload, TimePoint now) override {
    node_.send_data(destination, payload, now);
  }
  void tick(TimePoint now) override { node_.tick(now); }
  void drain_outputs(std::vector<mesh::Output>& out) override { node_.drain_outputs(out); }
  TimePoint next_deadline() const override { return node_.next_deadline(); }
  NodeId next_hop(NodeId destination) const override { return node_.next_hop(destination); }
  std::size_t route_count(TimePoint /*now*/) const override { return node_.route_count(); }
  std::optional<std::uint64_t> route_computations(TimePoint now) const override {
    return node_.telemetry(now).counters.spf_runs;
  }
  bool apply(const mesh::Command& command, TimePoint now) override {
    node_.apply(command, now);
    return true;
  }
  std::optional<mesh::Telemetry> mesh_telemetry(TimePoint now) const override { return node_.telemetry(now); }

  mesh::Node& node() { return node_; }

 private:
  mesh::Node node_;
};

// The "meshloop" protocol: nodes built from `base` (boot_epoch set per incarnation; route events off, since the
// simulator does not read them and a 1000-node run would produce millions). With `trace`, every node reports to
// that one tracer (the simulator shares one provider among its nodes). REQUIRES: `trace` outlives the runs.
Protocol meshloop_protocol(mesh::NodeConfig base, mesh::TraceHooks* trace = nullptr);

}  // namespace meshloop::sim
