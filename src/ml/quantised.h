// ml::QuantisedGraphSage: int8 inference for a trained ml::GraphSage.
//
//   QuantisedGraphSage q(model);      // quantises once; the float model is not kept
//   Scores s = q.score(graph);        // close to model.score(graph) (tests bound the difference)
//
// Weights of every linear layer are quantised symmetrically per output channel to int8 ([-127, 127]); activations
// are quantised per row (per node or link) at run time, also symmetric int8; products accumulate in int32 and are
// rescaled to float, where biases, ReLU and the mean aggregations stay. The int8 values are held widened to int16 so
// that the x86-64 baseline (SSE2 pmaddwd) multiplies 8 pairs per instruction; other targets use a scalar loop with
// the same results. The two heads' final dot products (64 and 32 wide, one output each) and the 9-input edge-feature
// projection stay float (quantising 8000 rows of 9 values costs more than the products it would save).
// Thread-safety: const methods may run concurrently.
#pragma once

#include <cstdint>
#include <vector>

#include "ml/graphsage.h"
#include "ml/inference.h"

namespace meshloop::ml {

class QuantisedGraphSage final : public GraphModel {
 public:
  explicit QuantisedGraphSage(const GraphSage& model);

  void score(const Graph& graph, Scores& out) const override;
  Scores score(const Graph& graph) const {
    Scores s;
    score(graph, s);
    return s;
  }
  // Bytes of quantised weights as int8 (what a model of this shape needs on the wire or on disk).
  std::size_t weight_bytes_int8() const;

  // y = x W^T (+ bias) with int8 weights and per-row int8 activations.
  struct Linear {
    std::size_t out = 0, in = 0, in_padded = 0;  // in_padded: a multiple of 8
    std::vector<std::int16_t> weights;           // out x in_padded, values in [-127, 127], zero padding
    std::vector<float> scale;                    // per output channel
    std::vector<float> bias;                     // per output channel (zeros when the layer has none)
    static Linear quantise(const float* w, const float* bias, std::size_t out, std::size_t in);
    // REQUIRES: x.cols() == in. y is resized to x.rows() x out.
    void apply(const FeatureMatrix& x, FeatureMatrix& y) const;
  };

 private:
  Normaliser normaliser_;
  std::size_t fn_ = 0, fe_ = 0, h_ = 0, k_ = 0;
  Linear l1_, l2_, p_;      // p_ has edge_.padded_width() outputs (zero rows past k)
  detail::EdgeHead edge_;   // float: E, c, q, d
  std::vector<float> wn_;
  float bn_ = 0;
};

}  // namespace meshloop::ml
