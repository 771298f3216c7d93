#include "mapek/node_window.h"

#include <algorithm>
#include <cmath>

namespace meshloop::mapek {

using ml::EdgeFeature;
using ml::NodeFeature;

ml::Graph node_window(const NodeSample& start, const NodeSample& end, std::size_t configured_links) {
  const mesh::Telemetry& t = end.telemetry;
  const double span_s = std::max(to_seconds(t.at - start.telemetry.at), 1e-3);
  std::vector<const mesh::NeighbourInfo*> nbs;
  for (const auto& n : t.neighbours) {
    if (n.id != t.self) nbs.push_back(&n);
  }
  std::sort(nbs.begin(), nbs.end(), [](auto* a, auto* b) { return a->id < b->id; });
  nbs.erase(std::unique(nbs.begin(), nbs.end(), [](auto* a, auto* b) { return a->id == b->id; }), nbs.end());

  // Node order: ascending id; self sits among its neighbours.
  std::vector<mesh::NodeId> ids{t.self};
  for (auto* n : nbs) ids.push_back(n->id);
  std::sort(ids.begin(), ids.end());
  const auto index_of = [&ids](mesh::NodeId id) {
    return static_cast<std::int32_t>(std::lower_bound(ids.begin(), ids.end(), id) - ids.begin());
  };
  const std::int32_t self = index_of(t.self);
  const auto n = static_cast<Eigen::Index>(ids.size());

  ml::Graph g;
  g.node_ids.assign(ids.begin(), ids.end());
  g.offsets.assign(ids.size() + 1, 0);
  // CSR: self -> every neighbour (ascending), each neighbour -> self.
  std::vector<const mesh::NeighbourInfo*> entry_link;  // per entry: the neighbour it describes
  std::vector<bool> entry_out;                         // per entry: self -> nb (true) or nb -> self
  for (std::size_t v = 0; v < ids.size(); ++v) {
    if (static_cast<std::int32_t>(v) == self) {
      for (auto* nb : nbs) {
        g.targets.push_back(index_of(nb->id));
        entry_link.push_back(nb);
        entry_out.push_back(true);
      }
    } else {
      g.targets.push_back(self);
      entry_link.push_back(*std::find_if(nbs.begin(), nbs.end(), [&](auto* x) { return x->id == ids[v]; }));
      entry_out.push_back(false);
    }
    g.offsets[v + 1] = static_cast<std::int32_t>(g.targets.size());
  }

  const float nan = std::nanf("");
  g.node_features = ml::FeatureMatrix::Constant(n, static_cast<Eigen::Index>(ml::kNodeFeatureCount), nan);
  g.edge_features = ml::FeatureMatrix::Constant(static_cast<Eigen::Index>(g.targets.size()),
                                                static_cast<Eigen::Index>(ml::kEdgeFeatureCount), nan);
  auto node = [&](std::int32_t v, NodeFeature f) -> float& {
    return g.node_features(v, static_cast<Eigen::Index>(ml::index(f)));
  };
  auto edge = [&](std::size_t e, EdgeFeature f) -> float& {
    return g.edge_features(static_cast<Eigen::Index>(e), static_cast<Eigen::Index>(ml::index(f)));
  };

  const double cpu = (end.cpu_seconds - start.cpu_seconds) / span_s;
  node(self, NodeFeature::kCpu) = static_cast<float>(std::clamp(cpu, 0.0, 1.0));
  node(self, NodeFeature::kTelemetryAgeS) = 0;
  if (configured_links > 0) {
    const auto up = std::count_if(nbs.begin(), nbs.end(), [](auto* x) { return x->up; });
    node(self, NodeFeature::kUpNeighbourRatio) =
        static_cast<float>(std::min(1.0, static_cast<double>(up) / static_cast<double>(configured_links)));
  }
  for (auto* nb : nbs) {
    node(index_of(nb->id), NodeFeature::kTelemetryAgeS) =
        nb->up ? 0.0f : static_cast<float>(std::max(0.0, to_seconds(t.at - nb->since)));
  }
  for (std::size_t e = 0; e < g.targets.size(); ++e) {
    const mesh::NeighbourInfo& nb = *entry_link[e];
    const bool out = entry_out[e];
    const double in_ratio = out ? nb.delivery_ratio_in : nb.delivery_ratio_out;
    const double out_ratio = out ? nb.delivery_ratio_out : nb.delivery_ratio_in;
    edge(e, EdgeFeature::kLossIn) = static_cast<float>(std::clamp(1.0 - in_ratio, 0.0, 1.0));
    edge(e, EdgeFeature::kLossOut) = static_cast<float>(std::clamp(1.0 - out_ratio, 0.0, 1.0));
    edge(e, EdgeFeature::kRttMs) = static_cast<float>(nb.srtt_s * 1000.0);
    edge(e, EdgeFeature::kLinkAgeS) = static_cast<float>(std::max(0.0, to_seconds(t.at - nb.since)));
    edge(e, EdgeFeature::kUp) = nb.up ? 1.0f : 0.0f;
    if (out) {
      const std::uint64_t now_bytes = nb.port < end.data_tx_bytes.size() ? end.data_tx_bytes[nb.port] : 0;
      const std::uint64_t then_bytes = nb.port < start.data_tx_bytes.size() ? start.data_tx_bytes[nb.port] : 0;
      const double bytes = now_bytes >= then_bytes ? static_cast<double>(now_bytes - then_bytes) : 0.0;
      edge(e, EdgeFeature::kThroughputMbps) = static_cast<float>(bytes * 8.0 / 1e6 / span_s);
    }
  }
  return g;
}

}  // namespace meshloop::mapek
