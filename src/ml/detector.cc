#include "ml/detector.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace meshloop::ml {
namespace {

using Eigen::Index;

float node_value(const Graph& g, std::size_t v, NodeFeature f) {
  return g.node_features(static_cast<Index>(v), static_cast<Index>(index(f)));
}
float edge_value(const Graph& g, std::size_t e, EdgeFeature f) {
  return g.edge_features(static_cast<Index>(e), static_cast<Index>(index(f)));
}
float or_default(float x, float fallback) { return std::isnan(x) ? fallback : x; }

// The larger of an entry's two loss directions; NaN when neither was measured.
float entry_loss(const Graph& g, std::size_t e) {
  const float in = edge_value(g, e, EdgeFeature::kLossIn), out = edge_value(g, e, EdgeFeature::kLossOut);
  if (std::isnan(in)) return out;
  if (std::isnan(out)) return in;
  return std::max(in, out);
}

// Mean over the node's entries of `value(e)`, skipping NaN; NaN when nothing was measured.
template <typename F>
float mean_over_entries(const Graph& g, std::size_t v, F value) {
  double sum = 0;
  int count = 0;
  for (std::int32_t e = g.offsets[v]; e < g.offsets[v + 1]; ++e) {
    const float x = value(static_cast<std::size_t>(e));
    if (std::isnan(x)) continue;
    sum += x;
    ++count;
  }
  return count == 0 ? std::nanf("") : static_cast<float>(sum / count);
}

// The original's link rules on one set of link values (defaults already applied).
struct LinkValues {
  float rssi = -50, snr = 20, loss = 0, latency = 15, throughput = 50, link_age = 3600;
};
float link_points(const LinkValues& l) {
  float s = 0;
  if (l.rssi < -80) {
    s += 0.30f;
  } else if (l.rssi < -70) {
    s += 0.10f;
  }
  if (l.snr < 8) {
    s += 0.25f;
  } else if (l.snr < 12) {
    s += 0.10f;
  }
  if (l.loss > 0.15f) {
    s += 0.35f;
  } else if (l.loss > 0.05f) {
    s += 0.15f;
  }
  if (l.latency > 100) {
    s += 0.25f;
  } else if (l.latency > 40) {
    s += 0.10f;
  }
  if (l.throughput < 2) s += 0.20f;
  if (l.link_age < 10) s += 0.15f;
  if (l.snr < 15 && l.throughput < 30 && l.rssi > -75) s += 0.15f;  // interference
  if (l.latency > 30 && l.loss > 0.03f) s += 0.10f;                  // cascade
  return s;
}

std::uint64_t edge_key(std::uint32_t from, std::uint32_t to) {
  return static_cast<std::uint64_t>(from) << 32 | to;
}

// Median of v (reordered in place). REQUIRES: !v.empty().
float median_of(std::vector<float>& v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  const float hi = *mid;
  if (v.size() % 2 == 1) return hi;
  const float lo = *std::max_element(v.begin(), mid);
  return lo + (hi - lo) / 2;
}

// z with P(Z <= z) = q for a standard normal Z, by bisection on erfc (run once per detector). REQUIRES: 0.5 < q < 1.
float normal_quantile(float q) {
  double lo = 0.0, hi = 10.0;
  for (int i = 0; i < 60; ++i) {
    const double mid = (lo + hi) / 2;
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < q ? lo : hi) = mid;
  }
  return static_cast<float>((lo + hi) / 2);
}

// The spread a normal distribution with the baseline's bad-side tail would have: (q - median) / z(q) at quantile
// q on the bad side (q or 1 - q). MAD alone is blind to zero-inflated features: with 1% background loss most windows
// lose no hello, so MAD is 0, the spread sat on its floor, and two lost hellos of a window's 25 (8%) were beyond
// any z threshold: 18% of the elements of a fault-free 100-node mesh were flagged every window.
float tail_spread(std::vector<float>& v, float median, Bad bad, float q, float z) {
  const double at = bad == Bad::kHigh ? q : 1.0 - q;
  const auto k = v.begin() + static_cast<std::ptrdiff_t>(at * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), k, v.end());
  return std::abs(*k - median) / z;
}

}  // namespace

void Verdicts::resize(std::size_t nodes, std::size_t edges) {
  node_score.assign(nodes, 0.0f);
  edge_score.assign(edges, 0.0f);
  node_flag.assign(nodes, 0);
  edge_flag.assign(edges, 0);
}

// --- static ------------------------------------------------------------------------------------------------

Status StaticDetector::observe(const Graph& graph, TimePoint, Verdicts& out) {
  if (Status s = graph.validate(); !s.ok()) return s;
  const std::size_t n = graph.num_nodes(), m = graph.num_edges();
  out.resize(n, m);
  auto ratio = [](float x, float limit) { return std::isnan(x) ? 0.0f : x / limit; };
  for (std::size_t e = 0; e < m; ++e) {
    const float loss = entry_loss(graph, e);
    out.edge_flag[e] = loss > limits_.loss ? 1 : 0;
    out.edge_score[e] = std::clamp(0.5f * ratio(loss, limits_.loss), 0.0f, 1.0f);
  }
  for (std::size_t v = 0; v < n; ++v) {
    const float cpu = node_value(graph, v, NodeFeature::kCpu), mem = node_value(graph, v, NodeFeature::kMemory);
    const float loss = mean_over_entries(graph, v, [&](std::size_t e) { return entry_loss(graph, e); });
    out.node_flag[v] = (cpu > limits_.cpu || mem > limits_.memory || loss > limits_.loss) ? 1 : 0;
    const float worst = std::max({ratio(cpu, limits_.cpu), ratio(mem, limits_.memory), ratio(loss, limits_.loss)});
    out.node_score[v] = std::clamp(0.5f * worst, 0.0f, 1.0f);
  }
  return Status::Ok();
}

// --- rules -------------------------------------------------------------------------------------------------

Status RuleScorer::observe(const Graph& graph, TimePoint, Verdicts& out) {
  if (Status s = graph.validate(); !s.ok()) return s;
  const std::size_t n = graph.num_nodes(), m = graph.num_edges();
  out.resize(n, m);
  const LinkValues defaults;
  auto link_of_entry = [&](std::size_t e) {
    LinkValues l;
    l.rssi = or_default(edge_value(graph, e, EdgeFeature::kRssiDbm), defaults.rssi);
    l.snr = or_default(edge_value(graph, e, EdgeFeature::kSnrDb), defaults.snr);
    l.loss = or_default(entry_loss(graph, e), defaults.loss);
    l.latency = or_default(edge_value(graph, e, EdgeFeature::kRttMs), defaults.latency);
    l.throughput = or_default(edge_value(graph, e, EdgeFeature::kThroughputMbps), defaults.throughput);
    l.link_age = or_default(edge_value(graph, e, EdgeFeature::kLinkAgeS), defaults.link_age);
    return l;
  };
  for (std::size_t e = 0; e < m; ++e) {
    const float s = link_points(link_of_entry(e));
    out.edge_score[e] = std::min(s, 1.0f);
    out.edge_flag[e] = s >= 0.5f ? 1 : 0;
  }
  for (std::size_t v = 0; v < n; ++v) {
    LinkValues l;
    auto mean = [&](EdgeFeature f, float fallback) {
      return or_default(mean_over_entries(graph, v, [&](std::size_t e) { return edge_value(graph, e, f); }),
                        fallback);
    };
    l.rssi = mean(EdgeFeature::kRssiDbm, defaults.rssi);
    l.snr = mean(EdgeFeature::kSnrDb, defaults.snr);
    l.loss = or_default(mean_over_entries(graph, v, [&](std::size_t e) { return entry_loss(graph, e); }),
                        defaults.loss);
    l.latency = mean(EdgeFeature::kRttMs, defaults.latency);
    l.throughput = mean(EdgeFeature::kThroughputMbps, defaults.throughput);
    l.link_age = mean(EdgeFeature::kLinkAgeS, defaults.link_age);
    float s = link_points(l);
    const float cpu = or_default(node_value(graph, v, NodeFeature::kCpu), 0.3f);
    const float mem = or_default(node_value(graph, v, NodeFeature::kMemory), 0.4f);
    if (cpu > 0.85f || mem > 0.85f) s += 0.25f;
    out.node_score[v] = std::min(s, 1.0f);
    out.node_flag[v] = s >= 0.5f ? 1 : 0;
  }
  return Status::Ok();
}

// --- thresholds --------------------------------------------------------------------------------------------

ThresholdDetector::ThresholdDetector(ThresholdConfig config)
    : config_(config), tail_z_(normal_quantile(std::clamp(config.tail_quantile, 0.51f, 0.9999f))) {}

ThresholdDetector::Baseline ThresholdDetector::view(const Feature& f, std::size_t warmup) {
  Baseline b;
  b.windows = f.windows.size();
  b.ready = b.windows >= warmup && b.windows > 0;
  b.median = f.median;
  b.spread = f.spread;
  b.relearned = f.relearned;
  return b;
}

ThresholdDetector::Baseline ThresholdDetector::baseline(NodeFeature f) const {
  return view(node_[index(f)], config_.warmup_windows);
}
ThresholdDetector::Baseline ThresholdDetector::baseline(EdgeFeature f) const {
  return view(edge_[index(f)], config_.warmup_windows);
}

// For every feature: z-scores of this window against the baseline (before it learns from this window), folded into
// worst[i] = max over features; then the window's samples join the baseline.
template <std::size_t N>
void ThresholdDetector::score_features(const FeatureMatrix& features, const std::array<FeatureInfo, N>& info,
                                       std::array<Feature, N>& state, std::vector<float>& worst,
                                       const std::vector<std::uint8_t>& flagged) {
  const auto rows = static_cast<std::size_t>(features.rows());
  worst.assign(rows, 0.0f);
  std::vector<float>& values = scratch_;
  for (std::size_t f = 0; f < N; ++f) {
    Feature& st = state[f];
    values.resize(rows);
    for (std::size_t i = 0; i < rows; ++i) {
      values[i] = transform_value(info[f].transform, features(static_cast<Index>(i), static_cast<Index>(f)));
    }
    const bool ready = !st.windows.empty() && st.windows.size() >= config_.warmup_windows;
    bool shifting = false;
    if (ready) {
      const float sign = info[f].bad == Bad::kHigh ? 1.0f : -1.0f;
      std::size_t measured = 0, beyond = 0;
      for (float x : values) {
        if (std::isnan(x)) continue;
        ++measured;
        if (sign * (x - st.median) / st.spread >= config_.enter_z) ++beyond;
      }
      // Most of the mesh moved at once: a regime, not a fault. This feature casts no vote this window.
      shifting = measured > 0 && static_cast<float>(beyond) >= config_.shift_fraction * static_cast<float>(measured);
      if (!shifting) {
        for (std::size_t i = 0; i < rows; ++i) {
          const float x = values[i];
          if (std::isnan(x)) continue;
          worst[i] = std::max(worst[i], sign * (x - st.median) / st.spread);
        }
      }
    }
    // Learn: an evenly strided sample of this window's measured values.
    // Flagged elements teach nothing: a fault the baseline learned would widen the tail that is meant to find it.
    auto learnable = [&](std::size_t i) { return !std::isnan(values[i]) && flagged[i] == 0; };
    std::vector<float> sample;
    std::size_t measured = 0;
    for (std::size_t i = 0; i < rows; ++i) measured += learnable(i) ? 1 : 0;
    const std::size_t stride = std::max<std::size_t>(1, (measured + config_.samples_per_window - 1) /
                                                            std::max<std::size_t>(1, config_.samples_per_window));
    std::size_t k = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      if (!learnable(i)) continue;
      if (k++ % stride == 0) sample.push_back(values[i]);
    }
    if (sample.empty()) continue;
    // A shift's windows wait aside: after shift_windows in a row they are the new regime's baseline; a shorter one
    // (a mesh-wide fault) leaves no trace, where learning its first window widened the tail enough to hide the rest.
    if (shifting) {
      st.shifted.push_back(std::move(sample));
      if (static_cast<int>(st.shifted.size()) < config_.shift_windows) continue;
      st.windows = std::move(st.shifted);
      st.shifted.clear();
      ++st.relearned;
    } else {
      st.shifted.clear();
      st.windows.push_back(std::move(sample));
    }
    while (st.windows.size() > config_.history_windows) st.windows.pop_front();
    values.clear();
    for (const auto& w : st.windows) values.insert(values.end(), w.begin(), w.end());
    st.median = median_of(values);
    const float tail =
        info[f].noisy ? tail_spread(values, st.median, info[f].bad, config_.tail_quantile, tail_z_) : 0.0f;
    for (float& x : values) x = std::abs(x - st.median);
    st.spread = std::max({1.4826f * median_of(values), tail, info[f].min_spread});
  }
}

void ThresholdDetector::update_element(Element& e, float z) {
  e.above = z >= config_.enter_z ? e.above + 1 : 0;
  e.below = z < config_.exit_z ? e.below + 1 : 0;
  if (!e.flagged && e.above >= config_.enter_windows) e.flagged = true;
  if (e.flagged && e.below >= config_.exit_windows) e.flagged = false;
  e.last_seen = windows_seen_;
}

Status ThresholdDetector::observe(const Graph& graph, TimePoint, Verdicts& out) {
  if (Status s = graph.validate(); !s.ok()) return s;
  ++windows_seen_;
  const std::size_t n = graph.num_nodes(), m = graph.num_edges();
  out.resize(n, m);
  std::vector<float> node_z, edge_z;
  auto was_flagged = [](const auto& states, auto key) -> std::uint8_t {
    auto it = states.find(key);
    return it != states.end() && it->second.flagged ? 1 : 0;
  };
  std::vector<std::uint8_t> node_flagged(n), edge_flagged(m);
  for (std::size_t v = 0; v < n; ++v) {
    node_flagged[v] = was_flagged(node_state_, graph.node_id(v));
    for (std::int32_t i = graph.offsets[v]; i < graph.offsets[v + 1]; ++i) {
      const auto e = static_cast<std::size_t>(i);
      const auto to = graph.node_id(static_cast<std::size_t>(graph.targets[e]));
      edge_flagged[e] = was_flagged(edge_state_, edge_key(graph.node_id(v), to));
    }
  }
  score_features(graph.node_features, node_feature_info(), node_, node_z, node_flagged);
  score_features(graph.edge_features, edge_feature_info(), edge_, edge_z, edge_flagged);
  const float full = 2 * config_.enter_z;
  for (std::size_t v = 0; v < n; ++v) {
    Element& e = node_state_[graph.node_id(v)];
    update_element(e, node_z[v]);
    out.node_flag[v] = e.flagged ? 1 : 0;
    out.node_score[v] = std::clamp(node_z[v] / full, 0.0f, 1.0f);
  }
  for (std::size_t v = 0; v < n; ++v) {
    for (std::int32_t i = graph.offsets[v]; i < graph.offsets[v + 1]; ++i) {
      const auto e = static_cast<std::size_t>(i);
      Element& st = edge_state_[edge_key(graph.node_id(v), graph.node_id(static_cast<std::size_t>(graph.targets[e])))];
      update_element(st, edge_z[e]);
      out.edge_flag[e] = st.flagged ? 1 : 0;
      out.edge_score[e] = std::clamp(edge_z[e] / full, 0.0f, 1.0f);
    }
  }
  // Forget elements gone for longer than the baseline's memory (removed links, departed nodes).
  if (config_.history_windows > 0 && windows_seen_ % config_.history_windows == 0) {
    const std::uint64_t horizon = config_.history_windows;
    std::erase_if(node_state_, [&](const auto& kv) { return windows_seen_ - kv.second.last_seen > horizon; });
    std::erase_if(edge_state_, [&](const auto& kv) { return windows_seen_ - kv.second.last_seen > horizon; });
  }
  return Status::Ok();
}

// --- graphsage ---------------------------------------------------------------------------------------------

GraphSageDetector::GraphSageDetector(std::shared_ptr<const GraphModel> model, float threshold)
    : model_(std::move(model)), threshold_(threshold) {
  assert(model_ != nullptr);
}

Status GraphSageDetector::observe(const Graph& graph, TimePoint, Verdicts& out) {
  if (Status s = graph.validate(); !s.ok()) return s;
  model_->score(graph, scores_);
  out.resize(graph.num_nodes(), graph.num_edges());
  for (std::size_t v = 0; v < scores_.node.size(); ++v) {
    out.node_score[v] = scores_.node[v];
    out.node_flag[v] = scores_.node[v] >= threshold_ ? 1 : 0;
  }
  for (std::size_t e = 0; e < scores_.edge.size(); ++e) {
    out.edge_score[e] = scores_.edge[e];
    out.edge_flag[e] = scores_.edge[e] >= threshold_ ? 1 : 0;
  }
  return Status::Ok();
}

}  // namespace meshloop::ml
