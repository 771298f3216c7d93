#include "mesh/router.h"

#include <algorithm>

namespace meshloop::mesh {

namespace {
const LinkAdvert* find_link(const Lsa& lsa, NodeId neighbour) {
  auto it = std::lower_bound(lsa.links.begin(), lsa.links.end(), neighbour,
                             [](const LinkAdvert& l, NodeId id) { return l.neighbour < id; });
  return it != lsa.links.end() && it->neighbour == neighbour ? &*it : nullptr;
}
}  // namespace

void Router::recompute() {
  stale_ = false;
  // Every advertised link in one pass over the database (origins ascending, each LSA's links sorted), then the graph
  // keeps the two-way ones: checking on the built arrays is what makes an SPF run at 1000 nodes cheap, where looking
  // each reverse link up in the database was most of its cost.
  std::vector<NodeId> nodes;
  std::vector<Graph::Edge> edges;
  nodes.reserve(lsdb_.size());
  lsdb_.for_each([&](const Lsdb::Entry& entry) {
    nodes.push_back(entry.lsa.origin);
    for (const auto& link : entry.lsa.links) edges.push_back({entry.lsa.origin, link.neighbour, link.cost});
  });
  graph_ = Graph::build(nodes, edges, Graph::Links::kTwoWayOnly);
  self_index_ = graph_.index_of(self_);

  no_transit_.assign(graph_.size(), 0);
  lsdb_.for_each([&](const Lsdb::Entry& entry) {
    if (entry.lsa.flags & kLsaFlagAvoidTransit) no_transit_[graph_.index_of(entry.lsa.origin)] = 1;
  });
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
  ensure_fresh();
  if (self_index_ == kNoIndex) return {};
  const Index d = graph_.index_of(destination);
  if (d == kNoIndex || d == self_index_) return {};
  return to_ids(path_to(tree_avoiding(avoid, destination == avoid), d));
}

std::vector<NodeId> Router::link_backup_path(NodeId destination, NodeId neighbour) {
  ensure_fresh();
  if (self_index_ == kNoIndex) return {};
  const Index d = graph_.index_of(destination);
  if (d == kNoIndex || d == self_index_) return {};
  return to_ids(path_to(tree_avoiding(neighbour, true), d));
}

void Router::precompute_backups(const std::vector<NodeId>& next_hops) {
  ensure_fresh();
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

const Graph& Router::graph() {
  ensure_fresh();
  return graph_;
}


bool Router::affects_tree(const Lsa* before, const Lsa& after) const {
  if (self_index_ == kNoIndex || after.origin == self_) return true;
  const Index o = graph_.index_of(after.origin);
  if (o == kNoIndex || before == nullptr || before->flags != after.flags) return true;
  auto by_neighbour = [](const LinkAdvert& x, const LinkAdvert& y) { return x.neighbour < y.neighbour; };
  if (!std::is_sorted(after.links.begin(), after.links.end(), by_neighbour)) return true;  // lookups need order
  const auto& dist = primary_.dist;
  const auto& parent = primary_.parent;
  // Links lost or made dearer matter only if the tree uses them (either direction: the two-way check ties them).
  for (const LinkAdvert& old_link : before->links) {
    const LinkAdvert* now = find_link(after, old_link.neighbour);
    if (now && now->cost <= old_link.cost) continue;
    const Index v = graph_.index_of(old_link.neighbour);
    if (v == kNoIndex) continue;
    if (parent[v] == o || parent[o] == v) return true;
  }
  // Links gained or made cheaper matter only if they shorten (or tie, which may change tie-breaking) a path.
  for (const LinkAdvert& new_link : after.links) {
    const LinkAdvert* old_link = find_link(*before, new_link.neighbour);
    if (old_link && old_link->cost <= new_link.cost) continue;
    const Lsdb::Entry* other = lsdb_.find(new_link.neighbour);
    if (!other) continue;
    const LinkAdvert* back = find_link(other->lsa, after.origin);
    if (!back) continue;  // not two-way: unusable
    const Index v = graph_.index_of(new_link.neighbour);
    if (v == kNoIndex) return true;
    const std::uint64_t inf = kInfiniteCost;
    if (dist[o] < inf && dist[o] + new_link.cost <= dist[v]) return true;
    if (dist[v] < inf && dist[v] + back->cost <= dist[o]) return true;
    // A link that was one-way until now gives the reverse direction too; covered by the second check.
  }
  return false;
}

}  // namespace meshloop::mesh
