// The observation window a real node's loop analyses: what the node itself measured between two samples, as an
// ml::Graph in the feature schema of ml/features.h. The simulator cuts a 2-hop neighbourhood from mesh-wide
// telemetry; a real node has only its own view until neighbours' summaries travel in advertisements (decision
// 0020), so the graph is a star: this node and every neighbour it knows, one link each way.
//
// What is measured (the rest is NaN, "not measured", which every detector ignores or defaults):
//   self        cpu (this process's CPU seconds over the window / window length), up-neighbour ratio (up /
//               configured links), telemetry age 0
//   neighbour   telemetry age: 0 while the link is up, else seconds since it went down (a silent node grows stale)
//   self -> nb  loss in/out (1 - hello delivery ratios), RTT, link age (since the last state change), up,
//               throughput (data bytes this node sent to that peer over the window)
//   nb -> self  the same link seen from the other end: loss directions swapped, no throughput
// Forward loss is left unmeasured on purpose: the node's drop counters do not tell transit from its own traffic,
// and a node with no route for its own packets is not a gray hole.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "core/time.h"
#include "mesh/node.h"
#include "ml/graph.h"

namespace meshloop::mapek {

// One sample of the node, taken on its driver thread.
struct NodeSample {
  mesh::Telemetry telemetry;
  std::vector<std::uint64_t> data_tx_bytes;  // by port, cumulative
  double cpu_seconds = 0;                    // this process's CPU time, cumulative
};

// The window from `start` to `end` (end.telemetry.at > start.telemetry.at). `configured_links`: peers configured
// (0: the up-neighbour ratio is NaN). Nodes in ascending id order, node_ids set.
ml::Graph node_window(const NodeSample& start, const NodeSample& end, std::size_t configured_links);

}  // namespace meshloop::mapek
