#include "mapek/neighbourhood.h"

#include <algorithm>
#include <vector>

namespace meshloop::mapek {

ml::Graph neighbourhood(const ml::Graph& g, std::size_t center, int hops) {
  const std::size_t n = g.num_nodes();
  std::vector<std::int32_t> local(n, -1);
  std::vector<std::size_t> members{center};
  local[center] = 0;
  std::size_t begin = 0;
  for (int h = 0; h < hops; ++h) {
    const std::size_t end = members.size();
    for (std::size_t i = begin; i < end; ++i) {
      const std::size_t v = members[i];
      for (std::int32_t e = g.offsets[v]; e < g.offsets[v + 1]; ++e) {
        const auto t = static_cast<std::size_t>(g.targets[static_cast<std::size_t>(e)]);
        if (local[t] >= 0) continue;
        local[t] = 0;
        members.push_back(t);
      }
    }
    begin = end;
  }
  std::sort(members.begin(), members.end());
  for (std::size_t i = 0; i < members.size(); ++i) local[members[i]] = static_cast<std::int32_t>(i);

  ml::Graph out;
  const auto m = static_cast<Eigen::Index>(members.size());
  out.node_ids.resize(members.size());
  out.offsets.assign(members.size() + 1, 0);
  out.node_features.resize(m, static_cast<Eigen::Index>(ml::kNodeFeatureCount));
  std::vector<std::int32_t> entries;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const std::size_t v = members[i];
    out.node_ids[i] = g.node_id(v);
    out.node_features.row(static_cast<Eigen::Index>(i)) = g.node_features.row(static_cast<Eigen::Index>(v));
    for (std::int32_t e = g.offsets[v]; e < g.offsets[v + 1]; ++e) {
      const std::int32_t t = local[static_cast<std::size_t>(g.targets[static_cast<std::size_t>(e)])];
      if (t < 0) continue;
      out.targets.push_back(t);
      entries.push_back(e);
    }
    out.offsets[i + 1] = static_cast<std::int32_t>(out.targets.size());
  }
  out.edge_features.resize(static_cast<Eigen::Index>(entries.size()), static_cast<Eigen::Index>(ml::kEdgeFeatureCount));
  for (std::size_t k = 0; k < entries.size(); ++k) {
    out.edge_features.row(static_cast<Eigen::Index>(k)) = g.edge_features.row(entries[k]);
  }
  return out;
}

}  // namespace meshloop::mapek
