// Route computation on the topologies the simulator runs: random geometric graphs with a mean degree of about 8.
#include <benchmark/benchmark.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "core/rng.h"
#include "mesh/graph.h"

namespace meshloop::mesh {
namespace {

struct Topology {
  std::vector<NodeId> nodes;
  std::vector<Graph::Edge> edges;
};

// n nodes uniform in the unit square, linked within radius r; r is chosen for a mean degree of ~8 (the area term,
// raised a little for the nodes near the border, which see fewer neighbours). Costs grow with distance, as ETX
// does with a weaker signal, and differ slightly by direction. Nodes are listed with their edges together, as a
// link-state database would list them.
Topology random_geometric(int n, std::uint64_t seed) {
  Rng rng(seed);
  const double r = std::sqrt(8.0 / (std::numbers::pi * n)) * 1.06;
  std::vector<double> x(n), y(n);
  Topology t;
  for (int i = 0; i < n; ++i) {
    x[i] = rng.uniform();
    y[i] = rng.uniform();
    t.nodes.push_back(static_cast<NodeId>(1 + i * 7919 % 1000003));  // scattered ids, not equal to indices
  }
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) {
      const double d = std::hypot(x[a] - x[b], y[a] - y[b]);
      if (a == b || d > r) continue;
      const auto base = static_cast<Cost>(100 + 300 * (d / r) * (d / r));
      t.edges.push_back({t.nodes[a], t.nodes[b], base + static_cast<Cost>(rng.uniform_int(0, 20))});
    }
  }
  return t;
}

void set_counters(benchmark::State& state, const Graph& g) {
  state.counters["nodes"] = static_cast<double>(g.size());
  state.counters["mean_degree"] = static_cast<double>(g.edge_count()) / static_cast<double>(g.size());
}

void BM_Build(benchmark::State& state) {
  const Topology t = random_geometric(static_cast<int>(state.range(0)), 1);
  for (auto _ : state) {
    Graph g = Graph::build(t.nodes, t.edges);
    benchmark::DoNotOptimize(g);
  }
  set_counters(state, Graph::build(t.nodes, t.edges));
}

void BM_ShortestPaths(benchmark::State& state) {
  const Topology t = random_geometric(static_cast<int>(state.range(0)), 1);
  const Graph g = Graph::build(t.nodes, t.edges);
  Index source = 0;
  for (auto _ : state) {
    ShortestPaths sp = shortest_paths(g, source);
    benchmark::DoNotOptimize(sp);
    source = (source + 1) % static_cast<Index>(g.size());
  }
  set_counters(state, g);
}

// A node-protecting backup: SPF with the primary next hop (here the source's first neighbour) left out.
void BM_ShortestPathsExcludingNode(benchmark::State& state) {
  const Topology t = random_geometric(static_cast<int>(state.range(0)), 1);
  const Graph g = Graph::build(t.nodes, t.edges);
  Index source = 0;
  for (auto _ : state) {
    Exclusions ex;
    if (!g.targets(source).empty()) ex.node = g.targets(source)[0];
    ShortestPaths sp = shortest_paths(g, source, ex);
    benchmark::DoNotOptimize(sp);
    source = (source + 1) % static_cast<Index>(g.size());
  }
  set_counters(state, g);
}

// Pairs far apart (indices follow ids, not positions, so s and s + n/2 are unrelated points).
void BM_DisjointPair(benchmark::State& state) {
  const Topology t = random_geometric(static_cast<int>(state.range(0)), 1);
  const Graph g = Graph::build(t.nodes, t.edges);
  const auto n = static_cast<Index>(g.size());
  Index source = 0;
  std::int64_t found = 0;
  for (auto _ : state) {
    auto pair = disjoint_pair(g, source, (source + n / 2) % n);
    found += pair.has_value();
    benchmark::DoNotOptimize(pair);
    source = (source + 1) % n;
  }
  set_counters(state, g);
  state.counters["found_ratio"] = static_cast<double>(found) / static_cast<double>(state.iterations());
}

BENCHMARK(BM_Build)->Arg(1000)->Arg(2000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ShortestPaths)->Arg(1000)->Arg(2000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ShortestPathsExcludingNode)->Arg(1000)->Arg(2000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DisjointPair)->Arg(1000)->Arg(2000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace meshloop::mesh
