#include "ml/inference.h"

#include <algorithm>
#include <cassert>

#include "ml/graphsage.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace meshloop::ml::detail {
namespace {

using Eigen::Index;
constexpr std::size_t kFe = kEdgeFeatureCount;

#if defined(__SSE2__)
// For the 4 * KC lanes of one block of the edge head's hidden layer (pointers already offset to the block):
// relu(base + pv + E^T x) * q, summed lane-wise. Feature-outer order keeps KC independent accumulators in registers;
// a lane-outer loop was one dependent chain of 9 adds per 4 lanes and ran at the adder's latency.
template <std::size_t KC>
__m128 edge_block(const float* base, const float* pv, const float* et, std::size_t kp, const float* q, const float* x) {
  __m128 acc[KC];
#pragma GCC unroll 8
  for (std::size_t c = 0; c < KC; ++c) acc[c] = _mm_add_ps(_mm_loadu_ps(base + 4 * c), _mm_loadu_ps(pv + 4 * c));
#pragma GCC unroll 16
  for (std::size_t f = 0; f < kFe; ++f) {
    const __m128 xf = _mm_set1_ps(x[f]);
#pragma GCC unroll 8
    for (std::size_t c = 0; c < KC; ++c) {
      acc[c] = _mm_add_ps(acc[c], _mm_mul_ps(xf, _mm_loadu_ps(et + f * kp + 4 * c)));
    }
  }
  __m128 sum = _mm_setzero_ps();
#pragma GCC unroll 8
  for (std::size_t c = 0; c < KC; ++c) {
    sum = _mm_add_ps(sum, _mm_mul_ps(_mm_max_ps(acc[c], _mm_setzero_ps()), _mm_loadu_ps(q + 4 * c)));
  }
  return sum;
}
#endif

}  // namespace

void mean_neighbours(const FeatureMatrix& in, Index in_col, Index width, const Graph& graph, FeatureMatrix& out,
                     Index out_col) {
  const std::size_t n = graph.num_nodes(), d = static_cast<std::size_t>(width);
  const auto in_stride = static_cast<std::size_t>(in.cols()), out_stride = static_cast<std::size_t>(out.cols());
  const float* src = in.data() + in_col;
  for (std::size_t v = 0; v < n; ++v) {
    float* dst = out.data() + v * out_stride + static_cast<std::size_t>(out_col);
    const std::int32_t lo = graph.offsets[v], hi = graph.offsets[v + 1];
    if (hi == lo) {
      std::fill(dst, dst + d, 0.0f);
      continue;
    }
    const float inv = 1.0f / static_cast<float>(hi - lo);
    const std::int32_t* targets = graph.targets.data();
    std::size_t j = 0;
#if defined(__SSE2__)
    // 16 columns at a time summed in registers over the neighbours, then scaled and stored once.
    for (; j + 16 <= d; j += 16) {
      __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (std::int32_t e = lo; e < hi; ++e) {
        const float* r = src + static_cast<std::size_t>(targets[e]) * in_stride + j;
        a0 = _mm_add_ps(a0, _mm_loadu_ps(r));
        a1 = _mm_add_ps(a1, _mm_loadu_ps(r + 4));
        a2 = _mm_add_ps(a2, _mm_loadu_ps(r + 8));
        a3 = _mm_add_ps(a3, _mm_loadu_ps(r + 12));
      }
      const __m128 s = _mm_set1_ps(inv);
      _mm_storeu_ps(dst + j, _mm_mul_ps(a0, s));
      _mm_storeu_ps(dst + j + 4, _mm_mul_ps(a1, s));
      _mm_storeu_ps(dst + j + 8, _mm_mul_ps(a2, s));
      _mm_storeu_ps(dst + j + 12, _mm_mul_ps(a3, s));
    }
#endif
    for (; j < d; ++j) {
      float a = 0;
      for (std::int32_t e = lo; e < hi; ++e) a += src[static_cast<std::size_t>(targets[e]) * in_stride + j];
      dst[j] = a * inv;
    }
  }
}

void add_bias_relu(FeatureMatrix& y, Index col, const Eigen::RowVectorXf& bias) {
  const auto rows = static_cast<std::size_t>(y.rows()), stride = static_cast<std::size_t>(y.cols());
  const auto d = static_cast<std::size_t>(bias.size());
  const float* b = bias.data();
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = y.data() + r * stride + static_cast<std::size_t>(col);
    std::size_t j = 0;
#if defined(__SSE2__)
    for (; j + 4 <= d; j += 4) {
      _mm_storeu_ps(row + j, _mm_max_ps(_mm_add_ps(_mm_loadu_ps(row + j), _mm_loadu_ps(b + j)), _mm_setzero_ps()));
    }
#endif
    for (; j < d; ++j) row[j] = std::max(row[j] + b[j], 0.0f);
  }
}

void layer1_input(const FeatureMatrix& x, const FeatureMatrix& xe, const Graph& graph, FeatureMatrix& c1) {
  const Index n = x.rows(), fn = x.cols(), fe = xe.cols();
  c1.resize(n, 2 * fn + fe);
  c1.leftCols(fn) = x;
  mean_neighbours(x, 0, fn, graph, c1, fn);
  for (Index v = 0; v < n; ++v) {
    const std::int32_t lo = graph.offsets[static_cast<std::size_t>(v)];
    const std::int32_t hi = graph.offsets[static_cast<std::size_t>(v) + 1];
    auto dst = c1.row(v).segment(2 * fn, fe);
    if (hi == lo) {
      dst.setZero();
    } else {
      dst = xe.middleRows(lo, hi - lo).colwise().sum() / static_cast<float>(hi - lo);
    }
  }
}

EdgeHead::EdgeHead(const float* e, const float* c, const float* q, float d, std::size_t k)
    : kp_((k + 3) / 4 * 4), et_(kFe * kp_, 0.0f), c_(kp_, 0.0f), q_(kp_, 0.0f), d_(d) {
  for (std::size_t j = 0; j < k; ++j) {
    for (std::size_t f = 0; f < kFe; ++f) et_[f * kp_ + j] = e[j * kFe + f];
    c_[j] = c[j];
    q_[j] = q[j];
  }
}

void EdgeHead::score(const FeatureMatrix& pn, const FeatureMatrix& xe, const Graph& graph,
                     std::vector<float>& out) const {
  assert(static_cast<std::size_t>(pn.cols()) == kp_ && static_cast<std::size_t>(xe.cols()) == kFe);
  const std::size_t n = graph.num_nodes();
  out.resize(graph.num_edges());
  thread_local std::vector<float> base;  // pn_u + c for the current tail u
  base.resize(kp_);
  const float* et = et_.data();
  for (std::size_t u = 0; u < n; ++u) {
    const float* pu = pn.data() + u * kp_;
    for (std::size_t j = 0; j < kp_; ++j) base[j] = pu[j] + c_[j];
    for (std::int32_t e = graph.offsets[u]; e < graph.offsets[u + 1]; ++e) {
      const float* pv = pn.data() + static_cast<std::size_t>(graph.targets[static_cast<std::size_t>(e)]) * kp_;
      const float* x = xe.data() + static_cast<std::size_t>(e) * kFe;
      float logit = d_;
#if defined(__SSE2__)
      __m128 sum = _mm_setzero_ps();
      std::size_t j = 0;
      // Blocks of 16 lanes: 4 accumulators, a broadcast and a product fit the 16 SSE registers without spilling
      // (blocks of 32 spilled to the stack).
      for (; j + 16 <= kp_; j += 16) {
        sum = _mm_add_ps(sum, edge_block<4>(base.data() + j, pv + j, et + j, kp_, q_.data() + j, x));
      }
      const float* b = base.data() + j;
      switch ((kp_ - j) / 4) {
        case 3: sum = _mm_add_ps(sum, edge_block<3>(b, pv + j, et + j, kp_, q_.data() + j, x)); break;
        case 2: sum = _mm_add_ps(sum, edge_block<2>(b, pv + j, et + j, kp_, q_.data() + j, x)); break;
        case 1: sum = _mm_add_ps(sum, edge_block<1>(b, pv + j, et + j, kp_, q_.data() + j, x)); break;
        default: break;
      }
      sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
      sum = _mm_add_ss(sum, _mm_shuffle_ps(sum, sum, 0x55));
      logit += _mm_cvtss_f32(sum);
#else
      for (std::size_t j = 0; j < kp_; ++j) {
        float a = base[j] + pv[j];
        for (std::size_t f = 0; f < kFe; ++f) a += x[f] * et[f * kp_ + j];
        logit += std::max(a, 0.0f) * q_[j];
      }
#endif
      out[static_cast<std::size_t>(e)] = sigmoid(logit);
    }
  }
}

}  // namespace meshloop::ml::detail
