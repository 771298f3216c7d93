// Detectors: everything that turns one observation window of a neighbourhood graph into per-node and per-link
// anomaly verdicts, behind one small interface so the loop can fall back from one to another and the simulator can
// score them side by side against ground truth (report keys: "graphsage", "thresholds", "rules", "static").
//
//   StaticDetector    "static"     loss > 5 %, CPU > 90 %, memory > 85 % (fixed, strictly greater)
//   RuleScorer        "rules"      the original system's additive rule score, flagged at >= 0.5 (a named baseline)
//   ThresholdDetector "thresholds" self-learning per-feature thresholds: robust baseline (median / MAD over recent
//                                  windows), hysteresis per element, re-learning after a mesh-wide regime shift
//   GraphSageDetector "graphsage"  a trained GraphModel (float or int8), flagged at a score threshold
//
// Thread-safety: a Detector is used by one thread (observe() may update learned state); distinct detectors are
// independent.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "ml/graph.h"
#include "ml/graphsage.h"

namespace meshloop::ml {

struct Verdicts {
  std::vector<float> node_score;          // per node, in [0, 1]: higher is more anomalous
  std::vector<float> edge_score;          // per CSR entry
  std::vector<std::uint8_t> node_flag;    // 1 = the detector declares the element anomalous
  std::vector<std::uint8_t> edge_flag;
  void resize(std::size_t nodes, std::size_t edges);
};

class Detector {
 public:
  virtual ~Detector() = default;
  // The report key: "static", "rules", "thresholds", "graphsage".
  virtual std::string_view name() const = 0;
  // Scores every node and CSR entry of `graph`, observed over the window ending at `now`, into `out` (resized).
  // Learning detectors update their state from it, so windows must come in time order, one call per window.
  // InvalidArgument (and `out` untouched) when the graph fails validation.
  virtual Status observe(const Graph& graph, TimePoint now, Verdicts& out) = 0;
};

// loss > 5 % (the larger of an entry's two directions; for a node, the mean over its entries), CPU > 90 %,
// memory > 85 %: the original's defaults, strictly greater, NaN never exceeds. Score = 0.5 x the largest
// value / limit ratio, clamped to [0, 1] (0.5 at the limit). Stateless.
class StaticDetector final : public Detector {
 public:
  struct Limits {
    float loss = 0.05f, cpu = 0.90f, memory = 0.85f;
  };
  StaticDetector() = default;
  explicit StaticDetector(Limits limits) : limits_(limits) {}
  std::string_view name() const override { return "static"; }
  Status observe(const Graph& graph, TimePoint now, Verdicts& out) override;

 private:
  Limits limits_;
};

// The original system's rule fallback (its GraphSAGE module's `_rule_based_score`), kept point for point:
//   rssi < -80 +0.30 (else < -70 +0.10); snr < 8 +0.25 (else < 12 +0.10); loss > 0.15 +0.35 (else > 0.05 +0.15);
//   cpu > 0.85 or memory > 0.85 +0.25; latency > 100 ms +0.25 (else > 40 +0.10); throughput < 2 Mbit/s +0.20;
//   link age < 10 s +0.15; snr < 15 and throughput < 30 and rssi > -75 +0.15 ("interference");
//   latency > 30 and loss > 0.03 +0.10 ("cascade"); anomalous iff the sum >= 0.5.
// Mapping onto our graph: a link entry scores its own features (loss = the larger direction, latency = RTT) without
// the CPU/memory rule; a node scores its CPU and memory plus the mean of its entries' link features, as the
// original's node-level statistics were. Missing (NaN) values take the original's defaults (rssi -50, snr 20,
// loss 0, cpu 0.3, memory 0.4, latency 15, throughput 50, link age 3600). Stateless.
class RuleScorer final : public Detector {
 public:
  std::string_view name() const override { return "rules"; }
  Status observe(const Graph& graph, TimePoint now, Verdicts& out) override;
};

struct ThresholdConfig {
  std::size_t history_windows = 60;      // the baseline is learned from this many recent windows (5 min at 5 s)
  std::size_t samples_per_window = 256;  // per feature per window, evenly strided (bounds memory and time)
  std::size_t warmup_windows = 3;        // no verdicts before this many windows of baseline
  float enter_z = 6.0f;                  // flag when a feature's robust z-score reaches this ...
  float exit_z = 3.0f;                   // ... and clear only when every feature is back below this
  int enter_windows = 1;                 // consecutive windows at or above enter_z before flagging
  int exit_windows = 2;                  // consecutive windows below exit_z before clearing
  float tail_quantile = 0.99f;           // noisy features' spread also covers the baseline's tail (features.h)
  float shift_fraction = 0.3f;           // a feature beyond enter_z on this share of the elements at once is a
  int shift_windows = 3;                 //   regime, not a fault: ignored that window; after this many windows in a
                                         //   row, its baseline restarts from those windows (re-learning)
};

// Self-learning thresholds: for every feature (features.h), a robust baseline of the whole neighbourhood's recent
// values (median and 1.4826 x MAD of the transformed values over the last history_windows windows; the spread is
// floored at the feature's min_spread and, for noisy features, at least what the baseline's bad-side tail_quantile
// implies). An element's score is its worst feature's z-score on the bad side; flagged elements do not feed the
// baseline, so a persistent fault can drag neither its median nor its tail and stays flagged for as long as it lasts.
class ThresholdDetector final : public Detector {
 public:
  explicit ThresholdDetector(ThresholdConfig config = {});
  std::string_view name() const override { return "thresholds"; }
  Status observe(const Graph& graph, TimePoint now, Verdicts& out) override;

  // The current learned baseline of one feature (transformed units), for tests, metrics and explanations.
  struct Baseline {
    bool ready = false;
    float median = 0, spread = 0;
    std::size_t windows = 0;   // windows of samples it holds
    std::uint64_t relearned = 0;  // regime shifts absorbed so far
  };
  Baseline baseline(NodeFeature f) const;
  Baseline baseline(EdgeFeature f) const;

 private:
  struct Feature {
    std::deque<std::vector<float>> windows;
    std::deque<std::vector<float>> shifted;  // samples of the regime shift in progress, not learned yet
    float median = 0, spread = 0;
    std::uint64_t relearned = 0;
  };
  struct Element {
    bool flagged = false;
    int above = 0, below = 0;
    std::uint64_t last_seen = 0;
  };
  template <std::size_t N>
  void score_features(const FeatureMatrix& features, const std::array<FeatureInfo, N>& info,
                      std::array<Feature, N>& state, std::vector<float>& worst,
                      const std::vector<std::uint8_t>& flagged);
  void update_element(Element& e, float z);
  static Baseline view(const Feature& f, std::size_t warmup);

  ThresholdConfig config_;
  float tail_z_;  // the standard normal quantile of config_.tail_quantile
  std::array<Feature, kNodeFeatureCount> node_;
  std::array<Feature, kEdgeFeatureCount> edge_;
  std::unordered_map<std::uint32_t, Element> node_state_;
  std::unordered_map<std::uint64_t, Element> edge_state_;
  std::uint64_t windows_seen_ = 0;
  std::vector<float> scratch_;
};

// A trained model as a detector: flag = score >= threshold. Stateless; the model is shared, not copied.
class GraphSageDetector final : public Detector {
 public:
  // REQUIRES: model != nullptr.
  explicit GraphSageDetector(std::shared_ptr<const GraphModel> model, float threshold = 0.5f);
  std::string_view name() const override { return "graphsage"; }
  Status observe(const Graph& graph, TimePoint now, Verdicts& out) override;

 private:
  std::shared_ptr<const GraphModel> model_;
  float threshold_;
  Scores scores_;
};

}  // namespace meshloop::ml
