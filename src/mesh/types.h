// Identifiers shared by every part of the mesh.
#pragma once

#include <cstdint>

namespace meshloop::mesh {

// A node's mesh-wide identity. 0 is never a valid node.
using NodeId = std::uint32_t;
constexpr NodeId kNoNode = 0;

// A node's local handle for one point-to-point link (an index into the driver's peer list, or the simulator's
// adjacency). Only the node that owns it understands it.
using PortId = std::uint32_t;
constexpr PortId kNoPort = UINT32_MAX;

// Link cost as advertised: 100 is one perfect hop.
using Cost = std::uint32_t;
constexpr Cost kInfiniteCost = UINT32_MAX;

}  // namespace meshloop::mesh
