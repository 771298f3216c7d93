// The neighbourhood graph every detector scores: compact arrays, no pointers.
//
// Nodes are 0..n-1; links are directed CSR entries (the out-edges of node v are targets[offsets[v] ..
// offsets[v+1])). A point-to-point mesh link appears twice, once from each end, each entry carrying the features its
// tail measured (features.h). Detectors score every node and every CSR entry; a caller that wants one score per
// undirected link takes the larger of the two entries' scores (reverse_edges() pairs them).
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "core/result.h"
#include "ml/features.h"

namespace meshloop::ml {

using FeatureMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Graph {
  // Stable ids of the nodes (mesh NodeIds), used by detectors that keep per-element state across windows
  // (hysteresis). Empty means "the index is the id".
  std::vector<std::uint32_t> node_ids;
  std::vector<std::int32_t> offsets;  // n + 1 entries, offsets[0] == 0, non-decreasing
  std::vector<std::int32_t> targets;  // offsets[n] entries, each in [0, n)
  FeatureMatrix node_features;        // n x kNodeFeatureCount, raw units (features.h), NaN = not measured
  FeatureMatrix edge_features;        // offsets[n] x kEdgeFeatureCount

  std::size_t num_nodes() const { return offsets.empty() ? 0 : offsets.size() - 1; }
  std::size_t num_edges() const { return targets.size(); }
  std::uint32_t node_id(std::size_t v) const {
    return node_ids.empty() ? static_cast<std::uint32_t>(v) : node_ids[v];
  }
  // The tail (source) of every CSR entry, computed from offsets.
  std::vector<std::int32_t> sources() const;

  // InvalidArgument naming the first inconsistency (sizes, offsets, out-of-range targets, self loops).
  Status validate() const;

  // Builds the CSR arrays of an n-node graph from undirected links (each becomes two entries, out-edges sorted by
  // target) with zeroed feature matrices. REQUIRES: endpoints in [0, n), no self loops, no duplicates.
  static Graph from_links(std::size_t n, std::span<const std::pair<std::int32_t, std::int32_t>> links);
};

// For each CSR entry u->v, the index of v->u, or -1 when the reverse entry is absent.
std::vector<std::int32_t> reverse_edges(const Graph& graph);

}  // namespace meshloop::ml
