#include "ml/graphsage.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>
#include <utility>

#include "core/rng.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

#if defined(__SSE2__)
inline __m128 select(__m128 mask, __m128 a, __m128 b) { return _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b)); }

// fast_log1p (features.h) on four lanes, operation for operation, so every lane rounds exactly as the scalar does
// (tests compare bits). A NaN lane gives a finite value here; the caller masks NaN lanes.
[[gnu::always_inline]] inline __m128 fast_log1p4(__m128 x) {
  const __m128 one = _mm_set1_ps(1.0f);
  const __m128 y = _mm_add_ps(one, _mm_max_ps(x, _mm_setzero_ps()));
  const __m128 huge = _mm_cmpnlt_ps(y, _mm_set1_ps(3.0e38f));
  const __m128i bits = _mm_castps_si128(y);
  __m128i e = _mm_sub_epi32(_mm_srli_epi32(bits, 23), _mm_set1_epi32(127));
  __m128 m = _mm_castsi128_ps(_mm_or_si128(_mm_and_si128(bits, _mm_set1_epi32(0x7fffff)), _mm_set1_epi32(0x3f800000)));
  const __m128 above = _mm_cmpgt_ps(m, _mm_set1_ps(1.41421356f));
  m = select(above, _mm_mul_ps(m, _mm_set1_ps(0.5f)), m);
  e = _mm_sub_epi32(e, _mm_castps_si128(above));  // all-ones lanes are -1: ++e
  const __m128 t = _mm_div_ps(_mm_sub_ps(m, one), _mm_add_ps(m, one));
  const __m128 t2 = _mm_mul_ps(t, t);
  __m128 series = _mm_mul_ps(t2, _mm_set1_ps(2.0f / 9));
  series = _mm_mul_ps(t2, _mm_add_ps(_mm_set1_ps(2.0f / 7), series));
  series = _mm_mul_ps(t2, _mm_add_ps(_mm_set1_ps(2.0f / 5), series));
  series = _mm_mul_ps(t2, _mm_add_ps(_mm_set1_ps(2.0f / 3), series));
  series = _mm_mul_ps(t, _mm_add_ps(_mm_set1_ps(2.0f), series));
  const __m128 r = _mm_add_ps(_mm_mul_ps(_mm_cvtepi32_ps(e), _mm_set1_ps(0.69314718f)), series);
  return select(huge, _mm_set1_ps(88.72284f), r);
}
#endif

// Per-feature transform, (x - mean) / spread, clip, NaN -> 0, over a row-major matrix of N columns. The matrix is one
// flat array whose column pattern repeats every N floats, so every 4N floats it lines up with 4-lane vectors again:
// the lane parameters of one 4N-float period are laid out once and the array is processed period by period; the
// tail (fewer than 4N floats) takes the scalar path. Both paths give the same bits.
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
  const float* in = raw.data();
  float* o = out.data();
  const std::size_t total = static_cast<std::size_t>(raw.size());
  std::size_t i = 0;
#if defined(__SSE2__)
  constexpr std::size_t kPeriod = 4 * N;
  alignas(16) std::array<float, kPeriod> lane_mean{}, lane_inv{};
  alignas(16) std::array<std::uint32_t, kPeriod> lane_log{};
  std::array<bool, N> vector_has_log{};
  for (std::size_t p = 0; p < kPeriod; ++p) {
    lane_mean[p] = mean[p % N];
    lane_inv[p] = inv[p % N];
    lane_log[p] = log[p % N] ? ~0u : 0u;
    vector_has_log[p / 4] = vector_has_log[p / 4] || log[p % N];
  }
  const __m128 lo = _mm_set1_ps(-Normaliser::kClip), hi = _mm_set1_ps(Normaliser::kClip);
  for (; i + kPeriod <= total; i += kPeriod) {
    for (std::size_t b = 0; b < N; ++b) {
      const __m128 x = _mm_loadu_ps(in + i + 4 * b);
      __m128 t = x;
      if (vector_has_log[b]) {
        t = select(_mm_load_ps(reinterpret_cast<const float*>(lane_log.data() + 4 * b)), fast_log1p4(x), x);
      }
      __m128 z = _mm_mul_ps(_mm_sub_ps(t, _mm_load_ps(lane_mean.data() + 4 * b)), _mm_load_ps(lane_inv.data() + 4 * b));
      z = _mm_min_ps(_mm_max_ps(z, lo), hi);
      _mm_storeu_ps(o + i + 4 * b, _mm_andnot_ps(_mm_cmpunord_ps(x, x), z));
    }
  }
#endif
  for (; i < total; ++i) {
    const std::size_t f = i % N;
    const float x = log[f] ? fast_log1p(in[i]) : in[i];
    const float z = std::clamp((x - mean[f]) * inv[f], -Normaliser::kClip, Normaliser::kClip);
    o[i] = std::isnan(x) ? 0.0f : z;
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
      params_(std::move(params)) {
  prepare_inference();
}

void GraphSage::prepare_inference() {
  const detail::Layout& L = layout_;
  const float* p = params_.data();
  const auto h = static_cast<Index>(L.h), k = static_cast<Index>(L.k);
  using CMap = Eigen::Map<const detail::Mat<float>>;
  InferenceWeights& w = inference_;
  w.w1t = CMap(p + L.w1, h, static_cast<Index>(L.c1_cols())).transpose();
  w.w2t = CMap(p + L.w2, h, 2 * h).transpose();
  w.b1 = Eigen::Map<const Eigen::RowVectorXf>(p + L.b1, h);
  w.b2 = Eigen::Map<const Eigen::RowVectorXf>(p + L.b2, h);
  w.wn = Eigen::Map<const Eigen::VectorXf>(p + L.wn, h);
  w.bn = p[L.bn];
  w.edge = detail::EdgeHead(p + L.e, p + L.c, p + L.q, p[L.d], L.k);
  w.pt = detail::Mat<float>::Zero(h, static_cast<Index>(w.edge.padded_width()));
  w.pt.leftCols(k) = CMap(p + L.p, k, h).transpose();
}

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

Result<GraphSage> GraphSage::from_parameters(Shape shape, const Normaliser& normaliser, std::vector<float> parameters) {
  if (shape.hidden == 0 || shape.edge_hidden == 0) {
    return Status::InvalidArgument("graphsage: hidden and edge_hidden must be positive");
  }
  const auto layout = detail::Layout::of(kNodeFeatureCount, kEdgeFeatureCount, shape.hidden, shape.edge_hidden);
  if (parameters.size() != layout.size) {
    return Status::InvalidArgument("graphsage: " + std::to_string(parameters.size()) + " parameters, shape (hidden " +
                                   std::to_string(shape.hidden) + ", edge_hidden " + std::to_string(shape.edge_hidden) +
                                   ") needs " + std::to_string(layout.size));
  }
  return GraphSage(shape, normaliser, std::move(parameters));
}

void GraphSage::set_parameters(std::span<const float> parameters) {
  assert(parameters.size() == params_.size());
  std::copy(parameters.begin(), parameters.end(), params_.begin());
  prepare_inference();
}

namespace {
// Inference buffers kept per thread: after the first call on a graph of a given size, scoring allocates nothing
// (allocation and page faults were a sixth of a 1000-node inference).
struct Workspace {
  FeatureMatrix x, xe, c1, c2, h2, pn;
};
Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}
}  // namespace

// The forward pass of graphsage_math.h for inference only: the same arithmetic up to float rounding (summation order),
// with the transposed weights prepared once per model, layer 1 written straight into layer 2's input, bias and ReLU
// in one pass after each product, and the edge head fused into one pass over the entries (inference.h).
void GraphSage::score(const Graph& graph, Scores& out) const {
  Workspace& ws = workspace();
  const InferenceWeights& w = inference_;
  const auto n = static_cast<Index>(graph.num_nodes()), h = static_cast<Index>(shape_.hidden);
  normaliser_.apply(graph, ws.x, ws.xe);
  detail::layer1_input(ws.x, ws.xe, graph, ws.c1);

  ws.c2.resize(n, 2 * h);
  ws.h2.resize(n, h);
  ws.pn.resize(n, w.pt.cols());
  out.node.resize(graph.num_nodes());
  Eigen::Map<Eigen::VectorXf> node_logit(out.node.data(), n);
  if (detail::inference_isa() == detail::Isa::kAvx2Fma) {
    // The same products with our AVX2 + FMA kernel, bias and ReLU folded in (inference.h).
    const auto un = static_cast<std::size_t>(n), uh = static_cast<std::size_t>(h);
    const auto c1_cols = static_cast<std::size_t>(ws.c1.cols()), kp = static_cast<std::size_t>(w.pt.cols());
    detail::gemm_avx2(ws.c1.data(), c1_cols, un, c1_cols, w.w1t.data(), uh, uh, w.b1.data(), true, ws.c2.data(),
                      2 * uh);
    detail::mean_neighbours(ws.c2, 0, h, graph, ws.c2, h);
    detail::gemm_avx2(ws.c2.data(), 2 * uh, un, 2 * uh, w.w2t.data(), uh, uh, w.b2.data(), true, ws.h2.data(), uh);
    node_logit.noalias() = ws.h2 * w.wn;
    detail::sigmoid_avx2(out.node.data(), un, w.bn);
    detail::gemm_avx2(ws.h2.data(), uh, un, uh, w.pt.data(), kp, kp, nullptr, false, ws.pn.data(), kp);
  } else {
    auto h1 = ws.c2.leftCols(h);
    h1.noalias() = ws.c1 * w.w1t;
    detail::add_bias_relu(ws.c2, 0, w.b1);
    detail::mean_neighbours(ws.c2, 0, h, graph, ws.c2, h);

    ws.h2.noalias() = ws.c2 * w.w2t;
    detail::add_bias_relu(ws.h2, 0, w.b2);

    node_logit.noalias() = ws.h2 * w.wn;
    for (float& s : out.node) s = sigmoid(s + w.bn);

    ws.pn.noalias() = ws.h2 * w.pt;
  }
  w.edge.score(ws.pn, ws.xe, graph, out.edge);
}

}  // namespace meshloop::ml
