#include "sim/telemetry.h"

#include <algorithm>
#include <cmath>

namespace meshloop::sim {

double radio_snr_db(double base_snr_db, double loss, const TelemetryParams& p) {
  const double l = std::clamp(loss, 1e-6, 1.0 - 1e-6);
  return std::min(base_snr_db, p.snr50_db + p.snr_slope_db * std::log((1.0 - l) / l));
}

double covered_share(const Fault& f, TimePoint start, TimePoint end) {
  const TimePoint a = std::max(f.start, start), b = std::min(f.end, end);
  if (b <= a || end <= start) return 0.0;
  return to_seconds(b - a) / to_seconds(end - start);
}

void label_window(const std::vector<Fault>& faults, TimePoint start, TimePoint end,
                  const std::vector<std::int32_t>& dir_entry, ml::LabelledWindow& out) {
  std::fill(out.node_labels.begin(), out.node_labels.end(), 0.0f);
  std::fill(out.edge_labels.begin(), out.edge_labels.end(), 0.0f);
  auto link = [&](std::uint32_t e) {
    out.edge_labels[static_cast<std::size_t>(dir_entry[2 * e])] = 1.0f;
    out.edge_labels[static_cast<std::size_t>(dir_entry[2 * e + 1])] = 1.0f;
  };
  for (const Fault& f : faults) {
    if (f.is_shift() || covered_share(f, start, end) < 0.5) continue;
    if (f.is_node_fault()) {
      out.node_labels[f.node - 1] = 1.0f;
    } else if (f.kind == FaultKind::kPartition) {
      for (std::uint32_t e : f.cut_edges) link(e);
    } else {
      link(f.edge);
    }
  }
}

}  // namespace meshloop::sim
