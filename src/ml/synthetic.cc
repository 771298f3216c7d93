#include "ml/synthetic.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>
#include <vector>

namespace meshloop::ml {
namespace {

using Eigen::Index;

float clamp01(double x) { return static_cast<float>(std::clamp(x, 0.0, 1.0)); }
float positive(double x) { return static_cast<float>(std::max(x, 0.0)); }

void set_node(Graph& g, std::size_t v, NodeFeature f, float x) {
  g.node_features(static_cast<Index>(v), static_cast<Index>(index(f))) = x;
}
void set_edge(Graph& g, std::size_t e, EdgeFeature f, float x) {
  g.edge_features(static_cast<Index>(e), static_cast<Index>(index(f))) = x;
}

}  // namespace

Graph random_mesh(std::size_t n, double degree, Rng& rng) {
  std::set<std::pair<std::int32_t, std::int32_t>> links;
  auto add = [&links](std::size_t a, std::size_t b) {
    if (a == b) return;
    const auto lo = static_cast<std::int32_t>(std::min(a, b)), hi = static_cast<std::int32_t>(std::max(a, b));
    links.insert({lo, hi});
  };
  for (std::size_t v = 0; v < n; ++v) add(v, (v + 1) % n);
  const auto wanted = static_cast<std::size_t>(degree * static_cast<double>(n) / 2.0);
  // Chords mostly between nearby ring positions (mesh-like locality), some long ones.
  std::size_t attempts = 0;
  while (links.size() < wanted && attempts < 20 * wanted) {
    ++attempts;
    const auto a = static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(n) - 1));
    const std::int64_t span = rng.bernoulli(0.8) ? 1 + rng.uniform_int(1, 8) : rng.uniform_int(1, static_cast<std::int64_t>(n) - 1);
    add(a, (a + static_cast<std::size_t>(span)) % n);
  }
  const std::vector<std::pair<std::int32_t, std::int32_t>> list(links.begin(), links.end());
  return Graph::from_links(n, list);
}

LabelledWindow synthetic_window(const SyntheticConfig& config, Rng& rng) {
  return synthetic_window(random_mesh(config.nodes, config.degree, rng), config, rng);
}

LabelledWindow synthetic_window(Graph graph, const SyntheticConfig& config, Rng& rng) {
  const std::size_t n = graph.num_nodes(), m = graph.num_edges();
  LabelledWindow w;
  w.node_labels.assign(n, 0.0f);
  w.edge_labels.assign(m, 0.0f);
  for (std::size_t v = 0; v < n; ++v) {
    set_node(graph, v, NodeFeature::kCpu, clamp01(rng.normal(config.background_cpu, 0.08)));
    set_node(graph, v, NodeFeature::kMemory, clamp01(rng.normal(0.4, 0.08)));
    set_node(graph, v, NodeFeature::kQueueDropRatio, clamp01(std::abs(rng.normal(0.0, 0.002))));
    set_node(graph, v, NodeFeature::kForwardLossRatio, clamp01(std::abs(rng.normal(0.0, 0.004)) + config.background_loss / 2));
    set_node(graph, v, NodeFeature::kUpNeighbourRatio, 1.0f);
    set_node(graph, v, NodeFeature::kRouteChangesPerS, positive(rng.exponential(0.05)));
    set_node(graph, v, NodeFeature::kTelemetryAgeS, positive(rng.uniform() * 2.0));
  }
  const std::vector<std::int32_t> rev = reverse_edges(graph);
  for (std::size_t e = 0; e < m; ++e) {
    set_edge(graph, e, EdgeFeature::kLossIn, clamp01(rng.normal(config.background_loss, config.background_loss / 2 + 0.002)));
    set_edge(graph, e, EdgeFeature::kLossOut, clamp01(rng.normal(config.background_loss, config.background_loss / 2 + 0.002)));
    set_edge(graph, e, EdgeFeature::kRttMs, positive(rng.normal(6.0, 1.5)));
    set_edge(graph, e, EdgeFeature::kJitterMs, positive(rng.normal(0.6, 0.2)));
    set_edge(graph, e, EdgeFeature::kLinkAgeS, positive(60.0 + rng.uniform() * 3600.0));
    set_edge(graph, e, EdgeFeature::kUp, 1.0f);
    set_edge(graph, e, EdgeFeature::kRssiDbm, static_cast<float>(rng.normal(-60.0, 5.0)));
    set_edge(graph, e, EdgeFeature::kSnrDb, static_cast<float>(rng.normal(25.0, 3.0)));
    set_edge(graph, e, EdgeFeature::kThroughputMbps, positive(rng.normal(20.0, 5.0)));
  }
  // Link faults, once per undirected link (the entry with the smaller index decides), applied to both entries.
  for (std::size_t e = 0; e < m; ++e) {
    const std::int32_t r = rev[e];
    if (r >= 0 && static_cast<std::size_t>(r) < e) continue;
    if (!rng.bernoulli(config.link_fault_probability)) continue;
    const bool flapping = rng.bernoulli(0.5);
    const double loss = flapping ? 0.05 + 0.25 * rng.uniform() : 0.08 + 0.4 * rng.uniform();
    for (const std::int32_t x : {static_cast<std::int32_t>(e), r}) {
      if (x < 0) continue;
      const auto i = static_cast<std::size_t>(x);
      set_edge(graph, i, EdgeFeature::kLossIn, clamp01(rng.normal(loss, 0.02)));
      set_edge(graph, i, EdgeFeature::kLossOut, clamp01(rng.normal(loss, 0.02)));
      if (flapping) {
        set_edge(graph, i, EdgeFeature::kLinkAgeS, positive(rng.uniform() * 8.0));
        set_edge(graph, i, EdgeFeature::kJitterMs, positive(rng.normal(4.0, 1.0)));
      } else {
        set_edge(graph, i, EdgeFeature::kRttMs, positive(rng.normal(25.0, 6.0)));
        set_edge(graph, i, EdgeFeature::kSnrDb, static_cast<float>(rng.normal(9.0, 2.0)));
        set_edge(graph, i, EdgeFeature::kThroughputMbps, positive(rng.normal(4.0, 1.5)));
      }
      w.edge_labels[i] = 1.0f;
    }
  }
  for (std::size_t v = 0; v < n; ++v) {
    if (!rng.bernoulli(config.node_fault_probability)) continue;
    const auto kind = rng.uniform_int(0, 2);
    w.node_labels[v] = 1.0f;
    if (kind == 0) {  // overloaded
      set_node(graph, v, NodeFeature::kCpu, clamp01(rng.normal(0.95, 0.03)));
      set_node(graph, v, NodeFeature::kMemory, clamp01(rng.normal(0.8, 0.08)));
      set_node(graph, v, NodeFeature::kQueueDropRatio, clamp01(rng.normal(0.08, 0.03)));
    } else if (kind == 1) {  // gray hole: transit data vanishes, hellos (and so link features) look healthy
      set_node(graph, v, NodeFeature::kForwardLossRatio, clamp01(rng.normal(0.6, 0.2)));
    } else {  // crashed: stale telemetry, every link of it down from both sides
      set_node(graph, v, NodeFeature::kTelemetryAgeS, positive(rng.normal(12.0, 3.0)));
      set_node(graph, v, NodeFeature::kUpNeighbourRatio, 0.0f);
      for (std::int32_t e = graph.offsets[v]; e < graph.offsets[v + 1]; ++e) {
        for (const std::int32_t x : {e, rev[static_cast<std::size_t>(e)]}) {
          if (x < 0) continue;
          const auto i = static_cast<std::size_t>(x);
          set_edge(graph, i, EdgeFeature::kLossIn, 1.0f);
          set_edge(graph, i, EdgeFeature::kLossOut, 1.0f);
          set_edge(graph, i, EdgeFeature::kUp, 0.0f);
          set_edge(graph, i, EdgeFeature::kThroughputMbps, 0.0f);
        }
      }
    }
  }
  w.graph = std::move(graph);
  return w;
}

}  // namespace meshloop::ml
