// Internal to meshloop::ml: the GraphSAGE forward and backward passes on a flat parameter vector, templated on the
// scalar so that training runs in float and the gradient test runs the very same code in double.
//
// Architecture (H = hidden, K = edge_hidden, Fn/Fe = node/edge feature counts, rows are nodes or CSR entries):
//   c1 = [x_v | mean_{u in N(v)} x_u | mean_{e out of v} xe_e]        n x (2Fn + Fe)
//   h1 = relu(c1 W1^T + b1)                                            n x H     (SAGE layer 1, mean aggregator)
//   h2 = relu([h1_v | mean_{u in N(v)} h1_u] W2^T + b2)                n x H     (SAGE layer 2)
//   node logit  = h2 wn + bn
//   edge u->v   : a = relu(P h2_u + P h2_v + E xe + c), logit = a q + d         (K wide)
// Sigmoid of a logit is the score. Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <Eigen/Core>

namespace meshloop::ml::detail {

template <typename S>
using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename S>
using Vec = Eigen::Matrix<S, Eigen::Dynamic, 1>;

// Where each tensor lives in the flat parameter vector (row-major matrices).
struct Layout {
  std::size_t fn = 0, fe = 0, h = 0, k = 0;
  std::size_t w1 = 0, b1 = 0, w2 = 0, b2 = 0, wn = 0, bn = 0, p = 0, e = 0, c = 0, q = 0, d = 0;
  std::size_t size = 0;
  std::size_t c1_cols() const { return 2 * fn + fe; }
  static Layout of(std::size_t fn, std::size_t fe, std::size_t hidden, std::size_t edge_hidden);
};

// A graph with normalised features and its CSR arrays (sources[e] is the tail of entry e).
template <typename S>
struct Inputs {
  const Mat<S>* x = nullptr;   // n x fn
  const Mat<S>* xe = nullptr;  // m x fe
  std::span<const std::int32_t> offsets, targets, sources;
};

// Every intermediate the backward pass needs.
template <typename S>
struct Activations {
  Mat<S> c1, z1, h1, c2, z2, h2, pn, za;
  Vec<S> node_logit, edge_logit;
};

template <typename S>
void forward(const Layout& layout, const S* params, const Inputs<S>& in, Activations<S>& act);

// Weighted binary cross-entropy on the logits: sum_v node_w[v] * bce(node_logit[v], node_y[v]) + the same over
// edges (the caller folds class weights and averaging into the weights; weight 0 = unlabelled). Returns the loss and
// writes d loss / d params into grad (layout.size entries, overwritten).
template <typename S>
S loss_and_gradient(const Layout& layout, const S* params, const Inputs<S>& in, std::span<const S> node_y,
                    std::span<const S> node_w, std::span<const S> edge_y, std::span<const S> edge_w, S* grad);

}  // namespace meshloop::ml::detail
