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

}  // namespace

void mean_neighbours(const FeatureMatrix& in, Index in_col, Index width, const Graph& graph, FeatureMatrix& out,
                     Index out_col) {
  const std::size_t n = graph.num_nodes();
  const Index in_stride = in.cols(), out_stride = out.cols();
  for (std::size_t v = 0; v < n; ++v) {
    Eigen::Map<Eigen::RowVectorXf> dst(out.data() + static_cast<Index>(v) * out_stride + out_col, width);
    dst.setZero();
    const std::int32_t lo = graph.offsets[v], hi = graph.offsets[v + 1];
    if (hi == lo) continue;
    for (std::int32_t e = lo; e < hi; ++e) {
      const Index u = graph.targets[static_cast<std::size_t>(e)];
      dst += Eigen::Map<const Eigen::RowVectorXf>(in.data() + u * in_stride + in_col, width);
    }
    dst *= 1.0f / static_cast<float>(hi - lo);
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
      __m128 xb[kFe];
      for (std::size_t f = 0; f < kFe; ++f) xb[f] = _mm_set1_ps(x[f]);
      __m128 sum = _mm_setzero_ps();
      for (std::size_t j = 0; j < kp_; j += 4) {
        __m128 a = _mm_add_ps(_mm_loadu_ps(base.data() + j), _mm_loadu_ps(pv + j));
        for (std::size_t f = 0; f < kFe; ++f) a = _mm_add_ps(a, _mm_mul_ps(xb[f], _mm_loadu_ps(et + f * kp_ + j)));
        sum = _mm_add_ps(sum, _mm_mul_ps(_mm_max_ps(a, _mm_setzero_ps()), _mm_loadu_ps(q_.data() + j)));
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
