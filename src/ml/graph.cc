#include "ml/graph.h"

#include <algorithm>
#include <string>

namespace meshloop::ml {

std::vector<std::int32_t> Graph::sources() const {
  std::vector<std::int32_t> src(targets.size());
  for (std::size_t v = 0; v + 1 < offsets.size(); ++v) {
    for (std::int32_t e = offsets[v]; e < offsets[v + 1]; ++e) src[static_cast<std::size_t>(e)] = static_cast<std::int32_t>(v);
  }
  return src;
}

Status Graph::validate() const {
  if (offsets.empty()) return Status::InvalidArgument("graph: offsets is empty (need n + 1 entries)");
  const std::size_t n = offsets.size() - 1;
  if (offsets[0] != 0) return Status::InvalidArgument("graph: offsets[0] is " + std::to_string(offsets[0]) + ", not 0");
  for (std::size_t v = 0; v < n; ++v) {
    if (offsets[v + 1] < offsets[v]) {
      return Status::InvalidArgument("graph: offsets decrease at node " + std::to_string(v));
    }
  }
  if (static_cast<std::size_t>(offsets[n]) != targets.size()) {
    return Status::InvalidArgument("graph: offsets[n] = " + std::to_string(offsets[n]) + " but there are " +
                                   std::to_string(targets.size()) + " targets");
  }
  if (!node_ids.empty() && node_ids.size() != n) {
    return Status::InvalidArgument("graph: " + std::to_string(node_ids.size()) + " node ids for " +
                                   std::to_string(n) + " nodes");
  }
  if (static_cast<std::size_t>(node_features.rows()) != n ||
      static_cast<std::size_t>(node_features.cols()) != kNodeFeatureCount) {
    return Status::InvalidArgument("graph: node_features is " + std::to_string(node_features.rows()) + "x" +
                                   std::to_string(node_features.cols()) + ", expected " + std::to_string(n) + "x" +
                                   std::to_string(kNodeFeatureCount));
  }
  if (static_cast<std::size_t>(edge_features.rows()) != targets.size() ||
      static_cast<std::size_t>(edge_features.cols()) != kEdgeFeatureCount) {
    return Status::InvalidArgument("graph: edge_features is " + std::to_string(edge_features.rows()) + "x" +
                                   std::to_string(edge_features.cols()) + ", expected " +
                                   std::to_string(targets.size()) + "x" + std::to_string(kEdgeFeatureCount));
  }
  for (std::size_t v = 0; v < n; ++v) {
    for (std::int32_t e = offsets[v]; e < offsets[v + 1]; ++e) {
      const std::int32_t u = targets[static_cast<std::size_t>(e)];
      if (u < 0 || static_cast<std::size_t>(u) >= n) {
        return Status::InvalidArgument("graph: edge " + std::to_string(e) + " targets node " + std::to_string(u) +
                                       " outside [0, " + std::to_string(n) + ")");
      }
      if (static_cast<std::size_t>(u) == v) {
        return Status::InvalidArgument("graph: edge " + std::to_string(e) + " is a self loop on node " +
                                       std::to_string(v));
      }
    }
  }
  return Status::Ok();
}

Graph Graph::from_links(std::size_t n, std::span<const std::pair<std::int32_t, std::int32_t>> links) {
  std::vector<std::vector<std::int32_t>> adj(n);
  for (const auto& [a, b] : links) {
    adj[static_cast<std::size_t>(a)].push_back(b);
    adj[static_cast<std::size_t>(b)].push_back(a);
  }
  Graph g;
  g.offsets.reserve(n + 1);
  g.offsets.push_back(0);
  for (auto& out : adj) {
    std::sort(out.begin(), out.end());
    g.targets.insert(g.targets.end(), out.begin(), out.end());
    g.offsets.push_back(static_cast<std::int32_t>(g.targets.size()));
  }
  g.node_features = FeatureMatrix::Zero(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(kNodeFeatureCount));
  g.edge_features = FeatureMatrix::Zero(static_cast<Eigen::Index>(g.targets.size()),
                                        static_cast<Eigen::Index>(kEdgeFeatureCount));
  return g;
}

std::vector<std::int32_t> reverse_edges(const Graph& graph) {
  std::vector<std::int32_t> rev(graph.num_edges(), -1);
  const std::size_t n = graph.num_nodes();
  for (std::size_t v = 0; v < n; ++v) {
    for (std::int32_t e = graph.offsets[v]; e < graph.offsets[v + 1]; ++e) {
      const auto u = static_cast<std::size_t>(graph.targets[static_cast<std::size_t>(e)]);
      // Out-edges of u are searched linearly: neighbourhoods are small (degree ~8) and need not be sorted.
      for (std::int32_t f = graph.offsets[u]; f < graph.offsets[u + 1]; ++f) {
        if (static_cast<std::size_t>(graph.targets[static_cast<std::size_t>(f)]) == v) {
          rev[static_cast<std::size_t>(e)] = f;
          break;
        }
      }
    }
  }
  return rev;
}

}  // namespace meshloop::ml
