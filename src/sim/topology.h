// sim::Topology: the true graph of a simulated mesh, and its generators.
//
// Nodes are 1..n. Edges are undirected point-to-point links, stored once as (u, v) with u < v, sorted, without
// duplicates; an edge's index in `edges` is its link id. Generators are deterministic functions of their arguments
// (seeded meshloop::Rng only). Random geometric and Barabasi-Albert graphs are always connected (see make_rgg).
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "mesh/types.h"

namespace meshloop::sim {

using mesh::NodeId;
using mesh::PortId;

struct Topology {
  std::size_t n = 0;
  std::vector<std::pair<NodeId, NodeId>> edges;     // u < v, sorted, unique
  std::vector<std::pair<double, double>> positions;  // index id-1; only for geometric graphs
  std::string kind;                                  // "grid", "rgg", "ba", "file"
  double radius = 0;                                 // rgg: the connection radius used
  int attempts = 1;                                  // rgg: placements tried until one was connected
  int bridged_components = 0;                        // rgg: components joined by nearest-pair edges (0 normally)

  double mean_degree() const { return n == 0 ? 0.0 : 2.0 * static_cast<double>(edges.size()) / static_cast<double>(n); }
  // Index of edge {a, b} in `edges`, or -1.
  std::int64_t find_edge(NodeId a, NodeId b) const;
};

// An almost-square grid: ceil(sqrt(n)) columns, rows filled in order; 4-neighbour links.
Topology make_grid(std::size_t n);
// Random geometric graph in the unit square with the radius chosen (border effects included) so that the expected
// mean degree is `degree`. Disconnected placements are redrawn from derived seeds (up to 50 times); if all fail,
// the components are joined by their nearest node pairs (counted in bridged_components).
Topology make_rgg(std::size_t n, double degree, std::uint64_t seed);
// Barabasi-Albert preferential attachment with m = max(1, round(degree / 2)) links per new node, starting from a
// clique of m + 1 nodes. Mean degree ~ 2m.
Topology make_ba(std::size_t n, double degree, std::uint64_t seed);
// An edge list: one "u v" pair of node ids (>= 1) a line; '#' starts a comment; blank lines are skipped. The node
// count is the largest id. Errors name `origin` and the line.
Result<Topology> parse_edge_list(std::string_view text, const std::string& origin);
Result<Topology> load_edge_list(const std::string& path);

// Labels each node (index id-1) with its connected component's smallest node id, using only edges for which
// `edge_up[i]` is true (all edges when empty) and only nodes with `node_up[id-1]` true (all when empty).
std::vector<NodeId> components(const Topology& topo, const std::vector<bool>& edge_up = {},
                               const std::vector<bool>& node_up = {});
bool is_connected(const Topology& topo);

// Each node's ports: port p of node u leads to ports[offsets[u-1] + p]. Ports follow the neighbours' ids.
struct Adjacency {
  struct Port {
    NodeId peer;
    PortId peer_port;   // the same link's port number at the peer
    std::uint32_t edge;  // index in Topology::edges
  };
  std::vector<std::uint32_t> offsets;  // n + 1 entries
  std::vector<Port> ports;

  explicit Adjacency(const Topology& topo);
  std::size_t degree(NodeId u) const { return offsets[u] - offsets[u - 1]; }
  const Port& port(NodeId u, PortId p) const { return ports[offsets[u - 1] + p]; }
};

}  // namespace meshloop::sim
