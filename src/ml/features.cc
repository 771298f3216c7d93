#include "ml/features.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace meshloop::ml {

const std::array<FeatureInfo, kNodeFeatureCount>& node_feature_info() {
  static const std::array<FeatureInfo, kNodeFeatureCount> info = {{
      {"cpu", Bad::kHigh, Transform::kIdentity, 0.02f},
      {"memory", Bad::kHigh, Transform::kIdentity, 0.02f},
      {"queue_drop_ratio", Bad::kHigh, Transform::kIdentity, 0.01f},
      {"forward_loss_ratio", Bad::kHigh, Transform::kIdentity, 0.01f},
      {"up_neighbour_ratio", Bad::kLow, Transform::kIdentity, 0.05f, false},
      {"route_changes_per_s", Bad::kHigh, Transform::kLog1p, 0.1f},
      {"telemetry_age_s", Bad::kHigh, Transform::kLog1p, 0.2f, false},
  }};
  return info;
}

const std::array<FeatureInfo, kEdgeFeatureCount>& edge_feature_info() {
  static const std::array<FeatureInfo, kEdgeFeatureCount> info = {{
      {"loss_in", Bad::kHigh, Transform::kIdentity, 0.01f},
      {"loss_out", Bad::kHigh, Transform::kIdentity, 0.01f},
      {"rtt_ms", Bad::kHigh, Transform::kLog1p, 0.05f},
      {"jitter_ms", Bad::kHigh, Transform::kLog1p, 0.1f},
      {"link_age_s", Bad::kLow, Transform::kLog1p, 0.5f, false},
      {"up", Bad::kLow, Transform::kIdentity, 0.1f, false},
      {"rssi_dbm", Bad::kLow, Transform::kIdentity, 1.0f},
      {"snr_db", Bad::kLow, Transform::kIdentity, 1.0f},
      {"throughput_mbps", Bad::kLow, Transform::kLog1p, 0.1f},
  }};
  return info;
}

float transform_value(Transform t, float x) {
  switch (t) {
    case Transform::kIdentity:
      return x;
    case Transform::kLog1p:
      return fast_log1p(x);
  }
  return x;
}

}  // namespace meshloop::ml
