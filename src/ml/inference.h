// Internal to meshloop::ml: the inference-only pieces that the float and the int8 forward passes share
// (GraphSage::score, QuantisedGraphSage::score). Training keeps detail::forward (graphsage_math.h), whose rounding the
// shipped model's bytes depend on; it is also the oracle these kernels are tested against (graphsage_test.cc).
// Thread-safety: EdgeHead is a value with const methods; the functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ml/features.h"
#include "ml/graph.h"

namespace meshloop::ml::detail {

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
// multiple of 4 with zero weights (a zero column contributes relu(0) * 0 = 0).
class EdgeHead {
 public:
  EdgeHead() = default;
  // e: k x kEdgeFeatureCount row-major, c and q: k each.
  EdgeHead(const float* e, const float* c, const float* q, float d, std::size_t k);

  // The width the caller's pn must have: k rounded up to a multiple of 4, extra columns 0.
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
