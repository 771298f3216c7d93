#include "ml/graphsage_math.h"

#include <cmath>

namespace meshloop::ml::detail {
namespace {

using Eigen::Index;

Index ix(std::size_t v) { return static_cast<Index>(v); }

template <typename S>
using CMap = Eigen::Map<const Mat<S>>;
template <typename S>
using CVMap = Eigen::Map<const Vec<S>>;
template <typename S>
using MMap = Eigen::Map<Mat<S>>;
template <typename S>
using MVMap = Eigen::Map<Vec<S>>;

// out.row(v) = mean of in.row(u) over the out-neighbours u of v (0 for an isolated node), written into the
// column block [col, col + in.cols()) of out.
template <typename S>
void mean_neighbours(const Mat<S>& in, std::span<const std::int32_t> offsets, std::span<const std::int32_t> targets,
                     Mat<S>& out, Index col) {
  const Index d = in.cols();
  const std::size_t n = offsets.size() - 1;
  for (std::size_t v = 0; v < n; ++v) {
    auto dst = out.row(ix(v)).segment(col, d);
    dst.setZero();
    const std::int32_t lo = offsets[v], hi = offsets[v + 1];
    if (hi == lo) continue;
    for (std::int32_t e = lo; e < hi; ++e) dst += in.row(targets[static_cast<std::size_t>(e)]);
    dst *= S(1) / static_cast<S>(hi - lo);
  }
}

// The transpose of mean_neighbours: grad_in.row(u) += grad_out.row(v).segment(col) / deg(v) for each entry v->u.
template <typename S>
void mean_neighbours_backward(const Mat<S>& grad_out, Index col, Index d, std::span<const std::int32_t> offsets,
                              std::span<const std::int32_t> targets, Mat<S>& grad_in) {
  const std::size_t n = offsets.size() - 1;
  for (std::size_t v = 0; v < n; ++v) {
    const std::int32_t lo = offsets[v], hi = offsets[v + 1];
    if (hi == lo) continue;
    const S inv = S(1) / static_cast<S>(hi - lo);
    for (std::int32_t e = lo; e < hi; ++e) {
      grad_in.row(targets[static_cast<std::size_t>(e)]) += inv * grad_out.row(ix(v)).segment(col, d);
    }
  }
}

template <typename S>
S stable_bce(S logit, S y) {
  using std::abs;
  using std::exp;
  using std::log1p;
  return (logit > S(0) ? logit : S(0)) - logit * y + log1p(exp(-abs(logit)));
}

template <typename S>
S sigmoid(S x) {
  using std::exp;
  return x >= S(0) ? S(1) / (S(1) + exp(-x)) : exp(x) / (S(1) + exp(x));
}

}  // namespace

Layout Layout::of(std::size_t fn, std::size_t fe, std::size_t hidden, std::size_t edge_hidden) {
  Layout l;
  l.fn = fn;
  l.fe = fe;
  l.h = hidden;
  l.k = edge_hidden;
  std::size_t at = 0;
  auto take = [&at](std::size_t count) {
    const std::size_t here = at;
    at += count;
    return here;
  };
  l.w1 = take(hidden * l.c1_cols());
  l.b1 = take(hidden);
  l.w2 = take(hidden * 2 * hidden);
  l.b2 = take(hidden);
  l.wn = take(hidden);
  l.bn = take(1);
  l.p = take(edge_hidden * hidden);
  l.e = take(edge_hidden * fe);
  l.c = take(edge_hidden);
  l.q = take(edge_hidden);
  l.d = take(1);
  l.size = at;
  return l;
}

template <typename S>
void forward(const Layout& L, const S* params, const Inputs<S>& in, Activations<S>& a) {
  const Mat<S>& x = *in.x;
  const Mat<S>& xe = *in.xe;
  const Index n = x.rows(), m = xe.rows();
  const Index fn = ix(L.fn), fe = ix(L.fe), h = ix(L.h), k = ix(L.k);
  const CMap<S> w1(params + L.w1, h, ix(L.c1_cols()));
  const CVMap<S> b1(params + L.b1, h);
  const CMap<S> w2(params + L.w2, h, 2 * h);
  const CVMap<S> b2(params + L.b2, h);
  const CVMap<S> wn(params + L.wn, h);
  const S bn = params[L.bn];
  const CMap<S> p(params + L.p, k, h);
  const CMap<S> e(params + L.e, k, fe);
  const CVMap<S> c(params + L.c, k);
  const CVMap<S> q(params + L.q, k);
  const S d = params[L.d];

  // Layer 1: self, mean of neighbours, mean of the node's own links.
  a.c1.resize(n, ix(L.c1_cols()));
  a.c1.leftCols(fn) = x;
  mean_neighbours(x, in.offsets, in.targets, a.c1, fn);
  for (Index v = 0; v < n; ++v) {
    const std::int32_t lo = in.offsets[static_cast<std::size_t>(v)], hi = in.offsets[static_cast<std::size_t>(v) + 1];
    if (hi == lo) {
      a.c1.row(v).segment(2 * fn, fe).setZero();
    } else {
      a.c1.row(v).segment(2 * fn, fe) = xe.middleRows(lo, hi - lo).colwise().sum() / static_cast<S>(hi - lo);
    }
  }
  a.z1.noalias() = a.c1 * w1.transpose();
  a.z1.rowwise() += b1.transpose();
  a.h1 = a.z1.cwiseMax(S(0));

  // Layer 2.
  a.c2.resize(n, 2 * h);
  a.c2.leftCols(h) = a.h1;
  mean_neighbours(a.h1, in.offsets, in.targets, a.c2, h);
  a.z2.noalias() = a.c2 * w2.transpose();
  a.z2.rowwise() += b2.transpose();
  a.h2 = a.z2.cwiseMax(S(0));

  // Node head.
  a.node_logit.noalias() = a.h2 * wn;
  a.node_logit.array() += bn;

  // Edge head: P is applied once per node, then summed over the two endpoints of each entry.
  a.pn.noalias() = a.h2 * p.transpose();
  a.za.noalias() = xe * e.transpose();
  for (Index i = 0; i < m; ++i) {
    const auto& si = in.sources[static_cast<std::size_t>(i)];
    const auto& ti = in.targets[static_cast<std::size_t>(i)];
    a.za.row(i) += a.pn.row(si) + a.pn.row(ti) + c.transpose();
  }
  a.edge_logit.noalias() = a.za.cwiseMax(S(0)) * q;
  a.edge_logit.array() += d;
}

template <typename S>
S loss_and_gradient(const Layout& L, const S* params, const Inputs<S>& in, std::span<const S> node_y,
                    std::span<const S> node_w, std::span<const S> edge_y, std::span<const S> edge_w, S* grad) {
  Activations<S> a;
  forward(L, params, in, a);
  const Mat<S>& xe = *in.xe;
  const Index n = a.h2.rows(), m = xe.rows();
  const Index h = ix(L.h), k = ix(L.k), fe = ix(L.fe);
  const CMap<S> w2(params + L.w2, h, 2 * h);
  const CVMap<S> wn(params + L.wn, h);
  const CMap<S> p(params + L.p, k, h);
  const CVMap<S> q(params + L.q, k);

  MVMap<S>(grad, ix(L.size)).setZero();
  MMap<S> gw1(grad + L.w1, h, ix(L.c1_cols()));
  MVMap<S> gb1(grad + L.b1, h);
  MMap<S> gw2(grad + L.w2, h, 2 * h);
  MVMap<S> gb2(grad + L.b2, h);
  MVMap<S> gwn(grad + L.wn, h);
  MMap<S> gp(grad + L.p, k, h);
  MMap<S> ge(grad + L.e, k, fe);
  MVMap<S> gc(grad + L.c, k);
  MVMap<S> gq(grad + L.q, k);

  S loss = 0;
  Vec<S> d_node(n), d_edge(m);
  for (Index v = 0; v < n; ++v) {
    const auto i = static_cast<std::size_t>(v);
    loss += node_w[i] * stable_bce(a.node_logit(v), node_y[i]);
    d_node(v) = node_w[i] * (sigmoid(a.node_logit(v)) - node_y[i]);
  }
  for (Index j = 0; j < m; ++j) {
    const auto i = static_cast<std::size_t>(j);
    loss += edge_w[i] * stable_bce(a.edge_logit(j), edge_y[i]);
    d_edge(j) = edge_w[i] * (sigmoid(a.edge_logit(j)) - edge_y[i]);
  }

  // Edge head.
  const Mat<S> ga_relu = a.za.cwiseMax(S(0));
  gq.noalias() = ga_relu.transpose() * d_edge;
  grad[L.d] = d_edge.sum();
  Mat<S> dza = d_edge * q.transpose();
  dza.array() *= (a.za.array() > S(0)).template cast<S>();
  ge.noalias() = dza.transpose() * xe;
  gc = dza.colwise().sum().transpose();
  Mat<S> dpn = Mat<S>::Zero(n, k);
  for (Index j = 0; j < m; ++j) {
    dpn.row(in.sources[static_cast<std::size_t>(j)]) += dza.row(j);
    dpn.row(in.targets[static_cast<std::size_t>(j)]) += dza.row(j);
  }
  gp.noalias() = dpn.transpose() * a.h2;
  Mat<S> dh2 = dpn * p;

  // Node head.
  gwn.noalias() = a.h2.transpose() * d_node;
  grad[L.bn] = d_node.sum();
  dh2.noalias() += d_node * wn.transpose();

  // Layer 2.
  Mat<S> dz2 = dh2;
  dz2.array() *= (a.z2.array() > S(0)).template cast<S>();
  gw2.noalias() = dz2.transpose() * a.c2;
  gb2 = dz2.colwise().sum().transpose();
  const Mat<S> dc2 = dz2 * w2;
  Mat<S> dh1 = dc2.leftCols(h);
  mean_neighbours_backward(dc2, h, h, in.offsets, in.targets, dh1);

  // Layer 1 (inputs need no gradient).
  Mat<S> dz1 = dh1;
  dz1.array() *= (a.z1.array() > S(0)).template cast<S>();
  gw1.noalias() = dz1.transpose() * a.c1;
  gb1 = dz1.colwise().sum().transpose();
  return loss;
}

template void forward<float>(const Layout&, const float*, const Inputs<float>&, Activations<float>&);
template void forward<double>(const Layout&, const double*, const Inputs<double>&, Activations<double>&);
template float loss_and_gradient<float>(const Layout&, const float*, const Inputs<float>&, std::span<const float>,
                                        std::span<const float>, std::span<const float>, std::span<const float>,
                                        float*);
template double loss_and_gradient<double>(const Layout&, const double*, const Inputs<double>&,
                                          std::span<const double>, std::span<const double>, std::span<const double>,
                                          std::span<const double>, double*);

}  // namespace meshloop::ml::detail
