#include "ml/graphsage.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>
#include <utility>

#include "core/rng.h"

namespace meshloop::ml {
namespace {

using Eigen::Index;

template <std::size_t N>
void fit_columns(std::span<const Graph* const> graphs, bool edges, const std::array<FeatureInfo, N>& info,
                 std::array<float, N>& mean, std::array<float, N>& scale) {
  for (std::size_t f = 0; f < N; ++f) {
    double sum = 0, sum_sq = 0;
    std::size_t count = 0;
    for (const Graph* g : graphs) {
      const FeatureMatrix& m = edges ? g->edge_features : g->node_features;
      for (Index r = 0; r < m.rows(); ++r) {
        const float x = transform_value(info[f].transform, m(r, static_cast<Index>(f)));
        if (std::isnan(x)) continue;
        sum += x;
        sum_sq += static_cast<double>(x) * x;
        ++count;
      }
    }
    if (count == 0) {
      mean[f] = 0.0f;
      scale[f] = 1.0f;
      continue;
    }
    const double mu = sum / static_cast<double>(count);
    const double var = std::max(0.0, sum_sq / static_cast<double>(count) - mu * mu);
    const double sd = std::sqrt(var);
    mean[f] = static_cast<float>(mu);
    scale[f] = sd > 1e-6 ? static_cast<float>(sd) : 1.0f;
  }
}

template <std::size_t N>
void normalise(const FeatureMatrix& raw, const std::array<FeatureInfo, N>& info, const std::array<float, N>& mean,
               const std::array<float, N>& scale, FeatureMatrix& out) {
  out.resize(raw.rows(), static_cast<Index>(N));
  std::array<float, N> inv{};
  std::array<bool, N> log{};
  for (std::size_t f = 0; f < N; ++f) {
    inv[f] = 1.0f / scale[f];
    log[f] = info[f].transform == Transform::kLog1p;
  }
  for (Index r = 0; r < raw.rows(); ++r) {
    const float* in = raw.data() + r * raw.cols();
    float* o = out.data() + r * static_cast<Index>(N);
    for (std::size_t f = 0; f < N; ++f) {
      const float x = log[f] ? fast_log1p(in[f]) : in[f];
      const float z = std::clamp((x - mean[f]) * inv[f], -Normaliser::kClip, Normaliser::kClip);
      o[f] = std::isnan(x) ? 0.0f : z;
    }
  }
}

}  // namespace

float sigmoid(float x) { return x >= 0 ? 1.0f / (1.0f + std::exp(-x)) : std::exp(x) / (1.0f + std::exp(x)); }

Normaliser Normaliser::identity() {
  Normaliser n;
  n.node_scale.fill(1.0f);
  n.edge_scale.fill(1.0f);
  return n;
}

Normaliser Normaliser::fit(std::span<const Graph* const> graphs) {
  Normaliser n;
  fit_columns(graphs, false, node_feature_info(), n.node_mean, n.node_scale);
  fit_columns(graphs, true, edge_feature_info(), n.edge_mean, n.edge_scale);
  return n;
}

void Normaliser::apply(const Graph& graph, FeatureMatrix& x, FeatureMatrix& xe) const {
  normalise(graph.node_features, node_feature_info(), node_mean, node_scale, x);
  normalise(graph.edge_features, edge_feature_info(), edge_mean, edge_scale, xe);
}

GraphSage::GraphSage(Shape shape, const Normaliser& normaliser, std::vector<float> params)
    : shape_(shape),
      normaliser_(normaliser),
      layout_(detail::Layout::of(kNodeFeatureCount, kEdgeFeatureCount, shape.hidden, shape.edge_hidden)),
      params_(std::move(params)) {}

GraphSage GraphSage::initialise(Shape shape, const Normaliser& normaliser, std::uint64_t seed) {
  const auto layout = detail::Layout::of(kNodeFeatureCount, kEdgeFeatureCount, shape.hidden, shape.edge_hidden);
  std::vector<float> params(layout.size, 0.0f);
  Rng rng(seed);
  // Glorot uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)). Biases start at 0.
  auto fill = [&](std::size_t at, std::size_t rows, std::size_t cols) {
    const double a = std::sqrt(6.0 / static_cast<double>(rows + cols));
    for (std::size_t i = 0; i < rows * cols; ++i) params[at + i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * a);
  };
  fill(layout.w1, layout.h, layout.c1_cols());
  fill(layout.w2, layout.h, 2 * layout.h);
  fill(layout.wn, 1, layout.h);
  fill(layout.p, layout.k, layout.h);
  fill(layout.e, layout.k, layout.fe);
  fill(layout.q, 1, layout.k);
  return GraphSage(shape, normaliser, std::move(params));
}

Result<GraphSage> GraphSage::from_parameters(Shape shape, const Normaliser& normaliser,
                                             std::vector<float> parameters) {
  if (shape.hidden == 0 || shape.edge_hidden == 0) {
    return Status::InvalidArgument("graphsage: hidden and edge_hidden must be positive");
  }
  const auto layout = detail::Layout::of(kNodeFeatureCount, kEdgeFeatureCount, shape.hidden, shape.edge_hidden);
  if (parameters.size() != layout.size) {
    return Status::InvalidArgument("graphsage: " + std::to_string(parameters.size()) + " parameters, shape (hidden " +
                                   std::to_string(shape.hidden) + ", edge_hidden " +
                                   std::to_string(shape.edge_hidden) + ") needs " + std::to_string(layout.size));
  }
  return GraphSage(shape, normaliser, std::move(parameters));
}

void GraphSage::set_parameters(std::span<const float> parameters) {
  assert(parameters.size() == params_.size());
  std::copy(parameters.begin(), parameters.end(), params_.begin());
}

namespace {
// Inference buffers kept per thread: after the first call on a graph of a given size, scoring allocates nothing
// (allocation and page faults were a sixth of a 1000-node inference).
struct Workspace {
  FeatureMatrix x, xe;
  std::vector<std::int32_t> sources;
  detail::Activations<float> act;
};
Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}
}  // namespace

void GraphSage::score(const Graph& graph, Scores& out) const {
  Workspace& ws = workspace();
  normaliser_.apply(graph, ws.x, ws.xe);
  ws.sources.resize(graph.num_edges());
  for (std::size_t v = 0; v < graph.num_nodes(); ++v) {
    std::fill(ws.sources.begin() + graph.offsets[v], ws.sources.begin() + graph.offsets[v + 1],
              static_cast<std::int32_t>(v));
  }
  detail::Inputs<float> in{&ws.x, &ws.xe, graph.offsets, graph.targets, ws.sources};
  detail::forward(layout_, params_.data(), in, ws.act);
  out.node.resize(graph.num_nodes());
  out.edge.resize(graph.num_edges());
  for (std::size_t v = 0; v < out.node.size(); ++v) out.node[v] = sigmoid(ws.act.node_logit(static_cast<Index>(v)));
  for (std::size_t e = 0; e < out.edge.size(); ++e) out.edge[e] = sigmoid(ws.act.edge_logit(static_cast<Index>(e)));
}

}  // namespace meshloop::ml
