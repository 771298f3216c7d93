#include "ml/train.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "core/rng.h"

namespace meshloop::ml {
namespace {

using Eigen::Index;

// A window normalised once, with its per-element targets and loss weights.
struct Prepared {
  FeatureMatrix x, xe;
  std::vector<std::int32_t> sources;
  std::vector<float> node_y, node_w, edge_y, edge_w;
};

Status check(std::span<const LabelledWindow> windows) {
  if (windows.empty()) return Status::InvalidArgument("train: no windows");
  for (std::size_t i = 0; i < windows.size(); ++i) {
    const auto& w = windows[i];
    if (Status s = w.graph.validate(); !s.ok()) {
      return Status::InvalidArgument("train: window " + std::to_string(i) + ": " + s.message());
    }
    if (w.node_labels.size() != w.graph.num_nodes() || w.edge_labels.size() != w.graph.num_edges()) {
      return Status::InvalidArgument(
          "train: window " + std::to_string(i) + " has " + std::to_string(w.node_labels.size()) + " node and " +
          std::to_string(w.edge_labels.size()) + " edge labels for " + std::to_string(w.graph.num_nodes()) +
          " nodes and " + std::to_string(w.graph.num_edges()) + " edges");
    }
  }
  return Status::Ok();
}

float positive_weight(std::span<const LabelledWindow> windows, bool edges, float cap) {
  double pos = 0, neg = 0;
  for (const auto& w : windows) {
    for (float y : edges ? w.edge_labels : w.node_labels) {
      if (std::isnan(y)) continue;
      (y >= 0.5f ? pos : neg) += 1;
    }
  }
  if (pos == 0) return 1.0f;
  return static_cast<float>(std::clamp(neg / pos, 1.0, static_cast<double>(cap)));
}

// Per element: weight = class weight / (sum of class weights of the labelled elements of its kind in the window),
// so each window contributes one node term and one (scaled) edge term whatever its size.
void weights(std::span<const float> labels, float pos_weight, float scale, std::vector<float>& y,
             std::vector<float>& w) {
  y.resize(labels.size());
  w.resize(labels.size());
  double total = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (std::isnan(labels[i])) {
      y[i] = 0;
      w[i] = 0;
      continue;
    }
    y[i] = labels[i] >= 0.5f ? 1.0f : 0.0f;
    w[i] = y[i] > 0 ? pos_weight : 1.0f;
    total += w[i];
  }
  if (total <= 0) return;
  for (float& wi : w) wi = static_cast<float>(wi / total * scale);
}

}  // namespace

Result<TrainReport> train_more(GraphSage& model, std::span<const LabelledWindow> windows, const TrainConfig& config,
                               const std::function<void(std::uint32_t, double)>& on_epoch) {
  if (Status s = check(windows); !s.ok()) return s;
  TrainReport report;
  report.node_positive_weight = positive_weight(windows, false, config.max_positive_weight);
  report.edge_positive_weight = positive_weight(windows, true, config.max_positive_weight);

  std::vector<Prepared> prepared(windows.size());
  for (std::size_t i = 0; i < windows.size(); ++i) {
    auto& p = prepared[i];
    model.normaliser().apply(windows[i].graph, p.x, p.xe);
    p.sources = windows[i].graph.sources();
    weights(windows[i].node_labels, report.node_positive_weight, 1.0f, p.node_y, p.node_w);
    weights(windows[i].edge_labels, report.edge_positive_weight, config.edge_loss_weight, p.edge_y, p.edge_w);
  }

  const detail::Layout& layout = model.layout();
  std::vector<float> params(model.parameters().begin(), model.parameters().end());
  std::vector<float> grad(layout.size), m1(layout.size, 0.0f), m2(layout.size, 0.0f);
  std::vector<std::size_t> order(windows.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng(mix_seed(config.seed, 0x747261696e));  // "train": the order stream, apart from initialisation
  std::uint64_t step = 0;

  for (std::uint32_t epoch = 0; epoch < config.epochs; ++epoch) {
    for (std::size_t i = order.size(); i > 1; --i) {
      const auto j = static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(i) - 1));
      std::swap(order[i - 1], order[j]);
    }
    double epoch_loss = 0;
    for (std::size_t idx : order) {
      const Prepared& p = prepared[idx];
      const LabelledWindow& w = windows[idx];
      detail::Inputs<float> in{&p.x, &p.xe, w.graph.offsets, w.graph.targets, p.sources};
      epoch_loss += detail::loss_and_gradient<float>(layout, params.data(), in, p.node_y, p.node_w, p.edge_y, p.edge_w,
                                                     grad.data());
      if (config.max_grad_norm > 0) {
        double sq = 0;
        for (float g : grad) sq += static_cast<double>(g) * g;
        const double norm = std::sqrt(sq);
        if (norm > config.max_grad_norm) {
          const auto f = static_cast<float>(config.max_grad_norm / norm);
          for (float& g : grad) g *= f;
        }
      }
      ++step;
      const double bc1 = 1.0 - std::pow(static_cast<double>(config.beta1), static_cast<double>(step));
      const double bc2 = 1.0 - std::pow(static_cast<double>(config.beta2), static_cast<double>(step));
      const auto lr = static_cast<float>(config.learning_rate * std::sqrt(bc2) / bc1);
      for (std::size_t k = 0; k < params.size(); ++k) {
        m1[k] = config.beta1 * m1[k] + (1.0f - config.beta1) * grad[k];
        m2[k] = config.beta2 * m2[k] + (1.0f - config.beta2) * grad[k] * grad[k];
        params[k] -= lr * m1[k] / (std::sqrt(m2[k]) + config.epsilon);
      }
    }
    const double mean_loss = epoch_loss / static_cast<double>(windows.size());
    report.epoch_loss.push_back(mean_loss);
    if (on_epoch) on_epoch(epoch, mean_loss);
  }
  model.set_parameters(params);
  return report;
}

Result<Trained> train(std::span<const LabelledWindow> windows, const TrainConfig& config,
                      const std::function<void(std::uint32_t, double)>& on_epoch) {
  if (Status s = check(windows); !s.ok()) return s;
  if (config.shape.hidden == 0 || config.shape.edge_hidden == 0) {
    return Status::InvalidArgument("train: hidden and edge_hidden must be positive");
  }
  std::vector<const Graph*> graphs;
  graphs.reserve(windows.size());
  for (const auto& w : windows) graphs.push_back(&w.graph);
  GraphSage model = GraphSage::initialise(config.shape, Normaliser::fit(graphs), config.seed);
  Result<TrainReport> report = train_more(model, windows, config, on_epoch);
  if (!report.ok()) return report.status();
  return Trained{std::move(model), std::move(report).value()};
}

Evaluation evaluate(const GraphModel& model, std::span<const LabelledWindow> windows, float threshold) {
  Evaluation ev;
  Scores s;
  auto count = [threshold](std::span<const float> scores, std::span<const float> labels, Confusion& c) {
    for (std::size_t i = 0; i < scores.size(); ++i) {
      if (std::isnan(labels[i])) continue;
      c.add(scores[i] >= threshold, labels[i] >= 0.5f);
    }
  };
  for (const auto& w : windows) {
    model.score(w.graph, s);
    count(s.node, w.node_labels, ev.node);
    count(s.edge, w.edge_labels, ev.edge);
  }
  return ev;
}

namespace {

// The calibration grid: 0.01 to 0.99 in steps of 0.01, then 0.991 to 0.999 (class weighting pushes the best
// thresholds high, where a step of 0.01 in probability is a large step in logit).
constexpr int kCalibrationSteps = 99 + 9;
float calibration_threshold(int i) {
  return i < 99 ? 0.01f * static_cast<float>(i + 1) : 0.99f + 0.001f * static_cast<float>(i - 98);
}
constexpr int kCalibrationHalf = 49;  // 0.50

}  // namespace

Calibration calibrate(GraphSage& model, std::span<const LabelledWindow> windows, LinkCounting links) {
  using Counts = std::array<Confusion, kCalibrationSteps>;
  Counts node{}, edge{};
  auto add = [](float score, bool positive, Counts& c) {
    for (int k = 0; k < kCalibrationSteps; ++k) {
      c[static_cast<std::size_t>(k)].add(score >= calibration_threshold(k), positive);
    }
  };
  Scores s;
  for (const auto& w : windows) {
    model.score(w.graph, s);
    for (std::size_t v = 0; v < s.node.size(); ++v) {
      if (!std::isnan(w.node_labels[v])) add(s.node[v], w.node_labels[v] >= 0.5f, node);
    }
    const std::vector<std::int32_t> rev =
        links == LinkCounting::kUndirected ? reverse_edges(w.graph) : std::vector<std::int32_t>{};
    for (std::size_t e = 0; e < s.edge.size(); ++e) {
      if (links == LinkCounting::kPerEntry || rev[e] < 0) {
        if (!std::isnan(w.edge_labels[e])) add(s.edge[e], w.edge_labels[e] >= 0.5f, edge);
        continue;
      }
      const auto r = static_cast<std::size_t>(rev[e]);
      if (r < e) continue;  // each undirected link once, as the simulator scores it
      const bool le = !std::isnan(w.edge_labels[e]), lr = !std::isnan(w.edge_labels[r]);
      if (!le && !lr) continue;
      const bool positive = (le && w.edge_labels[e] >= 0.5f) || (lr && w.edge_labels[r] >= 0.5f);
      add(std::max(s.edge[e], s.edge[r]), positive, edge);  // flagged when either entry is
    }
  }
  auto best = [&](const Counts& c) {
    int b = kCalibrationHalf;  // 0.5 unless another threshold does strictly better
    for (int k = 0; k < kCalibrationSteps; ++k) {
      if (c[static_cast<std::size_t>(k)].f1() > c[static_cast<std::size_t>(b)].f1()) b = k;
    }
    return b;
  };
  const int bn = best(node), be = best(edge);
  Calibration cal{calibration_threshold(bn), calibration_threshold(be), node[static_cast<std::size_t>(bn)].f1(),
                  edge[static_cast<std::size_t>(be)].f1()};
  auto logit = [](float t) { return std::log(t / (1 - t)); };
  std::vector<float> p(model.parameters().begin(), model.parameters().end());
  p[model.layout().bn] -= logit(cal.node_threshold);
  p[model.layout().d] -= logit(cal.edge_threshold);
  model.set_parameters(p);
  return cal;
}

}  // namespace meshloop::ml
