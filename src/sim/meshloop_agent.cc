#include "sim/meshloop_agent.h"

#include "mesh/lsa_pool.h"

namespace meshloop::sim {

Protocol meshloop_protocol(mesh::NodeConfig base, mesh::TraceHooks* trace) {
  base.emit_route_events = false;
  // The simulated nodes share one copy of each advertisement: a simulation runs on one thread, and a thousand
  // private copies of every LSA were a thousand cache misses where one object stays hot (mesh/lsa_pool.h).
  if (!base.lsa_pool) base.lsa_pool = std::make_shared<mesh::LsaPool>();
  return Protocol{"meshloop", [base, trace](NodeId id, std::uint32_t epoch, std::uint64_t seed) -> std::unique_ptr<Agent> {
                    mesh::NodeConfig c = base;
                    c.boot_epoch = epoch;
                    return std::make_unique<MeshloopAgent>(c, id, seed, trace);
                  }};
}

}  // namespace meshloop::sim
