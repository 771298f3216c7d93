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

// Churn on a two-way graph: each step edits `links` random links (of the original topology), both directions: a new
// cost within 30% of the original (up or down) nine times in ten, else the link vanishes, or comes back if it had
// (so ~9% are gone at a time). The graph stays close to the original however many steps run. Both SPF benchmarks below
// replay the same steps, so they compare like with like; an edit costs O(degree), far below either.
class LinkChurn {
 public:
  LinkChurn(const Topology& t, std::uint64_t seed)
      : graph_(Graph::build(t.nodes, t.edges, Graph::Links::kTwoWayOnly)), rng_(seed) {
    for (Index u = 0; u < graph_.size(); ++u) {
      for (Index v : graph_.targets(u)) {
        if (u < v) links_.push_back({u, v, graph_.edge_cost(u, v), graph_.edge_cost(v, u)});
      }
    }
  }
  Graph& graph() { return graph_; }
  // Edits `links` links and returns their ends.
  const std::vector<Index>& step(int links) {
    changed_.clear();
    for (int k = 0; k < links; ++k) {
      const Link& l =
          links_[static_cast<std::size_t>(rng_.uniform_int(0, static_cast<std::int64_t>(links_.size()) - 1))];
      const bool present = graph_.edge_cost(l.u, l.v) != kInfiniteCost;
      const bool drop = present && rng_.bernoulli(0.1);
      graph_.set_edge(l.u, l.v, drop ? kInfiniteCost : near(l.uv));
      graph_.set_edge(l.v, l.u, drop ? kInfiniteCost : near(l.vu));
      changed_.push_back(l.u);
      changed_.push_back(l.v);
    }
    return changed_;
  }

 private:
  struct Link {
    Index u, v;
    Cost uv, vu;  // original costs
  };
  Cost near(Cost original) { return static_cast<Cost>(static_cast<double>(original) * (0.7 + 0.6 * rng_.uniform())); }

  Graph graph_;
  Rng rng_;
  std::vector<Link> links_;
  std::vector<Index> changed_;
};

// Incremental SPF after each churn step (args: nodes, links edited per step). With one link per step this is the
// common case under churn; the larger steps show where a full run becomes cheaper.
void BM_UpdateShortestPaths(benchmark::State& state) {
  LinkChurn churn(random_geometric(static_cast<int>(state.range(0)), 1), 2);
  ShortestPaths sp = shortest_paths(churn.graph(), 0);
  std::int64_t refused = 0;
  for (auto _ : state) {
    const auto& changed = churn.step(static_cast<int>(state.range(1)));
    refused += !update_shortest_paths(churn.graph(), sp, changed, {});
    benchmark::DoNotOptimize(sp);
  }
  set_counters(state, churn.graph());
  state.counters["refused"] = static_cast<double>(refused);
}

// The same steps, each followed by a full run into the same result (as the router did before).
void BM_ShortestPathsAfterChurn(benchmark::State& state) {
  LinkChurn churn(random_geometric(static_cast<int>(state.range(0)), 1), 2);
  ShortestPaths sp = shortest_paths(churn.graph(), 0);
  for (auto _ : state) {
    churn.step(static_cast<int>(state.range(1)));
    shortest_paths(churn.graph(), 0, {}, sp);
    benchmark::DoNotOptimize(sp);
  }
  set_counters(state, churn.graph());
}

BENCHMARK(BM_Build)->Arg(1000)->Arg(2000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ShortestPaths)->Arg(1000)->Arg(2000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ShortestPathsExcludingNode)->Arg(1000)->Arg(2000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DisjointPair)->Arg(1000)->Arg(2000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UpdateShortestPaths)->ArgsProduct({{1000}, {1, 4, 16, 32, 64, 125}})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ShortestPathsAfterChurn)->ArgsProduct({{1000}, {1, 4, 16, 32, 64, 125}})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace meshloop::mesh
