#include "mesh/graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/rng.h"

namespace meshloop::mesh {
namespace {

constexpr std::uint64_t kInf = kInfiniteCost;
using Matrix = std::vector<std::vector<std::uint64_t>>;  // cost[u][v] by index, kInf when absent

struct RandomGraph {
  std::vector<NodeId> ids;  // unsorted, as a database might list them
  std::vector<Graph::Edge> edges;
};

// 6-9 nodes with scattered ids; directed or symmetric costs, from a small range (many ties) or a wide one. Adds the
// noise Graph::build must clean up: self-loops, kInfiniteCost edges and duplicates.
RandomGraph random_graph(Rng& rng) {
  RandomGraph rg;
  const int n = static_cast<int>(rng.uniform_int(6, 9));
  std::set<NodeId> used;
  while (static_cast<int>(used.size()) < n) used.insert(static_cast<NodeId>(rng.uniform_int(1, 500)));
  rg.ids.assign(used.begin(), used.end());
  for (int i = n - 1; i > 0; --i) std::swap(rg.ids[i], rg.ids[rng.uniform_int(0, i)]);
  const double density = 0.2 + 0.5 * rng.uniform();
  const bool symmetric = rng.bernoulli(0.5);
  const Cost max_cost = rng.bernoulli(0.5) ? 3 : 100;
  for (int a = 0; a < n; ++a) {
    for (int b = symmetric ? a + 1 : 0; b < n; ++b) {
      if (a == b || !rng.bernoulli(density)) continue;
      const auto c = static_cast<Cost>(rng.uniform_int(1, max_cost));
      rg.edges.push_back({rg.ids[a], rg.ids[b], c});
      if (symmetric) rg.edges.push_back({rg.ids[b], rg.ids[a], c});
      if (rng.bernoulli(0.1)) rg.edges.push_back({rg.ids[a], rg.ids[b], c + static_cast<Cost>(rng.uniform_int(0, 5))});
    }
  }
  if (rng.bernoulli(0.5)) rg.edges.push_back({rg.ids[0], rg.ids[0], 1});
  if (rng.bernoulli(0.5)) rg.edges.push_back({rg.ids[1], rg.ids[2], kInfiniteCost});
  for (int i = static_cast<int>(rg.edges.size()) - 1; i > 0; --i) {
    std::swap(rg.edges[i], rg.edges[rng.uniform_int(0, i)]);
  }
  return rg;
}

// The oracle's view of the graph, built without Graph: index = rank of the id.
Matrix oracle_matrix(const RandomGraph& rg) {
  std::vector<NodeId> sorted(rg.ids);
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  Matrix m(n, std::vector<std::uint64_t>(n, kInf));
  auto rank = [&](NodeId id) { return std::lower_bound(sorted.begin(), sorted.end(), id) - sorted.begin(); };
  for (const auto& e : rg.edges) {
    if (e.from == e.to || e.cost == kInfiniteCost) continue;
    auto& c = m[rank(e.from)][rank(e.to)];
    c = std::min<std::uint64_t>(c, e.cost);
  }
  return m;
}

// Bellman-Ford with the same saturation rule as shortest_paths.
std::vector<std::uint64_t> bellman_ford(const Matrix& m, Index s) {
  const std::size_t n = m.size();
  std::vector<std::uint64_t> dist(n, kInf);
  dist[s] = 0;
  for (std::size_t round = 0; round < n; ++round) {
    for (std::size_t u = 0; u < n; ++u) {
      if (dist[u] == kInf) continue;
      for (std::size_t v = 0; v < n; ++v) {
        if (m[u][v] == kInf) continue;
        dist[v] = std::min(dist[v], std::min(dist[u] + m[u][v], kInf));
      }
    }
  }
  return dist;
}

// Exclusions expressed as edge removal (and the transit penalty as dearer edges), so the oracle never sees an
// Exclusions struct.
Matrix without(Matrix m, const Exclusions& ex, Index source) {
  const std::size_t n = m.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (ex.node < n) m[ex.node][i] = m[i][ex.node] = kInf;
    if (!ex.no_transit.empty() && ex.no_transit[i] != 0 && i != source) {
      for (auto& c : m[i]) c = c == kInf ? kInf : std::min(c + kTransitPenalty, kInf);  // every hop out of i pays
    }
  }
  if (ex.link.first < n && ex.link.second < n) {
    m[ex.link.first][ex.link.second] = m[ex.link.second][ex.link.first] = kInf;
  }
  return m;
}

// Checks a result against the oracle: distances, canonical (lowest-index) parents, first hops, and path_to.
void expect_matches_oracle(const ShortestPaths& sp, const Matrix& m, Index s, const std::vector<std::uint64_t>& want) {
  const std::size_t n = m.size();
  ASSERT_EQ(sp.dist.size(), n);
  for (Index v = 0; v < n; ++v) {
    ASSERT_EQ(sp.dist[v], want[v]) << "node " << v << " from " << s;
    const std::vector<Index> path = path_to(sp, v);
    if (want[v] == kInf) {
      EXPECT_TRUE(path.empty());
      EXPECT_EQ(sp.parent[v], kNoIndex);
      EXPECT_EQ(sp.first_hop[v], kNoIndex);
      continue;
    }
    Index best_parent = kNoIndex;
    for (Index u = 0; u < n && v != s; ++u) {
      if (want[u] != kInf && m[u][v] != kInf && want[u] + m[u][v] == want[v]) {
        best_parent = u;
        break;
      }
    }
    EXPECT_EQ(sp.parent[v], best_parent) << "node " << v << " from " << s;
    ASSERT_FALSE(path.empty());
    EXPECT_EQ(path.front(), s);
    EXPECT_EQ(path.back(), v);
    std::uint64_t total = 0;
    for (std::size_t i = 1; i < path.size(); ++i) {
      ASSERT_NE(m[path[i - 1]][path[i]], kInf) << "path uses a missing or excluded edge";
      total += m[path[i - 1]][path[i]];
    }
    EXPECT_EQ(total, want[v]);
    EXPECT_EQ(sp.first_hop[v], v == s ? kNoIndex : path[1]);
  }
}

TEST(GraphTest, BuildSortsIdsDropsNoiseAndKeepsCheapestDuplicate) {
  const std::vector<NodeId> nodes = {40, 7};
  const std::vector<Graph::Edge> edges = {
      {30, 10, 5}, {10, 30, 9}, {10, 20, 4}, {10, 30, 3}, {10, 10, 1}, {20, 30, kInfiniteCost}, {10, 20, 6},
  };
  const Graph g = Graph::build(nodes, edges);
  ASSERT_EQ(g.size(), 5u);
  EXPECT_EQ(g.id(0), 7u);
  EXPECT_EQ(g.id(4), 40u);
  EXPECT_EQ(g.index_of(20), 2u);
  EXPECT_EQ(g.index_of(25), kNoIndex);
  EXPECT_EQ(g.index_of(99), kNoIndex);
  const Index n10 = g.index_of(10), n20 = g.index_of(20), n30 = g.index_of(30);
  ASSERT_EQ(g.targets(n10).size(), 2u);
  EXPECT_EQ(g.targets(n10)[0], n20);  // sorted by index
  EXPECT_EQ(g.targets(n10)[1], n30);
  EXPECT_EQ(g.costs(n10)[0], 4u);
  EXPECT_EQ(g.costs(n10)[1], 3u);
  EXPECT_EQ(g.edge_cost(n30, n10), 5u);
  EXPECT_EQ(g.edge_cost(n20, n30), kInfiniteCost);  // infinite edge dropped
  EXPECT_EQ(g.edge_cost(n10, n10), kInfiniteCost);  // self-loop dropped
  EXPECT_TRUE(g.targets(g.index_of(7)).empty());
  EXPECT_EQ(g.edge_count(), 3u);
}

TEST(GraphTest, BuildIncludesNodesSeenOnlyAsEdgeTargets) {
  // 5 appears only as a target and sorts first, shifting every index; 9 only as the target of a dropped edge.
  const std::vector<NodeId> nodes = {10, 20};
  const std::vector<Graph::Edge> edges = {{10, 20, 1}, {20, 10, 1}, {10, 5, 2}, {20, 9, kInfiniteCost}};
  const Graph g = Graph::build(nodes, edges);
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g.index_of(5), 0u);
  EXPECT_EQ(g.index_of(9), 1u);
  EXPECT_EQ(g.edge_cost(g.index_of(10), g.index_of(5)), 2u);
  EXPECT_EQ(g.edge_cost(g.index_of(10), g.index_of(20)), 1u);
  EXPECT_EQ(g.edge_cost(g.index_of(20), g.index_of(9)), kInfiniteCost);
  EXPECT_TRUE(g.targets(g.index_of(5)).empty());
}

TEST(GraphTest, TwoWayOnlyKeepsEdgesBothEndsAdvertise) {
  // 10-20 both ways (the reverse at another cost), 10->30 one way, 20->30 with 30->20 infinite (not advertised).
  const std::vector<NodeId> nodes = {10, 20, 30};
  const std::vector<Graph::Edge> edges = {
      {10, 20, 1}, {20, 10, 4}, {10, 30, 2}, {20, 30, 3}, {30, 20, kInfiniteCost}};
  const Graph g = Graph::build(nodes, edges, Graph::Links::kTwoWayOnly);
  const Index n10 = g.index_of(10), n20 = g.index_of(20), n30 = g.index_of(30);
  EXPECT_EQ(g.edge_cost(n10, n20), 1u);  // each direction keeps its own cost
  EXPECT_EQ(g.edge_cost(n20, n10), 4u);
  EXPECT_EQ(g.edge_cost(n10, n30), kInfiniteCost);
  EXPECT_EQ(g.edge_cost(n20, n30), kInfiniteCost);
  EXPECT_EQ(g.edge_count(), 2u);
}

TEST(GraphTest, TwoWayOnlyMatchesFilteringTheEdgesFirst) {
  Rng rng(17);
  for (int t = 0; t < 100; ++t) {
    const RandomGraph rg = random_graph(rng);
    const Graph all = Graph::build(rg.ids, rg.edges);
    std::vector<Graph::Edge> two_way;
    for (const auto& e : rg.edges) {
      const Index u = all.index_of(e.from), v = all.index_of(e.to);
      if (all.edge_cost(u, v) != kInfiniteCost && all.edge_cost(v, u) != kInfiniteCost) two_way.push_back(e);
    }
    const Graph expected = Graph::build(rg.ids, two_way);
    const Graph got = Graph::build(rg.ids, rg.edges, Graph::Links::kTwoWayOnly);
    ASSERT_EQ(got.edge_count(), expected.edge_count());
    for (Index i = 0; i < got.size(); ++i) {
      const Index j = expected.index_of(got.id(i));
      if (j == kNoIndex) {  // only reachable through one-way edges: present, isolated
        EXPECT_TRUE(got.targets(i).empty());
        continue;
      }
      for (std::size_t k = 0; k < got.targets(i).size(); ++k) {
        EXPECT_EQ(expected.edge_cost(j, expected.index_of(got.id(got.targets(i)[k]))), got.costs(i)[k]);
      }
    }
  }
}

TEST(GraphTest, BuildIsIndependentOfEdgeOrder) {
  Rng rng(11);
  for (int t = 0; t < 100; ++t) {
    RandomGraph rg = random_graph(rng);
    const Graph a = Graph::build(rg.ids, rg.edges);
    std::reverse(rg.edges.begin(), rg.edges.end());
    std::reverse(rg.ids.begin(), rg.ids.end());
    const Graph b = Graph::build(rg.ids, rg.edges);
    ASSERT_EQ(a.size(), b.size());
    for (Index i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a.id(i), b.id(i));
      EXPECT_TRUE(std::ranges::equal(a.targets(i), b.targets(i)));
      EXPECT_TRUE(std::ranges::equal(a.costs(i), b.costs(i)));
      EXPECT_TRUE(std::is_sorted(a.targets(i).begin(), a.targets(i).end()));
    }
  }
}

TEST(GraphTest, EmptyGraphHasNoNodes) {
  const Graph g = Graph::build({}, {});
  EXPECT_EQ(g.size(), 0u);
  EXPECT_EQ(g.index_of(1), kNoIndex);
  EXPECT_TRUE(shortest_paths(g, 0).dist.empty());
  EXPECT_FALSE(disjoint_pair(g, 0, 1).has_value());
}

TEST(GraphTest, ShortestPathsMatchBellmanFordOnRandomGraphs) {
  Rng rng(1);
  for (int t = 0; t < 300; ++t) {
    const RandomGraph rg = random_graph(rng);
    const Graph g = Graph::build(rg.ids, rg.edges);
    const Matrix m = oracle_matrix(rg);
    ASSERT_EQ(g.size(), m.size());
    for (Index s = 0; s < g.size(); ++s) {
      const ShortestPaths sp = shortest_paths(g, s);
      EXPECT_EQ(sp.source, s);
      EXPECT_EQ(sp.parent[s], kNoIndex);
      expect_matches_oracle(sp, m, s, bellman_ford(m, s));
    }
  }
}

TEST(GraphTest, ExclusionsMatchOracleOnGraphWithElementRemoved) {
  Rng rng(2);
  for (int t = 0; t < 300; ++t) {
    const RandomGraph rg = random_graph(rng);
    const Graph g = Graph::build(rg.ids, rg.edges);
    const Matrix m = oracle_matrix(rg);
    const auto n = static_cast<Index>(g.size());
    std::vector<std::uint8_t> no_transit(n);
    for (auto& x : no_transit) x = rng.bernoulli(0.25) ? 1 : 0;
    for (Index s = 0; s < n; ++s) {
      Exclusions ex;
      const int kind = static_cast<int>(rng.uniform_int(0, 3));
      if (kind == 0 || kind == 3) {
        do ex.node = static_cast<Index>(rng.uniform_int(0, n - 1));
        while (ex.node == s);
      }
      if (kind == 1 || kind == 3) {
        // Prefer a real edge out of s so the exclusion matters.
        const auto out = g.targets(s);
        const Index other = out.empty() ? static_cast<Index>(rng.uniform_int(0, n - 1))
                                        : out[static_cast<std::size_t>(rng.uniform_int(0, out.size() - 1))];
        ex.link = rng.bernoulli(0.5) ? std::pair{s, other} : std::pair{other, s};
      }
      if (kind == 2 || kind == 3) ex.no_transit = no_transit;
      const Matrix reduced = without(m, ex, s);
      const ShortestPaths sp = shortest_paths(g, s, ex);
      expect_matches_oracle(sp, reduced, s, bellman_ford(reduced, s));
      if (ex.node != kNoIndex) {
        EXPECT_EQ(sp.dist[ex.node], kInf);
      }
    }
  }
}

TEST(GraphTest, ANodeAvoidingTransitIsALastResortNotACut) {
  // 1 -> 2 -> 3 and 1 -> 4 -> 3, all cost 1, with 2 avoiding transit: 3 is reached through 4. Without 4, 2 still
  // carries the path (an articulation point avoiding transit must not cut 3 off), at the penalty. 2 itself, as a
  // source or a destination, pays nothing.
  const std::vector<Graph::Edge> edges = {{1, 2, 1}, {2, 3, 1}, {1, 4, 1}, {4, 3, 1}};
  const Graph g = Graph::build({}, edges);
  const std::vector<std::uint8_t> no_transit = {0, 1, 0, 0};
  Exclusions ex;
  ex.no_transit = no_transit;
  const ShortestPaths from1 = shortest_paths(g, 0, ex);
  EXPECT_EQ(from1.dist[1], 1u);
  EXPECT_EQ(from1.dist[2], 2u);
  EXPECT_EQ(from1.parent[2], 3u);
  ex.node = 3;
  const ShortestPaths cut = shortest_paths(g, 0, ex);
  EXPECT_EQ(cut.dist[2], 2 + kTransitPenalty);
  EXPECT_EQ(cut.parent[2], 1u);
  const ShortestPaths from2 = shortest_paths(g, 1, {.no_transit = no_transit});
  EXPECT_EQ(from2.dist[2], 1u);
}

TEST(GraphTest, ExcludingTheSourceLeavesEverythingUnreachable) {
  const std::vector<Graph::Edge> edges = {{1, 2, 1}};
  const Graph g = Graph::build({}, edges);
  Exclusions ex;
  ex.node = 0;
  const ShortestPaths sp = shortest_paths(g, 0, ex);
  EXPECT_EQ(sp.dist[0], kInf);
  EXPECT_EQ(sp.dist[1], kInf);
  EXPECT_TRUE(path_to(sp, 0).empty());
}

TEST(GraphTest, EqualCostParentsPreferLowerIndexWhateverTheEdgeOrder) {
  // Diamond 1 -> {2, 3} -> 4, all equal: both orders of the edge list give parent 2 for node 4.
  std::vector<Graph::Edge> edges = {{1, 3, 1}, {3, 4, 1}, {1, 2, 1}, {2, 4, 1}};
  for (int pass = 0; pass < 2; ++pass) {
    const Graph g = Graph::build({}, edges);
    const ShortestPaths sp = shortest_paths(g, g.index_of(1));
    EXPECT_EQ(sp.parent[g.index_of(4)], g.index_of(2));
    EXPECT_EQ(sp.first_hop[g.index_of(4)], g.index_of(2));
    std::reverse(edges.begin(), edges.end());
  }
}

TEST(GraphTest, LowerIndexParentWinsEvenWhenReachedLater) {
  // 1 -> 5 (cost 1) -> 4 (cost 2) and 1 -> 2 (cost 2) -> 4 (cost 1): node 5 is settled first and reaches 4 first,
  // but 2 has the lower index, so the tie goes to 2, and first_hop follows.
  const std::vector<Graph::Edge> edges = {{1, 5, 1}, {5, 4, 2}, {1, 2, 2}, {2, 4, 1}};
  const Graph g = Graph::build({}, edges);
  const ShortestPaths sp = shortest_paths(g, g.index_of(1));
  EXPECT_EQ(sp.dist[g.index_of(4)], 3u);
  EXPECT_EQ(sp.parent[g.index_of(4)], g.index_of(2));
  EXPECT_EQ(sp.first_hop[g.index_of(4)], g.index_of(2));
}

TEST(GraphTest, EveryNodeComputesTheSameTreeFromTheSameDatabase) {
  // Two nodes build from differently ordered copies of one database and must agree on every source's tree.
  Rng rng(3);
  for (int t = 0; t < 100; ++t) {
    RandomGraph rg = random_graph(rng);
    const Graph a = Graph::build(rg.ids, rg.edges);
    for (int i = static_cast<int>(rg.edges.size()) - 1; i > 0; --i) {
      std::swap(rg.edges[i], rg.edges[rng.uniform_int(0, i)]);
    }
    const Graph b = Graph::build(rg.ids, rg.edges);
    for (Index s = 0; s < a.size(); ++s) {
      const ShortestPaths x = shortest_paths(a, s);
      const ShortestPaths y = shortest_paths(b, s);
      EXPECT_EQ(x.dist, y.dist);
      EXPECT_EQ(x.parent, y.parent);
      EXPECT_EQ(x.first_hop, y.first_hop);
    }
  }
}

TEST(GraphTest, DistancesSaturateAtInfiniteCost) {
  const Cost big = kInfiniteCost - 1;
  const std::vector<Graph::Edge> edges = {{1, 2, big}, {2, 3, big}, {1, 4, big / 2}, {4, 5, big / 2}, {5, 6, 1}};
  const Graph g = Graph::build({}, edges);
  const ShortestPaths sp = shortest_paths(g, g.index_of(1));
  EXPECT_EQ(sp.dist[g.index_of(2)], big);
  EXPECT_EQ(sp.dist[g.index_of(3)], kInf);  // 2 * big would overflow 32 bits: unreachable
  EXPECT_EQ(sp.dist[g.index_of(5)], 2ull * (big / 2));
  EXPECT_EQ(sp.dist[g.index_of(6)], kInf);  // reaches exactly kInfiniteCost
  EXPECT_EQ(sp.parent[g.index_of(6)], kNoIndex);
  EXPECT_TRUE(path_to(sp, g.index_of(3)).empty());
  EXPECT_EQ(sp.first_hop[g.index_of(3)], kNoIndex);
}

TEST(GraphTest, ZeroCostEdgesAreHandled) {
  const std::vector<Graph::Edge> edges = {{1, 2, 0}, {2, 3, 0}, {1, 3, 1}, {3, 1, 0}};
  const Graph g = Graph::build({}, edges);
  const ShortestPaths sp = shortest_paths(g, 0);
  EXPECT_EQ(sp.dist, (std::vector<std::uint64_t>{0, 0, 0}));
  EXPECT_EQ(path_to(sp, 2), (std::vector<Index>{0, 1, 2}));
}

// All-pairs distances by the oracle.
std::vector<std::vector<std::uint64_t>> all_pairs(const Matrix& m) {
  std::vector<std::vector<std::uint64_t>> d;
  for (Index s = 0; s < m.size(); ++s) d.push_back(bellman_ford(m, s));
  return d;
}

TEST(GraphTest, LoopFreeAlternatePredicatesMatchRfc5286OnRandomGraphs) {
  Rng rng(4);
  int lfas = 0, protecting = 0, checked = 0;
  for (int t = 0; t < 300; ++t) {
    const RandomGraph rg = random_graph(rng);
    const Graph g = Graph::build(rg.ids, rg.edges);
    const auto dist = all_pairs(oracle_matrix(rg));
    std::vector<ShortestPaths> from;
    for (Index v = 0; v < g.size(); ++v) from.push_back(shortest_paths(g, v));
    for (Index s = 0; s < g.size(); ++s) {
      for (Index n : g.targets(s)) {
        for (Index d = 0; d < g.size(); ++d) {
          if (d == s) continue;
          ++checked;
          const bool lfa = dist[n][d] != kInf && dist[n][d] < dist[n][s] + dist[s][d];
          EXPECT_EQ(is_loop_free_alternate(from[s], from[n], d), lfa);
          lfas += lfa;
          const Index p = from[s].first_hop[d];
          if (p == kNoIndex || p == n) continue;
          const bool node_prot = dist[n][d] != kInf && dist[n][d] < dist[n][p] + dist[p][d];
          EXPECT_EQ(is_node_protecting_alternate(from[n], from[p], p, d), node_prot);
          protecting += lfa && node_prot;
        }
      }
    }
  }
  // The random graphs exercise both answers.
  EXPECT_GT(lfas, checked / 10);
  EXPECT_LT(lfas, checked);
  EXPECT_GT(protecting, 0);
}

TEST(GraphTest, LoopFreeAlternateOnSquare) {
  // s=1, primary p=2 to d=3 (1-2-3, cost 2); alternate n=4 with 4-3 cost 2: dist(4,3)=2 < dist(4,1)+dist(1,3)=3.
  // It also avoids p: dist(4,3)=2 < dist(4,2)+dist(2,3)=2+1. With 4-3 cost 3 it is not loop-free (3 == 1 + 2).
  for (Cost alt : {2u, 3u}) {
    std::vector<Graph::Edge> edges;
    auto link = [&](NodeId a, NodeId b, Cost c) {
      edges.push_back({a, b, c});
      edges.push_back({b, a, c});
    };
    link(1, 2, 1);
    link(2, 3, 1);
    link(1, 4, 1);
    link(4, 3, alt);
    const Graph g = Graph::build({}, edges);
    const auto s = g.index_of(1), p = g.index_of(2), d = g.index_of(3), n = g.index_of(4);
    const ShortestPaths from_s = shortest_paths(g, s), from_n = shortest_paths(g, n), from_p = shortest_paths(g, p);
    EXPECT_EQ(from_s.first_hop[d], p);
    EXPECT_EQ(is_loop_free_alternate(from_s, from_n, d), alt == 2u);
    EXPECT_EQ(is_node_protecting_alternate(from_n, from_p, p, d), alt == 2u);
    // Protecting against the destination itself is impossible.
    EXPECT_FALSE(is_node_protecting_alternate(from_n, from_p, p, p));
  }
}

// Every simple path s..d with its cost and the bitmask of its inner nodes.
struct SimplePath {
  std::uint64_t cost;
  std::uint32_t inner;
  std::vector<Index> nodes;
};

void enumerate(const Matrix& m, Index d, std::vector<Index>& path, std::uint32_t visited, std::uint64_t cost,
               std::vector<SimplePath>& out) {
  const Index u = path.back();
  if (u == d) {
    out.push_back({cost, visited & ~(1u << path.front()) & ~(1u << d), path});
    return;
  }
  for (Index v = 0; v < m.size(); ++v) {
    if (m[u][v] == kInf || (visited >> v & 1) != 0) continue;
    path.push_back(v);
    enumerate(m, d, path, visited | 1u << v, cost + m[u][v], out);
    path.pop_back();
  }
}

// Least total cost of two distinct, internally node-disjoint paths; kInf when there are none.
std::uint64_t best_disjoint_pair(const Matrix& m, Index s, Index d) {
  std::vector<SimplePath> paths;
  std::vector<Index> start{s};
  enumerate(m, d, start, 1u << s, 0, paths);
  std::sort(paths.begin(), paths.end(), [](const auto& a, const auto& b) { return a.cost < b.cost; });
  std::uint64_t best = UINT64_MAX;
  for (std::size_t i = 0; i < paths.size() && 2 * paths[i].cost < best; ++i) {
    for (std::size_t j = i + 1; j < paths.size() && paths[i].cost + paths[j].cost < best; ++j) {
      if ((paths[i].inner & paths[j].inner) == 0) best = paths[i].cost + paths[j].cost;
    }
  }
  return best == UINT64_MAX ? kInf : best;
}

std::uint64_t checked_cost(const Matrix& m, const std::vector<Index>& path, Index s, Index d) {
  EXPECT_GE(path.size(), 2u);
  EXPECT_EQ(path.front(), s);
  EXPECT_EQ(path.back(), d);
  std::uint64_t total = 0;
  for (std::size_t i = 1; i < path.size(); ++i) {
    EXPECT_NE(m[path[i - 1]][path[i]], kInf);
    total += m[path[i - 1]][path[i]];
  }
  return total;
}

TEST(GraphTest, DisjointPairMatchesExhaustiveSearchOnRandomGraphs) {
  Rng rng(5);
  int found = 0, missing = 0;
  for (int t = 0; t < 300; ++t) {
    const RandomGraph rg = random_graph(rng);
    const Graph g = Graph::build(rg.ids, rg.edges);
    const Matrix m = oracle_matrix(rg);
    for (Index s = 0; s < g.size(); ++s) {
      for (Index d = 0; d < g.size(); ++d) {
        if (s == d) continue;
        const std::uint64_t want = best_disjoint_pair(m, s, d);
        const auto pair = disjoint_pair(g, s, d);
        ASSERT_EQ(pair.has_value(), want != kInf) << "graph " << t << " s=" << s << " d=" << d;
        if (!pair) {
          ++missing;
          continue;
        }
        ++found;
        const auto& [first, second] = *pair;
        const std::uint64_t c1 = checked_cost(m, first, s, d), c2 = checked_cost(m, second, s, d);
        EXPECT_EQ(c1 + c2, want) << "graph " << t << " s=" << s << " d=" << d;
        EXPECT_LE(c1, c2);
        EXPECT_NE(first, second);
        std::set<Index> inner(first.begin() + 1, first.end() - 1);
        EXPECT_EQ(inner.size(), first.size() - 2) << "first path is not simple";
        for (std::size_t i = 1; i + 1 < second.size(); ++i) EXPECT_EQ(inner.insert(second[i]).second, true);
      }
    }
  }
  EXPECT_GT(found, 1000);
  EXPECT_GT(missing, 1000);
}

TEST(GraphTest, DisjointPairUsesDirectEdgeAsOnePath) {
  // 1-2 direct (cost 10) and 1-3-2 (cost 2): the pair is the detour first, then the direct edge.
  const std::vector<Graph::Edge> edges = {{1, 2, 10}, {1, 3, 1}, {3, 2, 1}};
  const Graph g = Graph::build({}, edges);
  const auto pair = disjoint_pair(g, 0, 1);
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(pair->first, (std::vector<Index>{0, 2, 1}));
  EXPECT_EQ(pair->second, (std::vector<Index>{0, 1}));
}

TEST(GraphTest, DisjointPairNeedsTwoRoutesNotTwoEdges) {
  // A single path, and a bridge node every route crosses: no pair.
  const std::vector<Graph::Edge> line = {{1, 2, 1}};
  EXPECT_FALSE(disjoint_pair(Graph::build({}, line), 0, 1).has_value());
  const std::vector<Graph::Edge> bowtie = {{1, 2, 1}, {1, 3, 1}, {2, 4, 1}, {3, 4, 1},
                                           {4, 5, 1}, {4, 6, 1}, {5, 7, 1}, {6, 7, 1}};
  const Graph g = Graph::build({}, bowtie);
  EXPECT_FALSE(disjoint_pair(g, g.index_of(1), g.index_of(7)).has_value());
  EXPECT_TRUE(disjoint_pair(g, g.index_of(1), g.index_of(4)).has_value());
  EXPECT_FALSE(disjoint_pair(g, 0, 0).has_value());
}

TEST(GraphTest, DisjointPairTakesTheCheapestPairNotTheShortestPath) {
  // The classic trap: the shortest path 1-2-3-4 (cost 3) blocks any disjoint partner; the optimal pair avoids it.
  // Edges: 1-2:1, 2-3:1, 3-4:1, 1-3:3, 2-4:3 (directed both ways). Best pair: 1-2-4 (4) and 1-3-4 (4).
  std::vector<Graph::Edge> edges;
  for (auto [a, b, c] : std::vector<Graph::Edge>{{1, 2, 1}, {2, 3, 1}, {3, 4, 1}, {1, 3, 3}, {2, 4, 3}}) {
    edges.push_back({a, b, c});
    edges.push_back({b, a, c});
  }
  const Graph g = Graph::build({}, edges);
  const auto pair = disjoint_pair(g, 0, 3);
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(pair->first, (std::vector<Index>{0, 1, 3}));
  EXPECT_EQ(pair->second, (std::vector<Index>{0, 2, 3}));
}

// Edits keep spare room per row; a row that outgrows it re-lays the arrays out. Either way the edited graph must
// equal one built from the same edges, and the other rows must be untouched.
TEST(GraphTest, EditsPastARowsSpareRoomMatchAFreshBuild) {
  std::vector<NodeId> ids{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::vector<Graph::Edge> edges{{1, 2, 10}, {2, 1, 10}, {3, 4, 7}, {4, 3, 7}};
  Graph g = Graph::build(ids, edges);
  // Node 1 (index 0) gains ten out-edges one at a time: more than the spare room of its row.
  for (NodeId v = 3; v <= 12; ++v) {
    g.set_edge(0, g.index_of(v), v);
    edges.push_back({1, v, v});
  }
  g.set_edge(0, g.index_of(2), kInfiniteCost);  // and loses one
  edges.erase(edges.begin());
  // Node 3 (index 2) gets a whole new row, longer than its old one plus its room.
  const std::vector<Index> targets{0, 1, 3, 4, 5, 6, 7};
  const std::vector<Cost> costs{1, 2, 3, 4, 5, 6, 7};
  g.set_out_edges(2, targets, costs);
  std::erase_if(edges, [](const Graph::Edge& e) { return e.from == 3; });
  for (std::size_t k = 0; k < targets.size(); ++k) edges.push_back({3, ids[targets[k]], costs[k]});

  const Graph fresh = Graph::build(ids, edges);
  ASSERT_EQ(g.size(), fresh.size());
  EXPECT_EQ(g.edge_count(), fresh.edge_count());
  for (Index i = 0; i < g.size(); ++i) {
    const auto a = g.targets(i);
    const auto b = fresh.targets(i);
    ASSERT_EQ(std::vector<Index>(a.begin(), a.end()), std::vector<Index>(b.begin(), b.end())) << "row " << i;
    const auto ca = g.costs(i);
    const auto cb = fresh.costs(i);
    EXPECT_EQ(std::vector<Cost>(ca.begin(), ca.end()), std::vector<Cost>(cb.begin(), cb.end())) << "row " << i;
  }
}

// --- Incremental SPF -------------------------------------------------------------------------------------------

// A random graph in which every edge has its reverse (costs may differ by direction), as the router builds it.
Graph random_two_way_graph(Rng& rng, int n, double mean_degree, Cost max_cost) {
  std::vector<NodeId> ids;
  for (int i = 0; i < n; ++i) ids.push_back(static_cast<NodeId>(3 * i + 1));
  std::vector<Graph::Edge> edges;
  const double p = std::min(1.0, mean_degree / std::max(1, n - 1));
  for (int a = 0; a < n; ++a) {
    for (int b = a + 1; b < n; ++b) {
      if (!rng.bernoulli(p)) continue;
      edges.push_back({ids[a], ids[b], static_cast<Cost>(rng.uniform_int(1, max_cost))});
      edges.push_back({ids[b], ids[a], static_cast<Cost>(rng.uniform_int(1, max_cost))});
    }
  }
  return Graph::build(ids, edges, Graph::Links::kTwoWayOnly);
}

// One random edit of the kinds the router's patches make, keeping every edge's reverse. Records the nodes touched as
// sparingly as the contract allows (one end of an edited edge is enough, as the router lists only the origin whose
// advertisement changed), so the repair must find edges through either end. Prefers the source and the tree's
// edges now and then, where edits matter most.
void random_edit(Rng& rng, Graph& g, std::vector<std::uint8_t>& no_transit, const ShortestPaths& sp, Cost max_cost,
                 std::vector<Index>& changed) {
  const auto n = static_cast<Index>(g.size());
  auto any = [&] { return static_cast<Index>(rng.uniform_int(0, n - 1)); };
  Index u = rng.bernoulli(0.2) ? sp.source : any();
  if (rng.bernoulli(0.4)) {  // a tree edge: the parent of some reached node
    const Index v = any();
    if (sp.parent[v] != kNoIndex) u = sp.parent[v];
  }
  const auto out = g.targets(u);
  const Index v =
      !out.empty() && rng.bernoulli(0.7) ? out[static_cast<std::size_t>(rng.uniform_int(0, out.size() - 1))] : any();
  auto cost = [&] { return static_cast<Cost>(rng.uniform_int(1, max_cost)); };
  switch (rng.uniform_int(0, 6)) {
    case 0:  // cost change, one direction (up or down)
      if (u != v && g.edge_cost(u, v) != kInfiniteCost) g.set_edge(u, v, cost());
      break;
    case 1:  // cost change, both directions
    case 2:  // link added (or re-costed when present)
      if (u != v) {
        g.set_edge(u, v, cost());
        g.set_edge(v, u, cost());
      }
      break;
    case 3:  // link removed
      if (u != v) {
        g.set_edge(u, v, kInfiniteCost);
        g.set_edge(v, u, kInfiniteCost);
      }
      break;
    case 4:  // transit refused or allowed again
      no_transit[u] ^= 1;
      changed.push_back(u);
      return;
    case 5: {  // disconnected: every link of u goes
      const std::vector<Index> gone(out.begin(), out.end());
      for (Index w : gone) g.set_edge(w, u, kInfiniteCost);
      g.set_out_edges(u, {}, {});
      changed.push_back(u);
      return;
    }
    default: {  // reconnected: u gets a fresh set of links
      std::set<Index> fresh;
      for (int k = static_cast<int>(rng.uniform_int(1, 4)); k > 0; --k) fresh.insert(any());
      fresh.erase(u);
      const auto old = g.targets(u);
      for (Index w : std::vector<Index>(old.begin(), old.end())) {
        if (!fresh.count(w)) g.set_edge(w, u, kInfiniteCost);
      }
      std::vector<Index> targets(fresh.begin(), fresh.end());
      std::vector<Cost> costs;
      for (Index w : targets) {
        costs.push_back(cost());
        g.set_edge(w, u, cost());
      }
      g.set_out_edges(u, targets, costs);
      changed.push_back(u);
      return;
    }
  }
  switch (rng.uniform_int(0, 2)) {  // an edited link: either end will do
    case 0:
      changed.push_back(u);
      break;
    case 1:
      changed.push_back(v);
      break;
    default:
      changed.push_back(u);
      changed.push_back(v);
      break;
  }
}

void expect_same_tree(const ShortestPaths& got, const ShortestPaths& want, const std::string& where) {
  ASSERT_EQ(got.source, want.source) << where;
  for (Index v = 0; v < want.dist.size(); ++v) {
    ASSERT_EQ(got.dist[v], want.dist[v]) << where << " node " << v;
    ASSERT_EQ(got.parent[v], want.parent[v]) << where << " node " << v;
    ASSERT_EQ(got.first_hop[v], want.first_hop[v]) << where << " node " << v;
  }
}

// The oracle is the full run (itself checked against Bellman-Ford above): after every batch of edits the repaired
// tree must equal it field by field, ties included. Small graphs with costs 1-3 are all ties; medium ones with the
// router's cost range are not.
TEST(GraphTest, IncrementalUpdateEqualsAFullRunAfterRandomEditBatches) {
  Rng rng(2611);
  int batches = 0, trees_changed = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const bool small = trial % 4 != 0;
    const int n = small ? static_cast<int>(rng.uniform_int(2, 12)) : static_cast<int>(rng.uniform_int(40, 200));
    const Cost max_cost = rng.bernoulli(0.5) ? 3 : 400;
    Graph g = random_two_way_graph(rng, n, small ? rng.uniform_int(1, 4) : rng.uniform_int(2, 9), max_cost);
    std::vector<std::uint8_t> no_transit(g.size());
    for (auto& x : no_transit) x = rng.bernoulli(0.1) ? 1 : 0;
    const auto source = static_cast<Index>(rng.uniform_int(0, n - 1));
    Exclusions ex;
    ex.no_transit = no_transit;
    ShortestPaths sp = shortest_paths(g, source, ex);
    for (int batch = 0; batch < 25; ++batch) {
      std::vector<Index> changed;
      for (int k = static_cast<int>(rng.uniform_int(1, small ? 3 : 8)); k > 0; --k) {
        random_edit(rng, g, no_transit, sp, max_cost, changed);
      }
      const ShortestPaths before = sp;
      ASSERT_TRUE(update_shortest_paths(g, sp, changed, no_transit));
      const ShortestPaths want = shortest_paths(g, source, ex);
      expect_same_tree(sp, want, "trial " + std::to_string(trial) + " batch " + std::to_string(batch));
      if (HasFatalFailure()) return;
      ++batches;
      trees_changed += before.dist != sp.dist || before.parent != sp.parent;
    }
  }
  // Most batches must change the tree, or the test proves little.
  EXPECT_GT(trees_changed, batches / 2);
}

TEST(GraphTest, IncrementalUpdateWithNothingChangedKeepsTheTree) {
  Rng rng(5);
  const Graph g = random_two_way_graph(rng, 50, 6, 400);
  ShortestPaths sp = shortest_paths(g, 7);
  const ShortestPaths want = sp;
  ASSERT_TRUE(update_shortest_paths(g, sp, {}, {}));
  expect_same_tree(sp, want, "no change");
}

// With zero-cost edges a full run's ties follow its pop order, which a repair cannot reproduce: it refuses.
TEST(GraphTest, IncrementalUpdateRefusesZeroCostEdgesAndBadInput) {
  const std::vector<Graph::Edge> edges = {{1, 2, 5}, {2, 1, 5}, {2, 3, 5}, {3, 2, 5}};
  Graph g = Graph::build({}, edges, Graph::Links::kTwoWayOnly);
  EXPECT_EQ(g.zero_cost_edges(), 0u);
  ShortestPaths sp = shortest_paths(g, 0);
  g.set_edge(1, 2, 0);
  EXPECT_EQ(g.zero_cost_edges(), 1u);
  const std::vector<Index> changed = {1, 2};
  const ShortestPaths before = sp;
  EXPECT_FALSE(update_shortest_paths(g, sp, changed, {}));
  EXPECT_EQ(sp.dist, before.dist);
  g.set_edge(1, 2, 7);
  EXPECT_EQ(g.zero_cost_edges(), 0u);
  const std::vector<Index> out_of_range = {3};
  EXPECT_FALSE(update_shortest_paths(g, sp, out_of_range, {}));
  const std::vector<Cost> zero_costs = {0, 0};
  const std::vector<Index> targets = {0, 2};
  g.set_out_edges(1, targets, zero_costs);
  EXPECT_EQ(g.zero_cost_edges(), 2u);
  g.set_edge(1, 0, kInfiniteCost);
  EXPECT_EQ(g.zero_cost_edges(), 1u);
  EXPECT_EQ(Graph::build({}, std::vector<Graph::Edge>{{1, 2, 0}, {2, 1, 0}, {2, 3, 0}}, Graph::Links::kTwoWayOnly)
                .zero_cost_edges(),
            2u);
}

}  // namespace
}  // namespace meshloop::mesh
