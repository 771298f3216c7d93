// Route computation on a compact graph: shortest paths, backups, disjoint pairs.
//
// The graph is built from the link-state database and then patched in place: node ids are mapped to dense indices
// and adjacency is stored as CSR arrays (offsets + counts + targets + costs, each row with a little spare room), so
// Dijkstra touches contiguous memory and allocates only its result. Costs are directed (u -> v may differ from v -> u); a link appears only if both ends advertise it
// (the caller does that check while building). All functions are pure and deterministic: ties break on the lower
// node index, so every node computes the same paths from the same database.
// Thread-safety: a Graph no one edits may be shared; results are plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "mesh/types.h"

namespace meshloop::mesh {

using Index = std::uint32_t;
constexpr Index kNoIndex = UINT32_MAX;

class Graph {
 public:
  struct Edge {
    NodeId from;
    NodeId to;
    Cost cost;
  };
  // Builds from directed edges. Nodes are the sorted set of `nodes` plus every edge end (also the ends of dropped
  // edges); duplicate edges keep the cheapest; self-loops and kInfiniteCost edges are dropped. Targets of a node are
  // sorted by index, so the result does not depend on the order of `edges`.
  //
  // Two-way only: an edge u -> v is kept only when v -> u is also among the (kept) edges, as link-state routing
  // requires of advertised links (each end vouches for the link). Checked on the built arrays, where v's targets are
  // a short sorted run: cheaper than any lookup in the database the edges came from.
  enum class Links : std::uint8_t { kAsGiven, kTwoWayOnly };
  static Graph build(std::span<const NodeId> nodes, std::span<const Edge> edges, Links links = Links::kAsGiven);

  std::size_t size() const { return ids_.size(); }
  NodeId id(Index i) const { return ids_[i]; }
  // kNoIndex when the node is not in the graph.
  Index index_of(NodeId id) const;
  // Neighbours of i as parallel spans.
  std::span<const Index> targets(Index i) const;
  std::span<const Cost> costs(Index i) const;
  // kInfiniteCost when there is no edge.
  Cost edge_cost(Index from, Index to) const;
  std::size_t edge_count() const { return edge_count_; }
  // Edges of cost 0. With them Dijkstra's ties depend on pop order, which update_shortest_paths cannot reproduce.
  std::size_t zero_cost_edges() const { return zero_cost_edges_; }

  // In-place edits, for a router that patches its graph between SPF runs instead of rebuilding it. Each row keeps
  // spare room (kRowSlack entries), so an edit costs O(degree); a row that outgrows its room re-lays the arrays out
  // once (O(edges)). The node set never changes this way.
  // Replaces u's out-edges. REQUIRES: targets ascending, distinct, not u, costs finite.
  void set_out_edges(Index u, std::span<const Index> targets, std::span<const Cost> costs);
  // Sets the cost of u -> v, adding the edge if needed; kInfiniteCost removes it. REQUIRES: u != v.
  void set_edge(Index u, Index v, Cost cost);

 private:
  static constexpr std::uint32_t kRowSlack = 4;

  void keep_two_way();
  // Re-lays the rows out with kRowSlack spare entries each, and at least `min_capacity` for row `grow`.
  void relayout(Index grow = kNoIndex, std::uint32_t min_capacity = 0);
  std::uint32_t capacity(Index i) const { return offsets_[i + 1] - offsets_[i]; }

  std::vector<NodeId> ids_;  // sorted
  std::vector<std::uint32_t> offsets_;  // row i owns [offsets_[i], offsets_[i + 1]); its first counts_[i] are edges
  std::vector<std::uint32_t> counts_;
  std::vector<Index> targets_;
  std::vector<Cost> costs_;
  std::size_t edge_count_ = 0;
  std::size_t zero_cost_edges_ = 0;
};

// What a path pays for each hop through a node that asked not to carry transit, on top of the link's cost, as an
// OSPF stub router's maximum link metric does (RFC 6987): such a node carries only traffic whose every other path
// costs more than the penalty. Leaving it out altogether would cut off whatever lies behind it when it is an
// articulation point.
// 2^26 exceeds 30 000 hops of typical links (100 x ETX + RTT ms, about 100-2000 each) and 80 of the dearest a link
// can advertise when raised x20 (about 820 000); a detour dearer than that loses to the node. Sums saturate at
// kInfiniteCost, so a path can pay it up to 63 times.
constexpr std::uint64_t kTransitPenalty = std::uint64_t{1} << 26;

// What to leave out of one computation (a failed neighbour, a failed link), and nodes that asked not to carry
// transit. Excluding the source itself leaves everything unreachable, the source included.
struct Exclusions {
  Index node = kNoIndex;                       // never entered
  std::pair<Index, Index> link{kNoIndex, kNoIndex};  // neither direction used
  std::span<const std::uint8_t> no_transit;    // when non-empty: no_transit[i] != 0 adds kTransitPenalty to every
                                               // edge out of i (not when i is the source: its own paths all leave
                                               // it once). REQUIRES: size() == g.size().
};

// Single-source shortest paths (Dijkstra, 4-ary indexed heap). dist is in Cost units with kInfiniteCost for
// unreachable; parent[source] = kNoIndex; first_hop[v] is the source's neighbour on the path to v (kNoIndex for the source and
// unreachable nodes). Sums saturate, never overflow: a path whose total reaches kInfiniteCost counts as unreachable,
// so every finite dist fits in 32 bits. Ties: among equal-cost parents of v the lowest index wins (with positive
// costs; zero-cost edges are allowed and still deterministic), so parent/first_hop are a function of the graph alone.
struct ShortestPaths {
  Index source = kNoIndex;
  std::vector<std::uint64_t> dist;
  std::vector<Index> parent;
  std::vector<Index> first_hop;
};
ShortestPaths shortest_paths(const Graph& g, Index source, const Exclusions& excluded = {});
// The same into `out`, reusing the storage of its vectors.
void shortest_paths(const Graph& g, Index source, const Exclusions& excluded, ShortestPaths& out);

// Incremental SPF: brings `sp` up to date after edits at a few nodes, repairing only the part of the tree they touch
// (Ramalingam-Reps: cut the subtrees whose path got dearer, re-seed them from their unaffected
// neighbours, relax the edited edges, and run Dijkstra from there). On success `sp` equals, field by field,
// shortest_paths(g, sp.source, {.no_transit = no_transit}); the work is O(n) plus a Dijkstra over the nodes whose
// distance changes. False, with `sp` untouched, when the update cannot guarantee that (g has zero-cost
// edges, sizes disagree, an index is out of range): then run shortest_paths.
// `changed` lists the nodes whose out- or in-edges or no_transit flag may differ from the graph `sp` was computed on;
// duplicates are fine, and every other edge and flag must be as it was.
// REQUIRES: sp == shortest_paths(g0, sp.source, {.no_transit = no_transit0}) for that earlier graph g0, which had no
// zero-cost edges (its ties are then canonical); g has the node set of g0, and every edge of g has its reverse
// (Links::kTwoWayOnly, kept by patching both directions), so a node's in-neighbours are its targets.
bool update_shortest_paths(const Graph& g, ShortestPaths& sp, std::span<const Index> changed,
                           std::span<const std::uint8_t> no_transit);

// The path source..target (both included) from a result; empty when unreachable.
std::vector<Index> path_to(const ShortestPaths& sp, Index target);

// Loop-free alternate (RFC 5286, inequality 1): neighbour n of s can carry traffic for d without looping back
// through s when dist(n, d) < dist(n, s) + dist(s, d). Node-protecting (inequality 3) when additionally
// dist(n, d) < dist(n, p) + dist(p, d) for the primary next hop p. `from_n` is shortest_paths(g, n), `from_p` is
// shortest_paths(g, p). False when n cannot reach d; never true for d == p (a next hop cannot protect itself).
// REQUIRES: n is a neighbour of s (not checked: the results do not carry the graph).
bool is_loop_free_alternate(const ShortestPaths& from_s, const ShortestPaths& from_n, Index d);
bool is_node_protecting_alternate(const ShortestPaths& from_n, const ShortestPaths& from_p, Index p, Index d);

// Two node-disjoint paths s..d of least total cost (Suurballe's algorithm on the node-split graph); nullopt when
// d is not reachable by two node-disjoint paths. The first path is the cheaper one. s and d are not adjacent-only
// special cases: a direct s-d edge may be one of the two paths. Costs sum exactly in 64 bits here. Equal-cost paths
// are ordered lexicographically by index; nullopt when s == d or either is out of range.
std::optional<std::pair<std::vector<Index>, std::vector<Index>>> disjoint_pair(const Graph& g, Index s, Index d);

}  // namespace meshloop::mesh
