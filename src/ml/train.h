// Training and evaluating ml::GraphSage on labelled windows.
//
// A LabelledWindow is what `meshloop train` produces from a simulator run: the neighbourhood graph as the detectors
// saw it over one scoring window, with the ground truth of every node and link (1 = a fault covers the element,
// 0 = healthy, NaN = not scored). Training fits the normaliser on the training windows, then runs Adam over the
// windows in a seeded random order with class weighting (positives weighted by negatives/positives, capped).
// Same data, same config, same binary: the same parameters, bit for bit (single-threaded, no unordered reductions).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/result.h"
#include "ml/graph.h"
#include "ml/graphsage.h"

namespace meshloop::ml {

struct LabelledWindow {
  Graph graph;
  std::vector<float> node_labels;  // one per node: 1 faulty, 0 healthy, NaN unlabelled
  std::vector<float> edge_labels;  // one per CSR entry
};

struct TrainConfig {
  GraphSage::Shape shape;
  std::uint32_t epochs = 40;
  float learning_rate = 3e-3f;  // Adam
  float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
  float max_grad_norm = 5.0f;         // global gradient-norm clip per step (0 = off)
  float edge_loss_weight = 1.0f;      // the edge term's weight relative to the node term
  float max_positive_weight = 50.0f;  // cap on the class weight of positives
  std::uint64_t seed = 1;             // weight initialisation and window order
};

struct TrainReport {
  std::vector<double> epoch_loss;  // mean weighted loss per window, per epoch
  float node_positive_weight = 1;  // the class weights used
  float edge_positive_weight = 1;
};

struct Trained {
  GraphSage model;
  TrainReport report;
};

// InvalidArgument when there are no windows, a graph fails validation or a label vector has the wrong size.
// `on_epoch` (optional) is called after each epoch with (epoch index, mean loss), e.g. for progress output.
Result<Trained> train(std::span<const LabelledWindow> windows, const TrainConfig& config,
                      const std::function<void(std::uint32_t, double)>& on_epoch = {});

// The same steps on an existing model (its normaliser is kept), e.g. to continue training.
Result<TrainReport> train_more(GraphSage& model, std::span<const LabelledWindow> windows, const TrainConfig& config,
                               const std::function<void(std::uint32_t, double)>& on_epoch = {});

struct Confusion {
  std::uint64_t tp = 0, fp = 0, tn = 0, fn = 0;
  void add(bool flagged, bool positive) { ++(flagged ? (positive ? tp : fp) : (positive ? fn : tn)); }
  double precision() const { return tp + fp == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(tp + fp); }
  double recall() const { return tp + fn == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(tp + fn); }
  double f1() const {
    const double p = precision(), r = recall();
    return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
  }
};

struct Evaluation {
  Confusion node, edge;
  Confusion all() const { return {node.tp + edge.tp, node.fp + edge.fp, node.tn + edge.tn, node.fn + edge.fn}; }
};

// Flags score >= threshold and counts against the labels (NaN labels skipped).
// REQUIRES: every window's graph validates and its labels have the right sizes.
Evaluation evaluate(const GraphModel& model, std::span<const LabelledWindow> windows, float threshold = 0.5f);

// The flag thresholds that maximise F1 on `windows` (per node, and per link as `links` counts them; 0.01 to 0.99 in
// steps of 0.01, then 0.991 to 0.999), folded into the output biases (logit shifted by -logit(t)) so that every user
// of the model flags at 0.5: the calibration travels inside the model file, and float and int8 paths share it. Class
// weighting makes the raw scores lean towards recall; calibration restores precision. Calibrate on windows the model
// was not trained on (held-out training seeds: the training windows overfit) and never on the validation windows.
//   kUndirected: one count per undirected link, flagged when either of its entries is, positive when either entry's
//                label is (how the simulator and `meshloop train` score detection, DESIGN.md); an entry without a
//                reverse counts alone.
//   kPerEntry:   one count per CSR entry (what evaluate() counts).
enum class LinkCounting : std::uint8_t { kUndirected, kPerEntry };
struct Calibration {
  float node_threshold = 0.5f, edge_threshold = 0.5f;  // on the uncalibrated scores
  double node_f1 = 0, edge_f1 = 0;                     // on `windows` at those thresholds, links counted as asked
};
Calibration calibrate(GraphSage& model, std::span<const LabelledWindow> windows,
                      LinkCounting links = LinkCounting::kUndirected);

}  // namespace meshloop::ml
