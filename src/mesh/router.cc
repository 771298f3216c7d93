#include "mesh/router.h"

#include <algorithm>

namespace meshloop::mesh {

namespace {
const LinkAdvert* find_link(const Lsa& lsa, NodeId neighbour) {
  auto it = std::lower_bound(lsa.links.begin(), lsa.links.end(), neighbour,
                             [](const LinkAdvert& l, NodeId id) { return l.neighbour < id; });
  return it != lsa.links.end() && it->neighbour == neighbour ? &*it : nullptr;
}

// The cheapest advertised cost of `lsa`'s link to `neighbour` (links are sorted; duplicates, which no sane peer
// sends, count like Graph::build counts them: the cheapest wins); kInfiniteCost when there is none.
Cost link_cost(const Lsa& lsa, NodeId neighbour) {
  Cost best = kInfiniteCost;
  for (const LinkAdvert* l = find_link(lsa, neighbour); l && l != lsa.links.data() + lsa.links.size() &&
                                                        l->neighbour == neighbour;
       ++l) {
    best = std::min(best, l->cost);
  }
  return best;
}
}  // namespace

void Router::rebuild_graph() {
  // Every advertised link in one pass over the database (origins ascending, each LSA's links sorted), then the graph
  // keeps the two-way ones: checking on the built arrays is far cheaper than looking each reverse link up in the
  // database.
  std::vector<NodeId> nodes;
  std::vector<Graph::Edge> edges;
  nodes.reserve(lsdb_.size());
  lsdb_.for_each([&](const Lsdb::Entry& entry) {
    nodes.push_back(entry.lsa().origin);
    for (const auto& link : entry.lsa().links) edges.push_back({entry.lsa().origin, link.neighbour, link.cost});
  });
  graph_ = Graph::build(nodes, edges, Graph::Links::kTwoWayOnly);
  no_transit_.assign(graph_.size(), 0);
  lsdb_.for_each([&](const Lsdb::Entry& entry) {
    if (entry.lsa().flags & kLsaFlagAvoidTransit) no_transit_[graph_.index_of(entry.lsa().origin)] = 1;
  });
}

bool Router::patch_graph() {
  // Which advertisements changed since the graph was last brought up to date. A new or vanished origin changes the
  // node set (indices move): rebuild. So does a burst of changes to a large share of the origins: patching costs a
  // database lookup per changed link and a rebuild one pass over all links, so past some share the rebuild wins.
  // A quarter is a judgement, not a measured crossover; either path gives the same graph (router_test checks it).
  const std::size_t max_patched = std::max<std::size_t>(16, graph_.size() / 4);
  std::vector<std::pair<Index, const Lsa*>> changed;
  for (LsdbSlot slot = 0; slot < lsdb_.slot_count(); ++slot) {
    if (lsdb_.changed_at(slot) <= built_version_) continue;
    const Lsdb::Entry* e = lsdb_.at(slot);
    if (!e) return false;
    const Index o = graph_.index_of(e->lsa().origin);
    if (o == kNoIndex || changed.size() == max_patched) return false;
    changed.emplace_back(o, &e->lsa());
  }
  patched_.clear();
  // An unchanged neighbour's advertisement is what the graph was built from: where the graph has its edge back to
  // us, that edge's cost is the reverse cost, read from the neighbour's row rather than looked up in the database
  // (at 1000 nodes every lookup is a cache miss or three). Only a changed or one-way neighbour needs the database.
  changed_mark_.assign(graph_.size(), 0);
  for (const auto& [o, lsa] : changed) changed_mark_[o] = 1;
  // Only edges at a changed origin can differ: its own (its advertisement) and their reverses (the two-way check).
  std::vector<Index> targets, reverse_gone;
  std::vector<Cost> costs, reverse_costs;
  for (const auto& [o, lsa] : changed) {
    targets.clear();
    costs.clear();
    reverse_costs.clear();
    for (const LinkAdvert& link : lsa->links) {
      const Index v = graph_.index_of(link.neighbour);
      if (v == kNoIndex || v == o || link.cost == kInfiniteCost) continue;
      if (!targets.empty() && targets.back() == v) {  // a duplicate: the cheapest wins
        costs.back() = std::min(costs.back(), link.cost);
        continue;
      }
      Cost back = changed_mark_[v] ? kInfiniteCost : graph_.edge_cost(v, o);
      if (back == kInfiniteCost) {
        const Lsdb::Entry* other = lsdb_.find(link.neighbour);
        back = other ? link_cost(other->lsa(), lsa->origin) : kInfiniteCost;
      }
      if (back == kInfiniteCost) continue;  // not two-way
      targets.push_back(v);
      costs.push_back(link.cost);
      reverse_costs.push_back(back);
    }
    reverse_gone.clear();
    for (Index v : graph_.targets(o)) {
      if (!std::binary_search(targets.begin(), targets.end(), v)) reverse_gone.push_back(v);
    }
    graph_.set_out_edges(o, targets, costs);
    for (Index v : reverse_gone) graph_.set_edge(v, o, kInfiniteCost);
    for (std::size_t k = 0; k < targets.size(); ++k) graph_.set_edge(targets[k], o, reverse_costs[k]);
    no_transit_[o] = (lsa->flags & kLsaFlagAvoidTransit) ? 1 : 0;
    patched_.push_back(o);
  }
  return true;
}

void Router::recompute() {
  stale_ = false;
  const bool patched = built_ && patch_graph();
  if (!patched) rebuild_graph();
  built_ = true;
  built_version_ = lsdb_.version();
  self_index_ = graph_.index_of(self_);

  node_avoiding_.clear();
  link_avoiding_.clear();
  reachable_ = 0;
  if (self_index_ == kNoIndex) {
    primary_ = ShortestPaths{};
    primary_repairable_ = false;
    return;
  }
  // A patch edits only the edges at the changed origins (their own and the reverses), so those origins are what
  // the repair needs. Past about an eighth of the nodes it costs a full run (graph_bench at 1000 nodes: 64 random
  // links, 128 ends, break even; clustered changes, as in a partition's heal, repair for less). Below 32 nodes
  // either is a few microseconds; the floor of 4 keeps small meshes on the repair, which the tests exercise.
  const bool repaired = patched && primary_repairable_ && primary_.source == self_index_ &&
                        patched_.size() <= std::max<std::size_t>(4, graph_.size() / 8) &&
                        update_shortest_paths(graph_, primary_, patched_, no_transit_);
  if (repaired) {
    ++incremental_runs_;
  } else {
    Exclusions ex;
    ex.no_transit = no_transit_;
    shortest_paths(graph_, self_index_, ex, primary_);
  }
  primary_repairable_ = graph_.zero_cost_edges() == 0;
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

std::vector<NodeId> Router::path(NodeId destination) const {
  if (self_index_ == kNoIndex) return {};
  const Index d = graph_.index_of(destination);
  if (d == kNoIndex) return {};
  return path_in(primary_.parent, d);
}

const std::vector<Index>& Router::tree_avoiding(NodeId avoid, bool link_only) {
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
  // One scratch tree per thread, shared by every router it drives (a simulator's thousand nodes), so it stays in
  // cache from one backup computation to the next; only the parents are kept.
  thread_local ShortestPaths scratch;
  shortest_paths(graph_, self_index_, ex, scratch);
  return cache.emplace(avoid, scratch.parent).first->second;
}

std::vector<NodeId> Router::path_in(const std::vector<Index>& parent, Index destination) const {
  std::vector<NodeId> out;
  if (parent[destination] == kNoIndex) return out;  // only the source has no parent when reachable
  for (Index v = destination; v != self_index_; v = parent[v]) out.push_back(graph_.id(v));
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<NodeId> Router::backup_path(NodeId destination, NodeId avoid) {
  ensure_fresh();
  if (self_index_ == kNoIndex) return {};
  const Index d = graph_.index_of(destination);
  if (d == kNoIndex || d == self_index_) return {};
  return path_in(tree_avoiding(avoid, destination == avoid), d);
}

std::vector<NodeId> Router::link_backup_path(NodeId destination, NodeId neighbour) {
  ensure_fresh();
  if (self_index_ == kNoIndex) return {};
  const Index d = graph_.index_of(destination);
  if (d == kNoIndex || d == self_index_) return {};
  return path_in(tree_avoiding(neighbour, true), d);
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
    const LinkAdvert* back = find_link(other->lsa(), after.origin);
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
