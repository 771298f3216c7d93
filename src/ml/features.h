// The feature schema of the Analyze step: what every detector reads about a node and about a link.
//
// Monitor (mapek) and `meshloop train` fill these columns; every detector reads them by name. The order is part of
// the model file (a model trained on another schema is refused), so append new features at the end and bump
// kFeatureSchemaVersion. A value that was not measured is NaN: the model normalises it to the training mean (0), the
// rule scorer uses the original system's default for it, the static and threshold detectors ignore it.
// Thread-safety: constants and pure functions.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meshloop::ml {

// Per node, as the node (or its neighbours' summaries of it) reports it over one observation window.
enum class NodeFeature : std::uint8_t {
  kCpu = 0,             // CPU utilisation, fraction 0..1
  kMemory,              // memory utilisation, fraction 0..1
  kQueueDropRatio,      // packets dropped at the node's queues / packets offered, 0..1
  kForwardLossRatio,    // data handed to this node for transit that it did not forward, 0..1 (gray hole signal)
  kUpNeighbourRatio,    // neighbours up / links configured, 0..1
  kRouteChangesPerS,    // route changes per second at this node
  kTelemetryAgeS,       // seconds since this node's summary was produced (a silent node grows stale)
  kCount,
};

// Per directed link u -> v (one CSR entry), as u measures it over one observation window.
enum class EdgeFeature : std::uint8_t {
  kLossIn = 0,       // 1 - delivery ratio of v's hellos at u
  kLossOut,          // 1 - delivery ratio of u's hellos at v, as v reports it
  kRttMs,            // smoothed round-trip time, milliseconds
  kJitterMs,         // RTT variation, milliseconds
  kLinkAgeS,         // seconds since the link last changed state (short: new or flapping)
  kUp,               // 1 when the link is two-way and alive, else 0
  kRssiDbm,          // received signal strength, dBm (radio links only; NaN elsewhere)
  kSnrDb,            // signal-to-noise ratio, dB (radio links only; NaN elsewhere)
  kThroughputMbps,   // data carried, Mbit/s
  kCount,
};

constexpr std::size_t kNodeFeatureCount = static_cast<std::size_t>(NodeFeature::kCount);
constexpr std::size_t kEdgeFeatureCount = static_cast<std::size_t>(EdgeFeature::kCount);
// Bumped whenever a feature is added, removed, reordered or changes unit or transform.
constexpr std::uint32_t kFeatureSchemaVersion = 1;

constexpr std::size_t index(NodeFeature f) { return static_cast<std::size_t>(f); }
constexpr std::size_t index(EdgeFeature f) { return static_cast<std::size_t>(f); }

// Which side of a feature's normal range is the bad one.
enum class Bad : std::uint8_t { kHigh, kLow };
// Applied before normalisation and before the threshold detector's statistics: log1p tames heavy tails
// (RTT, link age, throughput, rates) so that a mean and a spread describe them.
enum class Transform : std::uint8_t { kIdentity, kLog1p };

struct FeatureInfo {
  std::string_view name;
  Bad bad;
  Transform transform;
  float min_spread;  // floor on the threshold detector's robust spread, in transformed units (a loss that is 0
                     // everywhere has MAD 0; without a floor 0.001 would be "infinitely" anomalous)
  // Healthy values fluctuate (ratios and rates of small counts: a lost hello, a dropped packet), so the threshold
  // detector takes its spread from the baseline's tail too. False for state features (a link is up, its age, the
  // share of neighbours up): healthy they barely move, and their tail in the baseline is the faults themselves.
  bool noisy = true;
};

const std::array<FeatureInfo, kNodeFeatureCount>& node_feature_info();
const std::array<FeatureInfo, kEdgeFeatureCount>& edge_feature_info();

// The transform of a feature applied to one value (NaN stays NaN).
float transform_value(Transform t, float x);
// log(1 + max(x, 0)) to within 1e-6 absolute, NaN stays NaN; inline arithmetic only (libm's log1pf was a tenth of
// inference time). The same function serves training and inference, so models see exactly what they were trained on.
inline float fast_log1p(float x) {
  if (std::isnan(x)) return x;
  const float y = 1.0f + std::max(x, 0.0f);
  if (!(y < 3.0e38f)) return 88.72284f;  // log(FLT_MAX): infinity is clamped, not propagated
  const auto bits = std::bit_cast<std::uint32_t>(y);
  int e = static_cast<int>(bits >> 23) - 127;
  float m = std::bit_cast<float>((bits & 0x7fffffu) | 0x3f800000u);  // [1, 2)
  if (m > 1.41421356f) {
    m *= 0.5f;
    ++e;
  }
  // log(m) = 2 atanh(t), t = (m - 1) / (m + 1), |t| <= 0.172: the series to t^9 is exact to float precision.
  const float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
  const float series = t * (2.0f + t2 * (2.0f / 3 + t2 * (2.0f / 5 + t2 * (2.0f / 7 + t2 * (2.0f / 9)))));
  return static_cast<float>(e) * 0.69314718f + series;
}

}  // namespace meshloop::ml
