// Internal to meshloop::ml: the inference-only pieces that the float and the int8 forward passes share
// (GraphSage::score, QuantisedGraphSage::score). Training keeps detail::forward (graphsage_math.h), whose rounding the
// shipped model's bytes depend on; it is also the oracle these kernels are tested against (graphsage_test.cc).
// Thread-safety: EdgeHead is a value with const methods; the functions are pure, except that the instruction set is
// chosen once per process (inference_isa) and set_inference_isa_for_test changes it for every thread.
//
// Two instruction sets (docs/decisions/0024): the x86-64 baseline (SSE2; Eigen's products) that the build targets, and
// AVX2 + FMA, chosen at run time when the CPU has both. The AVX2 kernels are our own functions with
// __attribute__((target("avx2,fma"))) on raw pointers; no Eigen code is compiled for AVX2 (an Eigen template
// instantiated with two ISAs in one program breaks the one-definition rule and the linker may keep either copy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ml/features.h"
#include "ml/graph.h"

namespace meshloop::ml::detail {

enum class Isa : std::uint8_t { kBaseline, kAvx2Fma };
// The kernels' instruction set: kAvx2Fma when the CPU has AVX2 and FMA, else kBaseline. Decided on first use.
Isa inference_isa();
// True when the CPU running this process has AVX2 and FMA.
bool cpu_has_avx2_fma();
// Test hook: the instruction set of every later inference in the process. REQUIRES: isa == kBaseline or
// cpu_has_avx2_fma(); no inference running concurrently.
void set_inference_isa_for_test(Isa isa);

// AVX2 + FMA products (REQUIRES: cpu_has_avx2_fma()). Row-major, with row strides in floats:
//   c(r, j) = [relu](bias[j] + sum_k a(r, k) b(k, j)),  r < rows, j < n, k < depth,
// summed in k order with fused multiply-adds; bias may be null (0), relu applies when `relu` is true.
// REQUIRES: c does not overlap a or b.
void gemm_avx2(const float* a, std::size_t lda, std::size_t rows, std::size_t depth, const float* b, std::size_t ldb,
               std::size_t n, const float* bias, bool relu, float* c, std::size_t ldc);
// x[i] = sigmoid(x[i] + shift) for i < n, with a vectorised exp within 2 ulp of std::exp over the range that
// matters (the result is within 1e-7 absolute of ml::sigmoid). REQUIRES: cpu_has_avx2_fma().
void sigmoid_avx2(float* x, std::size_t n, float shift);
// exp(x) on 8 lanes, for the test: x clamped to [-87.3, 88.7]. REQUIRES: cpu_has_avx2_fma().
void exp8_avx2_for_test(const float* x, float* out);

// out(v, out_col + j) = mean over v's out-neighbours u of in(u, in_col + j), j < width (0 for an isolated node).
// `in` and `out` may be the same matrix when the two column ranges do not overlap.
// REQUIRES: in.rows() == out.rows() == graph.num_nodes().
void mean_neighbours(const FeatureMatrix& in, Eigen::Index in_col, Eigen::Index width, const Graph& graph,
                     FeatureMatrix& out, Eigen::Index out_col);

// y(r, col + j) = max(y(r, col + j) + bias[j], 0) for every row r and j < bias.size(): a layer's bias and ReLU in one
// pass (an Eigen rowwise-plus-max expression on a block ran scalar and branchy).
void add_bias_relu(FeatureMatrix& y, Eigen::Index col, const Eigen::RowVectorXf& bias);

// The input of SAGE layer 1: c1.row(v) = [x_v | mean_{u in N(v)} x_u | mean_{e out of v} xe_e]; c1 is resized.
void layer1_input(const FeatureMatrix& x, const FeatureMatrix& xe, const Graph& graph, FeatureMatrix& c1);

// The edge head (graphsage_math.h): for CSR entry e = u->v,
//   score[e] = sigmoid(q . relu(pn_u + pn_v + E xe_e + c) + d), pn = P h2 per node (the caller's product).
// Fused in one pass over the entries, so the m x K pre-activation is never written out. Widths are padded to a
// multiple of 8 with zero weights (a zero column contributes relu(0) * 0 = 0).
class EdgeHead {
 public:
  EdgeHead() = default;
  // e: k x kEdgeFeatureCount row-major, c and q: k each.
  EdgeHead(const float* e, const float* c, const float* q, float d, std::size_t k);

  // The width the caller's pn must have: k rounded up to a multiple of 8, extra columns 0.
  std::size_t padded_width() const { return kp_; }
  // REQUIRES: pn.rows() == graph.num_nodes(), pn.cols() == padded_width(), xe.rows() == graph.num_edges(),
  // xe.cols() == kEdgeFeatureCount. out is resized to graph.num_edges().
  void score(const FeatureMatrix& pn, const FeatureMatrix& xe, const Graph& graph, std::vector<float>& out) const;

 private:
  std::size_t kp_ = 0;
  std::vector<float> et_;  // kEdgeFeatureCount x kp_, row-major: E^T, padded
  std::vector<float> c_, q_;
  float d_ = 0;
};

}  // namespace meshloop::ml::detail
