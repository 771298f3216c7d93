#include "ml/quantised.h"

#include <algorithm>
#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MESHLOOP_ML_HAVE_AVX2_DOT 1
#endif

namespace meshloop::ml {
namespace {

using Eigen::Index;

std::int32_t dot(const std::int16_t* a, const std::int16_t* b, std::size_t n) {
#if defined(__SSE2__)
  __m128i acc0 = _mm_setzero_si128(), acc1 = _mm_setzero_si128();
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm_add_epi32(acc0, _mm_madd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)),
                                              _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i))));
    acc1 = _mm_add_epi32(acc1, _mm_madd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i + 8)),
                                              _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 8))));
  }
  for (; i < n; i += 8) {
    acc0 = _mm_add_epi32(acc0, _mm_madd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)),
                                              _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i))));
  }
  __m128i acc = _mm_add_epi32(acc0, acc1);
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4E));
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xB1));
  return _mm_cvtsi128_si32(acc);
#else
  std::int32_t acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc += static_cast<std::int32_t>(a[i]) * b[i];
  return acc;
#endif
}

// Four dot products of x with four weight rows `stride` apart, reduced together (one transpose instead of four
// horizontal sums).
void dot4(const std::int16_t* x, const std::int16_t* w, std::size_t stride, std::size_t n, std::int32_t* out) {
#if defined(__SSE2__)
  __m128i a0 = _mm_setzero_si128(), a1 = _mm_setzero_si128(), a2 = _mm_setzero_si128(), a3 = _mm_setzero_si128();
  for (std::size_t i = 0; i < n; i += 8) {
    const __m128i xv = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    a0 = _mm_add_epi32(a0, _mm_madd_epi16(xv, _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i))));
    a1 = _mm_add_epi32(a1, _mm_madd_epi16(xv, _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + stride + i))));
    a2 = _mm_add_epi32(a2, _mm_madd_epi16(xv, _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * stride + i))));
    a3 = _mm_add_epi32(a3, _mm_madd_epi16(xv, _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 3 * stride + i))));
  }
  const __m128i s01 = _mm_add_epi32(_mm_unpacklo_epi32(a0, a1), _mm_unpackhi_epi32(a0, a1));
  const __m128i s23 = _mm_add_epi32(_mm_unpacklo_epi32(a2, a3), _mm_unpackhi_epi32(a2, a3));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   _mm_add_epi32(_mm_unpacklo_epi64(s01, s23), _mm_unpackhi_epi64(s01, s23)));
#else
  for (std::size_t k = 0; k < 4; ++k) out[k] = dot(x, w + k * stride, n);
#endif
}

#if defined(MESHLOOP_ML_HAVE_AVX2_DOT)
// dot4 with 256-bit vpmaddwd, 16 pairs per instruction, and an 8-wide tail; integer sums, so exactly dot4's result.
// The tail and the reduction repeat dot4's on purpose: sharing them through a baseline-ISA helper called from this
// AVX2 function made the int8 inference 4x slower (1.1-1.6 -> 6.4-6.5 ms median in ml_bench, session 6).
// Chosen when detail::inference_isa() is AVX2 (decision 0024); intrinsics on raw pointers only.
__attribute__((target("avx2"))) void dot4_avx2(const std::int16_t* x, const std::int16_t* w, std::size_t stride,
                                               std::size_t n, std::int32_t* out) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(xv, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i))));
    a1 = _mm256_add_epi32(a1,
                          _mm256_madd_epi16(xv, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + stride + i))));
    a2 = _mm256_add_epi32(
        a2, _mm256_madd_epi16(xv, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 2 * stride + i))));
    a3 = _mm256_add_epi32(
        a3, _mm256_madd_epi16(xv, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 3 * stride + i))));
  }
  __m128i b0 = _mm_add_epi32(_mm256_castsi256_si128(a0), _mm256_extracti128_si256(a0, 1));
  __m128i b1 = _mm_add_epi32(_mm256_castsi256_si128(a1), _mm256_extracti128_si256(a1, 1));
  __m128i b2 = _mm_add_epi32(_mm256_castsi256_si128(a2), _mm256_extracti128_si256(a2, 1));
  __m128i b3 = _mm_add_epi32(_mm256_castsi256_si128(a3), _mm256_extracti128_si256(a3, 1));
  for (; i < n; i += 8) {
    const __m128i xv = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    b0 = _mm_add_epi32(b0, _mm_madd_epi16(xv, _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i))));
    b1 = _mm_add_epi32(b1, _mm_madd_epi16(xv, _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + stride + i))));
    b2 = _mm_add_epi32(b2, _mm_madd_epi16(xv, _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * stride + i))));
    b3 = _mm_add_epi32(b3, _mm_madd_epi16(xv, _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 3 * stride + i))));
  }
  const __m128i s01 = _mm_add_epi32(_mm_unpacklo_epi32(b0, b1), _mm_unpackhi_epi32(b0, b1));
  const __m128i s23 = _mm_add_epi32(_mm_unpacklo_epi32(b2, b3), _mm_unpackhi_epi32(b2, b3));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   _mm_add_epi32(_mm_unpacklo_epi64(s01, s23), _mm_unpackhi_epi64(s01, s23)));
}
#endif

// Round to nearest, ties to even (what cvtps2dq does under the default rounding mode), clamped to [-127, 127].
std::int16_t quantise(float x, float inv_scale) {
  return static_cast<std::int16_t>(std::nearbyint(std::clamp(x * inv_scale, -127.0f, 127.0f)));
}

float max_abs(const float* x, std::size_t n) {
  std::size_t i = 0;
  float m = 0;
#if defined(__SSE2__)
  const __m128 sign = _mm_set1_ps(-0.0f);
  __m128 acc = _mm_setzero_ps();
  for (; i + 4 <= n; i += 4) acc = _mm_max_ps(acc, _mm_andnot_ps(sign, _mm_loadu_ps(x + i)));
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, acc);
  m = std::max(std::max(lanes[0], lanes[1]), std::max(lanes[2], lanes[3]));
#endif
  for (; i < n; ++i) m = std::max(m, std::abs(x[i]));
  return m;
}

// x * inv rounded to int16; |x * inv| <= 127 by the choice of inv.
void quantise_row(const float* x, std::size_t n, float inv, std::int16_t* out) {
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128 vinv = _mm_set1_ps(inv);
  for (; i + 8 <= n; i += 8) {
    const __m128i lo = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + i), vinv));
    const __m128i hi = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + i + 4), vinv));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_packs_epi32(lo, hi));
  }
#endif
  for (; i < n; ++i) out[i] = quantise(x[i], inv);
}

struct Workspace {
  FeatureMatrix x, xe, c1, h1, c2, h2, pn;
  std::vector<std::int16_t> xq;
};
Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}

}  // namespace

QuantisedGraphSage::Linear QuantisedGraphSage::Linear::quantise(const float* w, const float* bias, std::size_t out,
                                                                std::size_t in) {
  Linear l;
  l.out = out;
  l.in = in;
  l.in_padded = (in + 7) / 8 * 8;
  l.weights.assign(out * l.in_padded, 0);
  l.scale.assign(out, 1.0f);
  l.bias.assign(out, 0.0f);
  for (std::size_t o = 0; o < out; ++o) {
    float m = 0;
    for (std::size_t i = 0; i < in; ++i) m = std::max(m, std::abs(w[o * in + i]));
    const float scale = m > 0 ? m / 127.0f : 1.0f;
    l.scale[o] = scale;
    for (std::size_t i = 0; i < in; ++i) l.weights[o * l.in_padded + i] = ml::quantise(w[o * in + i], 1.0f / scale);
    if (bias != nullptr) l.bias[o] = bias[o];
  }
  return l;
}

void QuantisedGraphSage::Linear::apply(const FeatureMatrix& x, FeatureMatrix& y) const {
  const Index n = x.rows();
  y.resize(n, static_cast<Index>(out));
  std::vector<std::int16_t>& xq = workspace().xq;
  xq.assign(in_padded, 0);
  [[maybe_unused]] const bool avx2 = detail::inference_isa() == detail::Isa::kAvx2Fma;
  for (Index r = 0; r < n; ++r) {
    const float* xr = x.data() + r * x.cols();
    float* yr = y.data() + r * y.cols();
    const float m = max_abs(xr, in);
    if (m == 0) {
      std::copy(bias.begin(), bias.end(), yr);
      continue;
    }
    const float sx = m / 127.0f, inv = 127.0f / m;
    quantise_row(xr, in, inv, xq.data());
    std::size_t o = 0;
    std::int32_t acc[4];
    for (; o + 4 <= out; o += 4) {
#if defined(MESHLOOP_ML_HAVE_AVX2_DOT)
      if (avx2) {
        dot4_avx2(xq.data(), weights.data() + o * in_padded, in_padded, in_padded, acc);
      } else {
        dot4(xq.data(), weights.data() + o * in_padded, in_padded, in_padded, acc);
      }
#else
      dot4(xq.data(), weights.data() + o * in_padded, in_padded, in_padded, acc);
#endif
#if defined(__SSE2__)
      const __m128 prod = _mm_mul_ps(_mm_cvtepi32_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(acc))),
                                     _mm_mul_ps(_mm_set1_ps(sx), _mm_loadu_ps(scale.data() + o)));
      _mm_storeu_ps(yr + o, _mm_add_ps(prod, _mm_loadu_ps(bias.data() + o)));
#else
      for (std::size_t k = 0; k < 4; ++k) yr[o + k] = static_cast<float>(acc[k]) * (sx * scale[o + k]) + bias[o + k];
#endif
    }
    for (; o < out; ++o) {
      yr[o] = static_cast<float>(dot(xq.data(), weights.data() + o * in_padded, in_padded)) * (sx * scale[o]) + bias[o];
    }
  }
}

QuantisedGraphSage::QuantisedGraphSage(const GraphSage& model) : normaliser_(model.normaliser()) {
  const detail::Layout& L = model.layout();
  const float* p = model.parameters().data();
  fn_ = L.fn;
  fe_ = L.fe;
  h_ = L.h;
  k_ = L.k;
  l1_ = Linear::quantise(p + L.w1, p + L.b1, L.h, L.c1_cols());
  l2_ = Linear::quantise(p + L.w2, p + L.b2, L.h, 2 * L.h);
  edge_ = detail::EdgeHead(p + L.e, p + L.c, p + L.q, p[L.d], L.k);
  // P gets zero rows up to the edge head's padded width: their outputs are exactly 0.
  std::vector<float> p_padded(edge_.padded_width() * L.h, 0.0f);
  std::copy(p + L.p, p + L.p + L.k * L.h, p_padded.begin());
  p_ = Linear::quantise(p_padded.data(), nullptr, edge_.padded_width(), L.h);
  wn_.assign(p + L.wn, p + L.wn + L.h);
  bn_ = p[L.bn];
}

std::size_t QuantisedGraphSage::weight_bytes_int8() const {
  std::size_t bytes = 0;
  for (const Linear* l : {&l1_, &l2_}) bytes += l->out * l->in + 4 * (l->scale.size() + l->bias.size());
  bytes += k_ * h_ + 4 * (2 * k_);  // P without its padding rows: int8 weights, a scale and a (zero) bias per output
  return bytes + 4 * (k_ * fe_ + k_ + wn_.size() + k_ + 2);  // E, c, wn, q, bn and d stay float
}

void QuantisedGraphSage::score(const Graph& graph, Scores& out) const {
  Workspace& ws = workspace();
  normaliser_.apply(graph, ws.x, ws.xe);
  const std::size_t n = graph.num_nodes();
  const auto h = static_cast<Index>(h_);

  detail::layer1_input(ws.x, ws.xe, graph, ws.c1);
  l1_.apply(ws.c1, ws.h1);
  ws.h1 = ws.h1.cwiseMax(0.0f);
  ws.c2.resize(static_cast<Index>(n), 2 * h);
  ws.c2.leftCols(h) = ws.h1;
  detail::mean_neighbours(ws.h1, 0, h, graph, ws.c2, h);
  l2_.apply(ws.c2, ws.h2);
  ws.h2 = ws.h2.cwiseMax(0.0f);

  out.node.resize(n);
  const Eigen::Map<const Eigen::VectorXf> wn(wn_.data(), h);
  for (std::size_t v = 0; v < n; ++v) out.node[v] = sigmoid(ws.h2.row(static_cast<Index>(v)).dot(wn) + bn_);

  p_.apply(ws.h2, ws.pn);
  // The edge head stays float (its 9-input projection costs less than quantising 8000 short rows), fused per entry.
  edge_.score(ws.pn, ws.xe, graph, out.edge);
}

}  // namespace meshloop::ml
