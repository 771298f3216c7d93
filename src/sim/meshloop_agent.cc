#include "sim/meshloop_agent.h"

namespace meshloop::sim {

Protocol meshloop_protocol(mesh::NodeConfig base, mesh::TraceHooks* trace) {
  base.emit_route_events = false;
  return Protocol{"meshloop", [base, trace](NodeId id, std::uint32_t epoch, std::uint64_t seed) -> std::unique_ptr<Agent> {
                    mesh::NodeConfig c = base;
                    c.boot_epoch = epoch;
                    return std::make_unique<MeshloopAgent>(c, id, seed, trace);
                  }};
}

}  // namespace meshloop::sim
