// ml::GraphSage: a 2-layer GraphSAGE (mean aggregator) that scores every node and every link of a neighbourhood
// graph with a probability of being faulty.
//
//   GraphSage model = GraphSage::initialise(GraphSage::Shape{}, normaliser, seed);   // or load_model(path)
//   Scores s = model.score(graph);          // s.node[v], s.edge[e] in [0, 1]
//
// The feature normalisation (per-feature transform, mean and spread, fitted on the training set) is part of the
// model and travels in its file, so a model never sees raw units. Architecture and edge scoring: graphsage_math.h
// and docs/decisions/0013-anomaly-detection.md. Training: train.h. int8 inference: quantised.h.
// Thread-safety: const methods may run concurrently; set_parameters() must not race with them.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"
#include "ml/features.h"
#include "ml/graph.h"
#include "ml/graphsage_math.h"
#include "ml/inference.h"

namespace meshloop::ml {

// Per-feature transform (features.h), then (x - mean) / spread, NaN -> 0 (the training mean), clipped to
// [-kClip, kClip] so one absurd reading cannot dominate a layer (and the int8 path keeps its resolution).
struct Normaliser {
  static constexpr float kClip = 8.0f;
  std::array<float, kNodeFeatureCount> node_mean{}, node_scale{};
  std::array<float, kEdgeFeatureCount> edge_mean{}, edge_scale{};

  // Mean 0, scale 1 for every feature (transforms still apply).
  static Normaliser identity();
  // Mean and standard deviation of the transformed, measured (non-NaN) values over every node and CSR entry of the
  // graphs. A feature with no spread (or never measured) gets scale 1.
  static Normaliser fit(std::span<const Graph* const> graphs);

  void apply(const Graph& graph, FeatureMatrix& x, FeatureMatrix& xe) const;
};

struct Scores {
  std::vector<float> node;  // one per node, in [0, 1]
  std::vector<float> edge;  // one per CSR entry, in [0, 1]
};

// What a detector needs of a scoring model: the float and the int8 model both provide it.
class GraphModel {
 public:
  virtual ~GraphModel() = default;
  // REQUIRES: graph.validate().ok() (detectors check it once before scoring).
  virtual void score(const Graph& graph, Scores& out) const = 0;
};

class GraphSage final : public GraphModel {
 public:
  struct Shape {
    std::uint32_t hidden = 64;       // width of both SAGE layers
    std::uint32_t edge_hidden = 32;  // width of the edge head's hidden layer
  };

  // Glorot-uniform weights and zero biases from `seed` (same seed, same weights, on every machine).
  static GraphSage initialise(Shape shape, const Normaliser& normaliser, std::uint64_t seed);
  // InvalidArgument unless parameters.size() matches the shape.
  static Result<GraphSage> from_parameters(Shape shape, const Normaliser& normaliser, std::vector<float> parameters);

  Shape shape() const { return shape_; }
  const Normaliser& normaliser() const { return normaliser_; }
  const detail::Layout& layout() const { return layout_; }
  std::span<const float> parameters() const { return params_; }
  // REQUIRES: parameters.size() == layout().size.
  void set_parameters(std::span<const float> parameters);

  void score(const Graph& graph, Scores& out) const override;
  Scores score(const Graph& graph) const {
    Scores s;
    score(graph, s);
    return s;
  }

 private:
  // The parameters as inference reads them (transposed, padded), rebuilt from params_ whenever those change.
  struct InferenceWeights {
    detail::Mat<float> w1t, w2t, pt;  // (2Fn + Fe) x H, 2H x H, H x padded K
    Eigen::RowVectorXf b1, b2;
    Eigen::VectorXf wn;
    float bn = 0;
    detail::EdgeHead edge;
  };

  GraphSage(Shape shape, const Normaliser& normaliser, std::vector<float> params);
  void prepare_inference();
  Shape shape_;
  Normaliser normaliser_;
  detail::Layout layout_;
  std::vector<float> params_;
  InferenceWeights inference_;
};

float sigmoid(float x);

}  // namespace meshloop::ml
