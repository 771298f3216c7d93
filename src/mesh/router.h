// Routes from the link-state database: primary next hops by SPF, and node-protecting backup paths.
//
// recompute() brings the compact graph up to date (two-way links only: a link counts when both ends advertise it),
// patching it where a few advertisements changed and rebuilding it otherwise, and then the tree from us: after a
// patch at a few origins it repairs the previous tree (incremental SPF, same result), otherwise it runs SPF.
// Backups answer "how do I reach D if my next hop P is gone?": the shortest path in the graph without P (without
// just the link to P when D is P itself). One SPF per avoided neighbour serves every destination behind
// it, so the node precomputes them for the next hops that carry traffic and computes the rest on first need; either
// way the tree is cached until the next recompute. See docs/decisions/0003-route-computation.md.
// Thread-safety: none; owned by one Node.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "mesh/graph.h"
#include "mesh/lsdb.h"

namespace meshloop::mesh {

class Router {
 public:
  struct Route {
    NodeId next_hop = kNoNode;
    std::uint64_t cost = 0;
  };

  // REQUIRES: `lsdb` outlives the router (the node owns both).
  Router(NodeId self, const Lsdb& lsdb) : self_(self), lsdb_(lsdb) {}

  // Rebuilds the graph from the database and recomputes the shortest-path tree.
  void recompute();

  // Whether replacing `before` (nullptr: unknown origin) with `after` can change our shortest-path tree. When it
  // cannot (a refresh, a link that no shortest path uses went away, a new link that shortens nothing), the node skips
  // SPF: at 1000 nodes most advertisements are of that kind. The tree stays exact; the graph is marked stale and
  // rebuilt when a backup or the topology is asked for.
  bool affects_tree(const Lsa* before, const Lsa& after) const;
  // The database changed without affecting the tree (see affects_tree).
  void mark_stale() { stale_ = true; }

  // The primary route, or nullopt when `destination` is unreachable (or is us).
  std::optional<Route> route(NodeId destination) const;
  // Primary path from us to `destination` (excluding us, ending with it); empty when unreachable.
  std::vector<NodeId> path(NodeId destination) const;
  // Shortest path to `destination` that avoids neighbour `avoid` (or only our link to it, when it is the destination);
  // excludes us, ends with the destination; empty when none exists.
  std::vector<NodeId> backup_path(NodeId destination, NodeId avoid);
  // Shortest path to `destination` that avoids only our link to `neighbour` (the fallback when every path runs
  // through that neighbour); same shape as backup_path().
  std::vector<NodeId> link_backup_path(NodeId destination, NodeId neighbour);
  // Precomputes the backup trees that avoid each of `next_hops`.
  void precompute_backups(const std::vector<NodeId>& next_hops);

  // Every reachable destination with its route, in id order.
  std::vector<std::pair<NodeId, Route>> all_routes() const;
  std::size_t reachable() const { return reachable_; }
  std::size_t backup_trees() const { return node_avoiding_.size() + link_avoiding_.size(); }
  // How many recomputes repaired the previous tree instead of running SPF from scratch.
  std::size_t incremental_runs() const { return incremental_runs_; }
  // The graph of the current database (rebuilt first if stale).
  const Graph& graph();

 private:
  // The parents of the shortest-path tree from us that avoids `avoid` (or only our link to it): all a backup path
  // needs, a quarter of a whole ShortestPaths.
  const std::vector<Index>& tree_avoiding(NodeId avoid, bool link_only);
  // The path to `destination` in a tree of parents rooted at us (primary_, tree_avoiding()): excludes us, ends with
  // it; empty when it is unreachable or ours. REQUIRES: destination < parent.size().
  std::vector<NodeId> path_in(const std::vector<Index>& parent, Index destination) const;
  void rebuild_graph();
  // Brings the graph up to date by editing it where advertisements changed, listing the edited origins in
  // patched_; false (graph untouched) when a rebuild is due instead.
  bool patch_graph();
  void ensure_fresh() {
    if (stale_) recompute();
  }

  NodeId self_;
  const Lsdb& lsdb_;
  bool stale_ = false;
  bool built_ = false;
  std::uint64_t built_version_ = 0;  // the database version graph_ reflects
  Graph graph_;
  Index self_index_ = kNoIndex;
  std::vector<std::uint8_t> no_transit_;
  ShortestPaths primary_;
  // primary_ came from a graph without zero-cost edges, so its ties are canonical and it can be repaired.
  bool primary_repairable_ = false;
  std::vector<Index> patched_;
  std::vector<std::uint8_t> changed_mark_;  // patch_graph's scratch: by index, whether its origin changed
  std::size_t incremental_runs_ = 0;
  std::size_t reachable_ = 0;
  std::map<NodeId, std::vector<Index>> node_avoiding_;  // backup trees' parents, by the neighbour they avoid
  std::map<NodeId, std::vector<Index>> link_avoiding_;
};

}  // namespace meshloop::mesh
