#include "ml/inference.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdlib>

#include "ml/graphsage.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MESHLOOP_ML_HAVE_AVX2_KERNELS 1
#define MESHLOOP_AVX2 __attribute__((target("avx2,fma")))
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

#if defined(MESHLOOP_ML_HAVE_AVX2_KERNELS)
// ---- AVX2 + FMA kernels. Only raw pointers and intrinsics here: no Eigen, no inline function of ours that the
// baseline build also instantiates (see inference.h).

// Lane mask for the first `count` (<= 8) lanes.
MESHLOOP_AVX2 inline __m256i lane_mask(std::size_t count) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), idx);
}

// R rows by 16 columns of c (`w` <= 16 of them valid; masked loads and stores when w < 16).
template <std::size_t R>
MESHLOOP_AVX2 void gemm_block(const float* a, std::size_t lda, std::size_t depth, const float* b, std::size_t ldb,
                              std::size_t w, const float* bias, bool relu, float* c, std::size_t ldc) {
  __m256 acc0[R], acc1[R];
  const bool full = w == 16;
  const __m256i m0 = lane_mask(std::min<std::size_t>(w, 8)), m1 = lane_mask(w > 8 ? w - 8 : 0);
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  if (bias != nullptr) {
    b0 = full ? _mm256_loadu_ps(bias) : _mm256_maskload_ps(bias, m0);
    b1 = full ? _mm256_loadu_ps(bias + 8) : _mm256_maskload_ps(bias + 8, m1);
  }
#pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r) {
    acc0[r] = b0;
    acc1[r] = b1;
  }
  if (full) {
    for (std::size_t k = 0; k < depth; ++k) {
      const __m256 x0 = _mm256_loadu_ps(b + k * ldb), x1 = _mm256_loadu_ps(b + k * ldb + 8);
#pragma GCC unroll 8
      for (std::size_t r = 0; r < R; ++r) {
        const __m256 av = _mm256_broadcast_ss(a + r * lda + k);
        acc0[r] = _mm256_fmadd_ps(av, x0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(av, x1, acc1[r]);
      }
    }
  } else {
    for (std::size_t k = 0; k < depth; ++k) {
      const __m256 x0 = _mm256_maskload_ps(b + k * ldb, m0), x1 = _mm256_maskload_ps(b + k * ldb + 8, m1);
#pragma GCC unroll 8
      for (std::size_t r = 0; r < R; ++r) {
        const __m256 av = _mm256_broadcast_ss(a + r * lda + k);
        acc0[r] = _mm256_fmadd_ps(av, x0, acc0[r]);
        acc1[r] = _mm256_fmadd_ps(av, x1, acc1[r]);
      }
    }
  }
#pragma GCC unroll 8
  for (std::size_t r = 0; r < R; ++r) {
    if (relu) {
      acc0[r] = _mm256_max_ps(acc0[r], _mm256_setzero_ps());
      acc1[r] = _mm256_max_ps(acc1[r], _mm256_setzero_ps());
    }
    if (full) {
      _mm256_storeu_ps(c + r * ldc, acc0[r]);
      _mm256_storeu_ps(c + r * ldc + 8, acc1[r]);
    } else {
      _mm256_maskstore_ps(c + r * ldc, m0, acc0[r]);
      _mm256_maskstore_ps(c + r * ldc + 8, m1, acc1[r]);
    }
  }
}

// exp(x) for x in [-87.3, 88.7] (clamped): x = n ln2 + r, |r| <= ln2 / 2, exp(r) by Cephes' degree-5 polynomial,
// times 2^n built in the exponent bits.
MESHLOOP_AVX2 inline __m256 exp8(__m256 x) {
  // Operand order keeps NaN: maxps/minps return their second operand when either is NaN.
  x = _mm256_min_ps(_mm256_set1_ps(88.7f), _mm256_max_ps(_mm256_set1_ps(-87.3f), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // 2^n for n in [-126, 128] in two factors, 2^h * 2^(n - h) with h = floor(n / 2): 2^128 alone is no float.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i h = _mm256_srai_epi32(ni, 1);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, _mm256_set1_epi32(127)), 23));
  const __m256 s2 =
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), _mm256_set1_epi32(127)), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

// sigmoid as ml::sigmoid computes it: t = exp(-|x|); x >= 0 ? 1 / (1 + t) : t / (1 + t).
MESHLOOP_AVX2 inline __m256 sigmoid8(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 t = exp8(_mm256_or_ps(x, sign));  // exp(-|x|)
  const __m256 d = _mm256_add_ps(_mm256_set1_ps(1.0f), t);
  const __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
  return _mm256_div_ps(_mm256_blendv_ps(_mm256_set1_ps(1.0f), t, neg), d);
}

// The edge head's hidden layer for one entry, 8 * KC lanes (pointers offset to the block): relu(base + pv + E^T x)
// * q, lane-wise, for two entries e0 (pv0, x0) and e1 (pv1, x1) of the same tail at once: twice the independent
// fused multiply-add chains of one entry, and each row of E^T loaded once for both.
template <std::size_t KC>
MESHLOOP_AVX2 inline void edge_block2(const float* base, const float* pv0, const float* pv1, const float* et,
                                      std::size_t kp, const float* q, const float* x0, const float* x1, __m256& sum0,
                                      __m256& sum1) {
  __m256 a0[KC], a1[KC];
#pragma GCC unroll 8
  for (std::size_t c = 0; c < KC; ++c) {
    const __m256 bv = _mm256_loadu_ps(base + 8 * c);
    a0[c] = _mm256_add_ps(bv, _mm256_loadu_ps(pv0 + 8 * c));
    a1[c] = _mm256_add_ps(bv, _mm256_loadu_ps(pv1 + 8 * c));
  }
#pragma GCC unroll 16
  for (std::size_t f = 0; f < kFe; ++f) {
    const __m256 f0 = _mm256_broadcast_ss(x0 + f), f1 = _mm256_broadcast_ss(x1 + f);
#pragma GCC unroll 8
    for (std::size_t c = 0; c < KC; ++c) {
      const __m256 ev = _mm256_loadu_ps(et + f * kp + 8 * c);
      a0[c] = _mm256_fmadd_ps(f0, ev, a0[c]);
      a1[c] = _mm256_fmadd_ps(f1, ev, a1[c]);
    }
  }
#pragma GCC unroll 8
  for (std::size_t c = 0; c < KC; ++c) {
    const __m256 qv = _mm256_loadu_ps(q + 8 * c);
    sum0 = _mm256_fmadd_ps(_mm256_max_ps(a0[c], _mm256_setzero_ps()), qv, sum0);
    sum1 = _mm256_fmadd_ps(_mm256_max_ps(a1[c], _mm256_setzero_ps()), qv, sum1);
  }
}

MESHLOOP_AVX2 inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
}

// Logits of the entries of tail u, two at a time (the odd one last is paired with itself), into out.
MESHLOOP_AVX2 void edge_logits_avx2(const float* pn, const float* xe, const std::int32_t* offsets,
                                    const std::int32_t* targets, std::size_t n, const float* et, const float* c,
                                    const float* q, float d, std::size_t kp, float* base, float* out) {
  for (std::size_t u = 0; u < n; ++u) {
    const float* pu = pn + u * kp;
    for (std::size_t j = 0; j < kp; j += 8)
      _mm256_storeu_ps(base + j, _mm256_add_ps(_mm256_loadu_ps(pu + j), _mm256_loadu_ps(c + j)));
    for (std::int32_t e = offsets[u]; e < offsets[u + 1]; e += 2) {
      const std::int32_t e1 = e + 1 < offsets[u + 1] ? e + 1 : e;
      const float* pv0 = pn + static_cast<std::size_t>(targets[e]) * kp;
      const float* pv1 = pn + static_cast<std::size_t>(targets[e1]) * kp;
      const float* x0 = xe + static_cast<std::size_t>(e) * kFe;
      const float* x1 = xe + static_cast<std::size_t>(e1) * kFe;
      __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
      std::size_t j = 0;
      // Blocks of 32 lanes: 8 accumulators, 2 broadcasts and a row of E^T fit the 16 registers.
      for (; j + 32 <= kp; j += 32) edge_block2<4>(base + j, pv0 + j, pv1 + j, et + j, kp, q + j, x0, x1, s0, s1);
      switch ((kp - j) / 8) {
        case 3:
          edge_block2<3>(base + j, pv0 + j, pv1 + j, et + j, kp, q + j, x0, x1, s0, s1);
          break;
        case 2:
          edge_block2<2>(base + j, pv0 + j, pv1 + j, et + j, kp, q + j, x0, x1, s0, s1);
          break;
        case 1:
          edge_block2<1>(base + j, pv0 + j, pv1 + j, et + j, kp, q + j, x0, x1, s0, s1);
          break;
        default:
          break;
      }
      out[static_cast<std::size_t>(e)] = d + hsum8(s0);
      out[static_cast<std::size_t>(e1)] = d + hsum8(s1);
    }
  }
}

MESHLOOP_AVX2 void exp8_store(const float* x, float* out) { _mm256_storeu_ps(out, exp8(_mm256_loadu_ps(x))); }

MESHLOOP_AVX2 void sigmoid_avx2_impl(float* x, std::size_t n, float shift) {
  const __m256 sh = _mm256_set1_ps(shift);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, sigmoid8(_mm256_add_ps(_mm256_loadu_ps(x + i), sh)));
  if (i < n) {
    const __m256i m = lane_mask(n - i);
    _mm256_maskstore_ps(x + i, m, sigmoid8(_mm256_add_ps(_mm256_maskload_ps(x + i, m), sh)));
  }
}

MESHLOOP_AVX2 void gemm_avx2_impl(const float* a, std::size_t lda, std::size_t rows, std::size_t depth, const float* b,
                                  std::size_t ldb, std::size_t n, const float* bias, bool relu, float* c,
                                  std::size_t ldc) {
  // 6 rows by 16 columns per block: 12 accumulators, 2 rows of b and a broadcast in the 16 registers.
  for (std::size_t j = 0; j < n; j += 16) {
    const std::size_t w = std::min<std::size_t>(16, n - j);
    const float* bj = bias != nullptr ? bias + j : nullptr;
    std::size_t r = 0;
    for (; r + 6 <= rows; r += 6) gemm_block<6>(a + r * lda, lda, depth, b + j, ldb, w, bj, relu, c + r * ldc + j, ldc);
    for (; r < rows; ++r) gemm_block<1>(a + r * lda, lda, depth, b + j, ldb, w, bj, relu, c + r * ldc + j, ldc);
  }
}
#endif  // MESHLOOP_ML_HAVE_AVX2_KERNELS

std::atomic<int>& isa_state() {
  static std::atomic<int> state{-1};
  return state;
}

}  // namespace

bool cpu_has_avx2_fma() {
#if defined(MESHLOOP_ML_HAVE_AVX2_KERNELS)
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

Isa inference_isa() {
  int s = isa_state().load(std::memory_order_relaxed);
  if (s < 0) {
    s = static_cast<int>(cpu_has_avx2_fma() ? Isa::kAvx2Fma : Isa::kBaseline);
    isa_state().store(s, std::memory_order_relaxed);
  }
  return static_cast<Isa>(s);
}

void set_inference_isa_for_test(Isa isa) {
  assert(isa == Isa::kBaseline || cpu_has_avx2_fma());
  isa_state().store(static_cast<int>(isa), std::memory_order_relaxed);
}

void gemm_avx2(const float* a, std::size_t lda, std::size_t rows, std::size_t depth, const float* b, std::size_t ldb,
               std::size_t n, const float* bias, bool relu, float* c, std::size_t ldc) {
#if defined(MESHLOOP_ML_HAVE_AVX2_KERNELS)
  gemm_avx2_impl(a, lda, rows, depth, b, ldb, n, bias, relu, c, ldc);
#else
  (void)a, (void)lda, (void)rows, (void)depth, (void)b, (void)ldb, (void)n, (void)bias, (void)relu, (void)c, (void)ldc;
  std::abort();
#endif
}

void sigmoid_avx2(float* x, std::size_t n, float shift) {
#if defined(MESHLOOP_ML_HAVE_AVX2_KERNELS)
  sigmoid_avx2_impl(x, n, shift);
#else
  (void)x, (void)n, (void)shift;
  std::abort();
#endif
}

void exp8_avx2_for_test(const float* x, float* out) {
#if defined(MESHLOOP_ML_HAVE_AVX2_KERNELS)
  exp8_store(x, out);
#else
  (void)x, (void)out;
  std::abort();
#endif
}

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
    : kp_((k + 7) / 8 * 8), et_(kFe * kp_, 0.0f), c_(kp_, 0.0f), q_(kp_, 0.0f), d_(d) {
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
#if defined(MESHLOOP_ML_HAVE_AVX2_KERNELS)
  if (inference_isa() == Isa::kAvx2Fma) {
    edge_logits_avx2(pn.data(), xe.data(), graph.offsets.data(), graph.targets.data(), n, et, c_.data(), q_.data(), d_,
                     kp_, base.data(), out.data());
    sigmoid_avx2_impl(out.data(), out.size(), 0.0f);
    return;
  }
#endif
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
        case 3:
          sum = _mm_add_ps(sum, edge_block<3>(b, pv + j, et + j, kp_, q_.data() + j, x));
          break;
        case 2:
          sum = _mm_add_ps(sum, edge_block<2>(b, pv + j, et + j, kp_, q_.data() + j, x));
          break;
        case 1:
          sum = _mm_add_ps(sum, edge_block<1>(b, pv + j, et + j, kp_, q_.data() + j, x));
          break;
        default:
          break;
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
