// The neighbourhood a node's loop analyses: the subgraph of everything within `hops` of it, with the features its
// neighbours' summaries carry. In the simulator it is cut from the mesh-wide telemetry window (what the telemetry
// models measured); on a real node it is assembled from the summaries neighbours advertise.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>

#include "ml/graph.h"

namespace meshloop::mapek {

// The nodes within `hops` of `center` (breadth first over CSR entries), in ascending index order, with every entry
// between two of them, their features, and node_ids carried over (graph.node_id()). REQUIRES: center is a node.
ml::Graph neighbourhood(const ml::Graph& graph, std::size_t center, int hops);

}  // namespace meshloop::mapek
