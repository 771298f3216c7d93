#include "mesh/router.h"

#include <algorithm>

namespace meshloop::mesh {

void Router::recompute(const Lsdb& lsdb) {
  // Two-way check: collect every advertised (from, to) pair, sorted, then keep an edge only if its reverse exists.
  std::vector<Graph::Edge> advertised;
  std::vector<NodeId> nodes;
  nodes.reserve(lsdb.size());
  for (const auto& [origin, entry] : lsdb.entries()) {
    nodes.push_back(origin);
    for (const auto& link : entry.lsa.links) advertised.push_back({origin, link.neighbour, link.cost});
  }
  auto key_less = [](const Graph::Edge& a, const Graph::Edge& b) {
    return a.from != b.from ? a.from < b.from : a.to < b.to;
  };
  std::sort(advertised.begin(), advertised.end(), key_less);
  std::vector<Graph::Edge> edges;
  edges.reserve(advertised.size());
  for (const auto& e : advertised) {
    const Graph::Edge reverse{e.to, e.from, 0};
    if (std::binary_search(advertised.begin(), advertised.end(), reverse, key_less)) edges.push_back(e);
  }
  graph_ = Graph::build(nodes, edges);
  self_index_ = graph_.index_of(self_);

  no_transit_.assign(graph_.size(), 0);
  for (const auto& [origin, entry] : lsdb.entries()) {
    if (entry.lsa.flags & kLsaFlagAvoidTransit) {
      const Index i = graph_.index_of(origin);
      if (i != kNoIndex) no_transit_[i] = 1;
    }
  }
  node_avoiding_.clear();
  link_avoiding_.clear();
  reachable_ = 0;
  if (self_index_ == kNoIndex) {
    primary_ = ShortestPaths{};
    return;
  }
  Exclusions ex;
  ex.no_transit = no_transit_;
  primary_ = shortest_paths(graph_, self_index_, ex);
  for (Index i = 0; i < graph_.size(); ++i) {
    if (i != self_index_ && primary_.first_hop[i] != kNoIndex) ++reachable_;
  }
}

std::optional<Router::Route> Router::route(NodeId destination) const {
  if (self_index_ == kNoIndex) return std::nullopt;
  const Index d = graph_.index_of(destination);
  if (d == kNoIndex || d == self_index_ || primary_.first_hop[d] == kNoIndex) return std::nullopt;
  return Route{graph_.id(primary_.first_hop[d]), primary_.dist[d]};
}

std::vector<NodeId> Router::to_ids(const std::vector<Index>& path) const {
  std::vector<NodeId> out;
  if (path.size() < 2) return out;
  out.reserve(path.size() - 1);
  for (std::size_t i = 1; i < path.size(); ++i) out.push_back(graph_.id(path[i]));
  return out;
}

std::vector<NodeId> Router::path(NodeId destination) const {
  if (self_index_ == kNoIndex) return {};
  const Index d = graph_.index_of(destination);
  if (d == kNoIndex) return {};
  return to_ids(path_to(primary_, d));
}

const ShortestPaths& Router::tree_avoiding(NodeId avoid, bool link_only) {
  auto& cache = link_only ? link_avoiding_ : node_avoiding_;
  auto it = cache.find(avoid);
  if (it != cache.end()) return it->second;
  Exclusions ex;
  ex.no_transit = no_transit_;
  const Index a = graph_.index_of(avoid);
  if (link_only) {
    ex.link = {self_index_, a};
  } else {
    ex.node = a;
  }
  return cache.emplace(avoid, shortest_paths(graph_, self_index_, ex)).first->second;
}

std::vector<NodeId> Router::backup_path(NodeId destination, NodeId avoid) {
  if (self_index_ == kNoIndex) return {};
  const Index d = graph_.index_of(destination);
  if (d == kNoIndex || d == self_index_) return {};
  return to_ids(path_to(tree_avoiding(avoid, destination == avoid), d));
}

std::vector<NodeId> Router::link_backup_path(NodeId destination, NodeId neighbour) {
  if (self_index_ == kNoIndex) return {};
  const Index d = graph_.index_of(destination);
  if (d == kNoIndex || d == self_index_) return {};
  return to_ids(path_to(tree_avoiding(neighbour, true), d));
}

void Router::precompute_backups(const std::vector<NodeId>& next_hops) {
  if (self_index_ == kNoIndex) return;
  for (NodeId p : next_hops) {
    if (graph_.index_of(p) != kNoIndex) tree_avoiding(p, false);
  }
}

std::vector<std::pair<NodeId, Router::Route>> Router::all_routes() const {
  std::vector<std::pair<NodeId, Route>> out;
  if (self_index_ == kNoIndex) return out;
  out.reserve(reachable_);
  for (Index i = 0; i < graph_.size(); ++i) {
    if (i == self_index_ || primary_.first_hop[i] == kNoIndex) continue;
    out.push_back({graph_.id(i), Route{graph_.id(primary_.first_hop[i]), primary_.dist[i]}});
  }
  return out;
}

}  // namespace meshloop::mesh
