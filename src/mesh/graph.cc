#include "mesh/graph.h"

#include <algorithm>
#include <bit>
#include <queue>

namespace meshloop::mesh {
namespace {

constexpr std::uint64_t kUnreachable = kInfiniteCost;

// Heap keys pack (dist << 32 | index): finite distances stay below kInfiniteCost, so one integer compare orders by
// distance, then by index, which makes the pop order (and so the result) a function of the graph alone.
constexpr std::uint64_t pack(std::uint64_t dist, Index i) { return dist << 32 | i; }
constexpr Index key_index(std::uint64_t key) { return static_cast<Index>(key); }
constexpr std::uint64_t key_dist(std::uint64_t key) { return key >> 32; }

// Position markers for nodes outside the heap.
constexpr std::uint32_t kNeverReached = UINT32_MAX;
constexpr std::uint32_t kSettled = UINT32_MAX - 1;

// 4-ary min-heap with decrease-key over packed keys. A wider node halves the depth of a binary heap and its children
// sit in one cache line; decrease-key keeps the heap at most n entries instead of one per relaxation.
class IndexedHeap {
 public:
  IndexedHeap(std::vector<std::uint64_t>& storage, std::vector<std::uint32_t>& pos) : heap_(storage), pos_(pos) {}

  bool empty() const { return heap_.empty(); }

  void push(std::uint64_t key) {
    heap_.push_back(key);
    sift_up(static_cast<std::uint32_t>(heap_.size() - 1), key);
  }
  // REQUIRES: key_index(key) is in the heap with a larger key.
  void decrease(std::uint64_t key) { sift_up(pos_[key_index(key)], key); }

  std::uint64_t pop() {
    const std::uint64_t top = heap_.front();
    pos_[key_index(top)] = kSettled;
    const std::uint64_t last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(last);
    return top;
  }

 private:
  void sift_up(std::uint32_t at, std::uint64_t key) {
    while (at > 0) {
      const std::uint32_t up = (at - 1) / 4;
      if (heap_[up] <= key) break;
      place(at, heap_[up]);
      at = up;
    }
    place(at, key);
  }
  void sift_down(std::uint64_t key) {
    const auto n = static_cast<std::uint32_t>(heap_.size());
    std::uint32_t at = 0;
    for (;;) {
      const std::uint32_t first = 4 * at + 1;
      if (first >= n) break;
      const std::uint32_t end = std::min(first + 4, n);
      std::uint32_t best = first;
      for (std::uint32_t c = first + 1; c < end; ++c) {
        if (heap_[c] < heap_[best]) best = c;
      }
      if (heap_[best] >= key) break;
      place(at, heap_[best]);
      at = best;
    }
    place(at, key);
  }
  void place(std::uint32_t at, std::uint64_t key) {
    heap_[at] = key;
    pos_[key_index(key)] = at;
  }

  std::vector<std::uint64_t>& heap_;
  std::vector<std::uint32_t>& pos_;
};

// Maps ids to indices during build: open addressing over a power-of-two table. Only looked up, never iterated, so it
// cannot leak an order into the result; it replaces ~2 binary searches per edge, which dominated build time.
class IdTable {
 public:
  explicit IdTable(const std::vector<NodeId>& ids) : ids_(ids) {
    std::size_t capacity = 16;
    while (capacity < 2 * ids.size()) capacity *= 2;
    mask_ = capacity - 1;
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));
    slots_.assign(capacity, kNoIndex);
    for (Index i = 0; i < ids.size(); ++i) slots_[probe(ids[i])] = i;
  }
  Index find(NodeId id) const { return slots_[probe(id)]; }

 private:
  // The slot holding id, or the empty slot where it would go.
  std::size_t probe(NodeId id) const {
    std::size_t h = (id * 0x9E3779B97F4A7C15ull) >> shift_;
    while (slots_[h] != kNoIndex && ids_[slots_[h]] != id) h = (h + 1) & mask_;
    return h;
  }
  const std::vector<NodeId>& ids_;
  std::vector<Index> slots_;
  std::size_t mask_ = 0;
  unsigned shift_ = 0;
};

}  // namespace

Graph Graph::build(std::span<const NodeId> nodes, std::span<const Edge> edges, Links links) {
  Graph g;
  // Ids: `nodes` and the source ends (a database lists a node's edges together, so consecutive duplicates are cheap
  // to skip). Target ends are nearly always among them; the rare ones that are not are added below.
  g.ids_.assign(nodes.begin(), nodes.end());
  for (std::size_t k = 0; k < edges.size(); ++k) {
    if (k == 0 || edges[k].from != edges[k - 1].from) g.ids_.push_back(edges[k].from);
  }
  auto sort_ids = [&g] {
    std::sort(g.ids_.begin(), g.ids_.end());
    g.ids_.erase(std::unique(g.ids_.begin(), g.ids_.end()), g.ids_.end());
  };
  sort_ids();
  std::vector<Index> from_index(edges.size(), kNoIndex);
  std::vector<Index> to_index(edges.size(), kNoIndex);
  for (bool complete = false; !complete;) {
    const IdTable table(g.ids_);
    complete = true;
    for (std::size_t k = 0; k < edges.size(); ++k) {
      from_index[k] = table.find(edges[k].from);
      to_index[k] = table.find(edges[k].to);
      if (to_index[k] == kNoIndex) {
        g.ids_.push_back(edges[k].to);
        complete = false;
      }
    }
    if (!complete) sort_ids();  // indices moved: map again (at most once more)
  }
  g.ids_.shrink_to_fit();
  const std::size_t n = g.ids_.size();

  // Bucket kept edges by source (counting sort), then sort each small bucket; a global sort of all edges is slower.
  std::vector<std::uint32_t> start(n + 1, 0);
  for (std::size_t k = 0; k < edges.size(); ++k) {
    if (edges[k].from == edges[k].to || edges[k].cost == kInfiniteCost) {
      from_index[k] = kNoIndex;
      continue;
    }
    ++start[from_index[k] + 1];
  }
  for (std::size_t i = 0; i < n; ++i) start[i + 1] += start[i];

  // Within a bucket, (to << 32 | cost) sorts by target, then cheapest first, in one integer compare.
  std::vector<std::uint64_t> packed(start[n]);
  {
    std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
    for (std::size_t k = 0; k < edges.size(); ++k) {
      if (from_index[k] == kNoIndex) continue;
      packed[fill[from_index[k]]++] = pack(to_index[k], 0) | edges[k].cost;
    }
  }
  g.offsets_.assign(n + 1, 0);
  g.targets_.reserve(packed.size());
  g.costs_.reserve(packed.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto first = packed.begin() + start[i];
    auto last = packed.begin() + start[i + 1];
    if (!std::is_sorted(first, last)) std::sort(first, last);  // databases usually list neighbours in id order
    Index prev = kNoIndex;
    for (auto it = first; it != last; ++it) {
      const Index to = key_index(*it >> 32);
      if (to == prev) continue;  // a duplicate, dearer than the one kept
      prev = to;
      g.targets_.push_back(to);
      g.costs_.push_back(static_cast<Cost>(*it));
    }
    g.offsets_[i + 1] = static_cast<std::uint32_t>(g.targets_.size());
  }
  g.counts_.resize(n);
  for (std::size_t i = 0; i < n; ++i) g.counts_[i] = g.offsets_[i + 1] - g.offsets_[i];
  g.edge_count_ = g.targets_.size();
  if (links == Links::kTwoWayOnly) g.keep_two_way();
  g.zero_cost_edges_ = static_cast<std::size_t>(std::count(g.costs_.begin(), g.costs_.end(), Cost{0}));  // no slack yet
  g.relayout();
  return g;
}

void Graph::relayout(Index grow, std::uint32_t min_capacity) {
  std::vector<std::uint32_t> offsets(offsets_.size(), 0);
  for (Index i = 0; i < size(); ++i) {
    const std::uint32_t room = std::max(counts_[i] + kRowSlack, i == grow ? min_capacity : 0);
    offsets[i + 1] = offsets[i] + room;
  }
  std::vector<Index> targets(offsets.back(), kNoIndex);
  std::vector<Cost> costs(offsets.back(), kInfiniteCost);
  for (Index i = 0; i < size(); ++i) {
    std::copy_n(targets_.begin() + offsets_[i], counts_[i], targets.begin() + offsets[i]);
    std::copy_n(costs_.begin() + offsets_[i], counts_[i], costs.begin() + offsets[i]);
  }
  offsets_ = std::move(offsets);
  targets_ = std::move(targets);
  costs_ = std::move(costs);
}

void Graph::set_out_edges(Index u, std::span<const Index> targets, std::span<const Cost> costs) {
  const auto count = static_cast<std::uint32_t>(targets.size());
  const auto old_costs = this->costs(u);
  zero_cost_edges_ -= static_cast<std::size_t>(std::count(old_costs.begin(), old_costs.end(), Cost{0}));
  zero_cost_edges_ += static_cast<std::size_t>(std::count(costs.begin(), costs.end(), Cost{0}));
  if (count > capacity(u)) relayout(u, count + kRowSlack);
  std::copy(targets.begin(), targets.end(), targets_.begin() + offsets_[u]);
  std::copy(costs.begin(), costs.end(), costs_.begin() + offsets_[u]);
  edge_count_ = edge_count_ - counts_[u] + count;
  counts_[u] = count;
}

void Graph::set_edge(Index u, Index v, Cost cost) {
  const auto t = targets(u);
  const auto at = static_cast<std::uint32_t>(std::lower_bound(t.begin(), t.end(), v) - t.begin());
  const bool present = at < t.size() && t[at] == v;
  if (present && costs_[offsets_[u] + at] == 0) --zero_cost_edges_;
  if (cost == 0) ++zero_cost_edges_;
  if (present && cost != kInfiniteCost) {
    costs_[offsets_[u] + at] = cost;
    return;
  }
  if (!present && cost == kInfiniteCost) return;
  if (!present && counts_[u] == capacity(u)) relayout(u, counts_[u] + 1 + kRowSlack);
  const auto row_targets = targets_.begin() + offsets_[u];
  const auto row_costs = costs_.begin() + offsets_[u];
  const std::uint32_t n = counts_[u];
  if (present) {
    std::copy(row_targets + at + 1, row_targets + n, row_targets + at);
    std::copy(row_costs + at + 1, row_costs + n, row_costs + at);
    --counts_[u];
    --edge_count_;
  } else {
    std::copy_backward(row_targets + at, row_targets + n, row_targets + n + 1);
    std::copy_backward(row_costs + at, row_costs + n, row_costs + n + 1);
    row_targets[at] = v;
    row_costs[at] = cost;
    ++counts_[u];
    ++edge_count_;
  }
}

void Graph::keep_two_way() {
  std::vector<std::uint32_t> offsets(offsets_.size(), 0);
  std::vector<Index> targets;
  std::vector<Cost> costs;
  targets.reserve(targets_.size());
  costs.reserve(costs_.size());
  for (Index i = 0; i < size(); ++i) {
    for (std::uint32_t k = offsets_[i]; k < offsets_[i] + counts_[i]; ++k) {
      if (edge_cost(targets_[k], i) == kInfiniteCost) continue;  // the other end does not advertise it
      targets.push_back(targets_[k]);
      costs.push_back(costs_[k]);
    }
    offsets[i + 1] = static_cast<std::uint32_t>(targets.size());
  }
  for (Index i = 0; i < size(); ++i) counts_[i] = offsets[i + 1] - offsets[i];
  offsets_ = std::move(offsets);
  targets_ = std::move(targets);
  costs_ = std::move(costs);
  edge_count_ = targets_.size();
}

Index Graph::index_of(NodeId id) const {
  // Ids are usually dense (a mesh numbers its nodes 1..n): try the slot a dense numbering would give first.
  if (!ids_.empty() && id >= ids_.front()) {
    const std::size_t guess = id - ids_.front();
    if (guess < ids_.size() && ids_[guess] == id) return static_cast<Index>(guess);
  }
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it == ids_.end() || *it != id) return kNoIndex;
  return static_cast<Index>(it - ids_.begin());
}

std::span<const Index> Graph::targets(Index i) const { return {targets_.data() + offsets_[i], counts_[i]}; }

std::span<const Cost> Graph::costs(Index i) const { return {costs_.data() + offsets_[i], counts_[i]}; }

Cost Graph::edge_cost(Index from, Index to) const {
  if (from >= size() || to >= size()) return kInfiniteCost;
  auto t = targets(from);
  auto it = std::lower_bound(t.begin(), t.end(), to);
  if (it == t.end() || *it != to) return kInfiniteCost;
  return costs(from)[static_cast<std::size_t>(it - t.begin())];
}

ShortestPaths shortest_paths(const Graph& g, Index source, const Exclusions& excluded) {
  ShortestPaths sp;
  shortest_paths(g, source, excluded, sp);
  return sp;
}

void shortest_paths(const Graph& g, Index source, const Exclusions& excluded, ShortestPaths& sp) {
  const std::size_t n = g.size();
  sp.source = source;
  sp.dist.assign(n, kUnreachable);
  sp.parent.assign(n, kNoIndex);
  sp.first_hop.assign(n, kNoIndex);
  if (source >= n || source == excluded.node) return;

  std::vector<std::uint32_t> pos(n, kNeverReached);
  std::vector<std::uint64_t> storage;
  storage.reserve(n);
  IndexedHeap heap(storage, pos);
  if (excluded.node < n) pos[excluded.node] = kSettled;
  const auto [link_a, link_b] = excluded.link;
  const bool has_no_transit = !excluded.no_transit.empty();

  sp.dist[source] = 0;
  heap.push(pack(0, source));
  while (!heap.empty()) {
    const std::uint64_t key = heap.pop();
    const Index u = key_index(key);
    const std::uint64_t du = key_dist(key);
    const std::uint64_t penalty =
        has_no_transit && u != source && u < excluded.no_transit.size() && excluded.no_transit[u] != 0
            ? kTransitPenalty
            : 0;
    const Index skip = u == link_a ? link_b : (u == link_b ? link_a : kNoIndex);
    const Index hop_via_u = u == source ? kNoIndex : sp.first_hop[u];
    const auto targets = g.targets(u);
    const auto costs = g.costs(u);
    for (std::size_t k = 0; k < targets.size(); ++k) {
      const Index v = targets[k];
      const std::uint32_t at = pos[v];
      if (at == kSettled || v == skip) continue;
      const std::uint64_t nd = du + costs[k] + penalty;  // < 2^34: no overflow; saturates below
      if (nd >= kUnreachable) continue;
      if (at == kNeverReached || nd < sp.dist[v]) {
        sp.dist[v] = nd;
        if (at == kNeverReached) {
          heap.push(pack(nd, v));
        } else {
          heap.decrease(pack(nd, v));
        }
      } else if (nd != sp.dist[v] || u > sp.parent[v]) {
        continue;
      }
      sp.parent[v] = u;
      sp.first_hop[v] = u == source ? v : hop_via_u;
    }
  }
}

namespace {
// Per-node state of update_shortest_paths.
constexpr std::uint8_t kChanged = 1;   // edges or flag may differ from the old graph
constexpr std::uint8_t kAffected = 2;  // its old tree path is cut: the distance is recomputed
constexpr std::uint8_t kResolved = 4;  // whether it is affected is known (memo of the walk up the tree)
constexpr std::uint8_t kHopSet = 8;    // first_hop recomputed
constexpr std::uint8_t kTouched = 16;  // parent reset or set: listed in `touched`
}  // namespace

// Why the result equals a full run (costs > 0): the full run's dist is the true distance and its parent[v] the
// lowest-index u with dist[u] + c(u, v) == dist[v] (c includes u's transit penalty; see 0003), a function of the
// graph alone. Here
// every label is the length of a real path in g (an unaffected node keeps its intact old tree path), and when the
// heap runs dry every edge is relaxed: old edges between unaffected nodes were (the old tree), edges into affected
// nodes are seeded, edges at changed nodes are relaxed up front, and popped nodes relax all theirs. So the labels
// are the distances. Parents: a relaxation that ties keeps the lower index, and every u that ties for v's final
// distance relaxes v at some point, except old candidates of an untouched v, whose lowest (the old parent) is kept.
bool update_shortest_paths(const Graph& g, ShortestPaths& sp, std::span<const Index> changed,
                           std::span<const std::uint8_t> no_transit) {
  const std::size_t n = g.size();
  const Index s = sp.source;
  if (s >= n || sp.dist.size() != n || sp.parent.size() != n || sp.first_hop.size() != n) return false;
  if ((!no_transit.empty() && no_transit.size() != n) || g.zero_cost_edges() != 0) return false;
  if (std::any_of(changed.begin(), changed.end(), [n](Index o) { return o >= n; })) return false;

  auto& dist = sp.dist;
  auto& parent = sp.parent;
  // The transit penalty is part of the cost of every edge out of u (kTransitPenalty: such a node is a last resort).
  const auto penalty = [&](Index u) -> std::uint64_t {
    return u == s || no_transit.empty() || no_transit[u] == 0 ? 0 : kTransitPenalty;
  };
  std::vector<std::uint8_t> state(n, 0);
  for (Index o : changed) state[o] |= kChanged;

  // Cut roots: a tree edge p -> v at a changed node that vanished or got dearer (its old cost, penalty included, is
  // exactly dist[v] - dist[p]; p starting to avoid transit makes it dearer). Any other tree edge is as it was.
  bool cut = false;
  for (Index v = 0; v < n; ++v) {
    const Index p = parent[v];
    if (p == kNoIndex || ((state[p] | state[v]) & kChanged) == 0) continue;
    if (std::uint64_t{g.edge_cost(p, v)} + penalty(p) > dist[v] - dist[p]) {
      state[v] |= kAffected | kResolved;
      cut = true;
    }
  }
  // Their subtrees: walk up each parent chain to a node already known, once per node (none when nothing was cut,
  // the usual case: a cheaper or new link, or a dearer one off the tree).
  std::vector<Index> chain;
  std::vector<Index> affected;
  state[s] |= kResolved;
  for (Index v = 0; cut && v < n; ++v) {
    chain.clear();
    Index u = v;
    for (; (state[u] & kResolved) == 0 && parent[u] != kNoIndex; u = parent[u]) chain.push_back(u);
    const std::uint8_t verdict = kResolved | (state[u] & kAffected);  // unreachable nodes stay as they are
    state[u] |= kResolved;
    for (Index w : chain) state[w] |= verdict;
    if (state[v] & kAffected) affected.push_back(v);
  }
  std::vector<Index> touched(affected);
  for (Index v : affected) {
    dist[v] = kUnreachable;
    parent[v] = kNoIndex;
    state[v] |= kTouched;
  }

  std::vector<std::uint32_t> pos(n, kNeverReached);
  std::vector<std::uint64_t> storage;
  storage.reserve(affected.size() + 2 * changed.size() + 16);
  IndexedHeap heap(storage, pos);
  // The full run's relaxation, where "never reached" now means "not queued" (the label may be finite).
  const auto relax = [&](Index u, Index v, Cost c) {
    if (pos[v] == kSettled) return;
    const std::uint64_t nd = dist[u] + c + penalty(u);
    if (nd >= kUnreachable) return;
    if (nd < dist[v]) {
      dist[v] = nd;
      if (pos[v] == kNeverReached) {
        heap.push(pack(nd, v));
      } else {
        heap.decrease(pack(nd, v));
      }
    } else if (nd != dist[v] || u > parent[v]) {
      return;
    }
    parent[v] = u;
    if ((state[v] & kTouched) == 0) {
      state[v] |= kTouched;
      touched.push_back(v);
    }
  };
  // A finite label is always a real path length, so relaxing from any labelled node is sound, seeded or not.
  const auto tail = [&](Index u) { return dist[u] < kUnreachable; };
  for (Index v : affected) {
    for (Index u : g.targets(v)) {  // in-neighbours: every edge has its reverse
      if (tail(u)) relax(u, v, g.edge_cost(u, v));
    }
  }
  for (Index o : changed) {
    if (tail(o)) {
      const auto targets = g.targets(o);
      const auto costs = g.costs(o);
      for (std::size_t k = 0; k < targets.size(); ++k) relax(o, targets[k], costs[k]);
    }
    for (Index u : g.targets(o)) {
      if (tail(u)) relax(u, o, g.edge_cost(u, o));
    }
  }
  while (!heap.empty()) {
    const Index u = key_index(heap.pop());
    const auto targets = g.targets(u);
    const auto costs = g.costs(u);
    for (std::size_t k = 0; k < targets.size(); ++k) relax(u, targets[k], costs[k]);
  }

  // First hops follow parents, and only touched nodes have new parents. If none of them gets a new first hop, no
  // node does (by induction on distance; whatever the order, a touched node read its parent's hop while it was
  // still the old one, which is then also the new one). Otherwise a whole subtree may have moved, and all are
  // redone, each node after its parent (memoised walk up the chain). That O(n) walk is what a small repair costs
  // most, the more so in the simulator, where each node's arrays are cold in the cache.
  auto& hop = sp.first_hop;
  bool moved = false;
  for (Index v : touched) {
    const Index p = parent[v];
    const Index h = p == kNoIndex ? kNoIndex : (p == s ? v : hop[p]);  // unreachable: no node is its child
    moved = moved || (p != kNoIndex && h != hop[v]);
    hop[v] = h;
  }
  if (!moved) return true;
  hop[s] = kNoIndex;
  state[s] |= kHopSet;
  for (Index v = 0; v < n; ++v) {
    if (state[v] & kHopSet) continue;
    if (dist[v] >= kUnreachable) {
      hop[v] = kNoIndex;
      continue;
    }
    chain.clear();
    for (Index u = v; (state[u] & kHopSet) == 0; u = parent[u]) chain.push_back(u);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const Index p = parent[*it];
      hop[*it] = p == s ? *it : hop[p];
      state[*it] |= kHopSet;
    }
  }
  return true;
}

std::vector<Index> path_to(const ShortestPaths& sp, Index target) {
  std::vector<Index> path;
  if (target >= sp.dist.size() || sp.dist[target] >= kUnreachable) return path;
  for (Index v = target; v != kNoIndex; v = sp.parent[v]) path.push_back(v);
  std::reverse(path.begin(), path.end());
  return path;
}

bool is_loop_free_alternate(const ShortestPaths& from_s, const ShortestPaths& from_n, Index d) {
  const Index s = from_s.source;
  if (d >= from_n.dist.size() || s >= from_n.dist.size()) return false;
  const std::uint64_t n_d = from_n.dist[d];
  if (n_d >= kUnreachable) return false;
  // Each term is at most kInfiniteCost, so the sum cannot overflow; an unreachable term makes the bound infinite.
  return n_d < from_n.dist[s] + from_s.dist[d];
}

bool is_node_protecting_alternate(const ShortestPaths& from_n, const ShortestPaths& from_p, Index p, Index d) {
  if (d >= from_n.dist.size() || p >= from_n.dist.size() || d >= from_p.dist.size()) return false;
  const std::uint64_t n_d = from_n.dist[d];
  if (n_d >= kUnreachable) return false;
  return n_d < from_n.dist[p] + from_p.dist[d];
}

namespace {

// The residual network of the node-split graph, for a two-unit min-cost flow (Suurballe's algorithm is successive
// shortest paths with Dijkstra potentials, stopped after two augmentations). Node v becomes in(v) = 2v and
// out(v) = 2v + 1 joined by a unit arc, so two unit flows cannot share a node; s leaves from out(s), d is reached
// at in(d).
class SplitFlow {
 public:
  SplitFlow(const Graph& g, Index s, Index d) : n_(2 * g.size()), s_(s), d_(d) {
    std::vector<std::uint32_t> tail;
    std::vector<std::uint32_t> head;
    std::vector<std::int64_t> cost;
    for (Index v = 0; v < g.size(); ++v) {
      if (v != s && v != d) add_arc(tail, head, cost, 2 * v, 2 * v + 1, 0);
      if (v == d) continue;  // nothing leaves d
      const auto targets = g.targets(v);
      const auto costs = g.costs(v);
      for (std::size_t k = 0; k < targets.size(); ++k) {
        if (targets[k] == s) continue;  // nothing enters s
        add_arc(tail, head, cost, 2 * v + 1, 2 * targets[k], costs[k]);
      }
    }
    // CSR over forward and reverse arcs: arc 2a is forward, 2a + 1 its reverse (capacity 0 until used).
    const std::size_t arcs = 2 * tail.size();
    offsets_.assign(n_ + 1, 0);
    for (std::size_t a = 0; a < tail.size(); ++a) {
      ++offsets_[tail[a] + 1];
      ++offsets_[head[a] + 1];
    }
    for (std::size_t i = 0; i < n_; ++i) offsets_[i + 1] += offsets_[i];
    std::vector<std::uint32_t> fill(offsets_.begin(), offsets_.end() - 1);
    forward_.resize(arcs);
    to_.resize(arcs);
    cost_.resize(arcs);
    cap_.resize(arcs);
    mate_.resize(arcs);
    for (std::size_t a = 0; a < tail.size(); ++a) {
      const std::uint32_t f = fill[tail[a]]++;
      const std::uint32_t r = fill[head[a]]++;
      to_[f] = head[a];
      cost_[f] = cost[a];
      cap_[f] = 1;
      forward_[f] = 1;
      mate_[f] = r;
      to_[r] = tail[a];
      cost_[r] = -cost[a];
      cap_[r] = 0;
      forward_[r] = 0;
      mate_[r] = f;
    }
    potential_.assign(n_, 0);
  }

  std::uint32_t source() const { return 2 * s_ + 1; }
  std::uint32_t sink() const { return 2 * d_; }

  // One shortest augmenting path under reduced costs; false when the sink is unreachable.
  bool augment() {
    constexpr std::int64_t kInf = INT64_MAX;
    std::vector<std::int64_t> dist(n_, kInf);
    std::vector<std::uint32_t> via(n_, UINT32_MAX);  // arc used to reach a node
    using Entry = std::pair<std::int64_t, std::uint32_t>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
    dist[source()] = 0;
    queue.push({0, source()});
    while (!queue.empty()) {
      const auto [du, u] = queue.top();
      queue.pop();
      if (du != dist[u]) continue;
      for (std::uint32_t a = offsets_[u]; a < offsets_[u + 1]; ++a) {
        if (cap_[a] == 0) continue;
        const std::uint32_t v = to_[a];
        // Reduced costs are >= 0 on residual arcs (potentials are exact shortest distances of the last round).
        const std::int64_t nd = du + cost_[a] + potential_[u] - potential_[v];
        if (nd < dist[v]) {
          dist[v] = nd;
          via[v] = a;
          queue.push({nd, v});
        }
      }
    }
    if (dist[sink()] == kInf) return false;
    for (std::size_t v = 0; v < n_; ++v) {
      if (dist[v] != kInf) potential_[v] += dist[v];
    }
    for (std::uint32_t v = sink(); v != source(); v = to_[mate_[via[v]]]) {
      --cap_[via[v]];
      ++cap_[mate_[via[v]]];
    }
    return true;
  }

  // After two augmentations: walks one unit of flow from s, consuming it, and returns the original nodes.
  std::vector<Index> take_path() {
    std::vector<Index> path{s_};
    std::uint32_t u = source();
    while (u != sink()) {
      std::uint32_t next = UINT32_MAX;
      for (std::uint32_t a = offsets_[u]; a < offsets_[u + 1]; ++a) {
        if (forward_[a] != 0 && cap_[a] == 0) {  // a forward arc carrying flow
          cap_[a] = 1;
          next = to_[a];
          break;
        }
      }
      u = next;
      if (u % 2 == 0) path.push_back(u / 2);  // entered in(v)
    }
    return path;
  }

 private:
  static void add_arc(std::vector<std::uint32_t>& tail, std::vector<std::uint32_t>& head,
                      std::vector<std::int64_t>& cost, std::uint32_t a, std::uint32_t b, std::int64_t c) {
    tail.push_back(a);
    head.push_back(b);
    cost.push_back(c);
  }

  std::size_t n_;
  Index s_;
  Index d_;
  std::vector<std::uint32_t> offsets_;
  std::vector<std::uint8_t> forward_;
  std::vector<std::uint32_t> to_;
  std::vector<std::int64_t> cost_;
  std::vector<std::uint8_t> cap_;
  std::vector<std::uint32_t> mate_;
  std::vector<std::int64_t> potential_;
};

std::uint64_t path_cost(const Graph& g, const std::vector<Index>& path) {
  std::uint64_t total = 0;
  for (std::size_t i = 1; i < path.size(); ++i) total += g.edge_cost(path[i - 1], path[i]);
  return total;
}

}  // namespace

std::optional<std::pair<std::vector<Index>, std::vector<Index>>> disjoint_pair(const Graph& g, Index s, Index d) {
  if (s >= g.size() || d >= g.size() || s == d) return std::nullopt;
  SplitFlow flow(g, s, d);
  if (!flow.augment() || !flow.augment()) return std::nullopt;
  std::vector<Index> first = flow.take_path();
  std::vector<Index> second = flow.take_path();
  const std::uint64_t c1 = path_cost(g, first);
  const std::uint64_t c2 = path_cost(g, second);
  if (c2 < c1 || (c2 == c1 && second < first)) std::swap(first, second);
  return std::make_pair(std::move(first), std::move(second));
}

}  // namespace meshloop::mesh
