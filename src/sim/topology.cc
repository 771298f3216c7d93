#include "sim/topology.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <numbers>
#include <sstream>

#include "core/rng.h"

namespace meshloop::sim {
namespace {

void normalise(Topology& t) {
  for (auto& e : t.edges) {
    if (e.first > e.second) std::swap(e.first, e.second);
  }
  std::sort(t.edges.begin(), t.edges.end());
  t.edges.erase(std::unique(t.edges.begin(), t.edges.end()), t.edges.end());
}

// Union-find with path halving; deterministic (the smaller root wins).
struct Dsu {
  std::vector<std::uint32_t> parent;
  explicit Dsu(std::size_t n) : parent(n) {
    for (std::size_t i = 0; i < n; ++i) parent[i] = static_cast<std::uint32_t>(i);
  }
  std::uint32_t find(std::uint32_t x) {
    while (parent[x] != x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  }
  void unite(std::uint32_t a, std::uint32_t b) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    if (a < b) parent[b] = a; else parent[a] = b;
  }
};

// Expected degree of a node in the unit square for radius r (border effects included):
// (n-1) * (pi r^2 - 8/3 r^3 + 1/2 r^4), valid for r <= 1.
double expected_degree(std::size_t n, double r) {
  return static_cast<double>(n - 1) * (std::numbers::pi * r * r - 8.0 / 3.0 * r * r * r + 0.5 * r * r * r * r);
}

std::vector<std::pair<NodeId, NodeId>> geometric_edges(const std::vector<std::pair<double, double>>& pos, double r) {
  const std::size_t n = pos.size();
  const int cells = std::max(1, static_cast<int>(1.0 / r));
  std::vector<std::vector<std::uint32_t>> grid(static_cast<std::size_t>(cells) * cells);
  auto cell_of = [&](double x) { return std::min(cells - 1, static_cast<int>(x * cells)); };
  for (std::uint32_t i = 0; i < n; ++i) {
    grid[static_cast<std::size_t>(cell_of(pos[i].first)) * cells + cell_of(pos[i].second)].push_back(i);
  }
  std::vector<std::pair<NodeId, NodeId>> edges;
  const double r2 = r * r;
  for (std::uint32_t i = 0; i < n; ++i) {
    const int cx = cell_of(pos[i].first), cy = cell_of(pos[i].second);
    for (int dx = -1; dx <= 1; ++dx) {
      for (int dy = -1; dy <= 1; ++dy) {
        const int x = cx + dx, y = cy + dy;
        if (x < 0 || y < 0 || x >= cells || y >= cells) continue;
        for (std::uint32_t j : grid[static_cast<std::size_t>(x) * cells + y]) {
          if (j <= i) continue;
          const double ddx = pos[i].first - pos[j].first, ddy = pos[i].second - pos[j].second;
          if (ddx * ddx + ddy * ddy <= r2) edges.emplace_back(i + 1, j + 1);
        }
      }
    }
  }
  return edges;
}

}  // namespace

std::int64_t Topology::find_edge(NodeId a, NodeId b) const {
  if (a > b) std::swap(a, b);
  auto it = std::lower_bound(edges.begin(), edges.end(), std::make_pair(a, b));
  if (it == edges.end() || *it != std::make_pair(a, b)) return -1;
  return it - edges.begin();
}

Topology make_grid(std::size_t n) {
  Topology t;
  t.n = n;
  t.kind = "grid";
  const auto cols = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  for (std::size_t i = 0; i < n; ++i) {
    const auto id = static_cast<NodeId>(i + 1);
    if ((i % cols) + 1 < cols && i + 1 < n) t.edges.emplace_back(id, id + 1);
    if (i + cols < n) t.edges.emplace_back(id, static_cast<NodeId>(i + cols + 1));
  }
  normalise(t);
  return t;
}

Topology make_rgg(std::size_t n, double degree, std::uint64_t seed) {
  Topology t;
  t.n = n;
  t.kind = "rgg";
  if (n <= 1) return t;
  // Radius by bisection on the expected degree (monotone on [0, 1]).
  double lo = 0, hi = 1;
  if (expected_degree(n, 1.0) <= degree) {
    lo = hi = 1.0;
  }
  for (int i = 0; i < 100 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    (expected_degree(n, mid) < degree ? lo : hi) = mid;
  }
  t.radius = hi;
  constexpr int kMaxAttempts = 50;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Rng rng = Rng::derive(seed, 0x7267670000000000ULL + static_cast<std::uint64_t>(attempt));
    t.positions.assign(n, {0.0, 0.0});
    for (auto& p : t.positions) {
      p.first = rng.uniform();
      p.second = rng.uniform();
    }
    t.edges = geometric_edges(t.positions, t.radius);
    normalise(t);  // the cell walk emits edges out of order; find_edge needs them sorted
    t.attempts = attempt + 1;
    if (is_connected(t)) return t;
  }
  // Join components: repeatedly connect the component of node 1 to its nearest outside node.
  for (;;) {
    const std::vector<NodeId> comp = components(t);
    const NodeId main = comp[0];
    bool all = true;
    double best = std::numeric_limits<double>::max();
    std::pair<NodeId, NodeId> best_edge{0, 0};
    for (std::size_t i = 0; i < n; ++i) {
      if (comp[i] != main) continue;
      for (std::size_t j = 0; j < n; ++j) {
        if (comp[j] == main) continue;
        all = false;
        const double dx = t.positions[i].first - t.positions[j].first;
        const double dy = t.positions[i].second - t.positions[j].second;
        const double d = dx * dx + dy * dy;
        if (d < best) {
          best = d;
          best_edge = {static_cast<NodeId>(i + 1), static_cast<NodeId>(j + 1)};
        }
      }
    }
    if (all) break;
    t.edges.push_back(best_edge);
    normalise(t);
    ++t.bridged_components;
  }
  return t;
}

Topology make_ba(std::size_t n, double degree, std::uint64_t seed) {
  Topology t;
  t.n = n;
  t.kind = "ba";
  const auto m = static_cast<std::size_t>(std::max(1.0, std::round(degree / 2.0)));
  Rng rng = Rng::derive(seed, 0x6261000000000000ULL);
  const std::size_t core = std::min(n, m + 1);
  std::vector<NodeId> ends;  // every edge's two endpoints: drawing from it is drawing proportionally to degree
  for (std::size_t i = 1; i <= core; ++i) {
    for (std::size_t j = i + 1; j <= core; ++j) {
      t.edges.emplace_back(static_cast<NodeId>(i), static_cast<NodeId>(j));
      ends.push_back(static_cast<NodeId>(i));
      ends.push_back(static_cast<NodeId>(j));
    }
  }
  std::vector<NodeId> chosen;
  for (std::size_t v = core + 1; v <= n; ++v) {
    chosen.clear();
    while (chosen.size() < m) {
      const NodeId target = ends[static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(ends.size()) - 1))];
      if (std::find(chosen.begin(), chosen.end(), target) == chosen.end()) chosen.push_back(target);
    }
    for (NodeId target : chosen) {
      t.edges.emplace_back(target, static_cast<NodeId>(v));
      ends.push_back(target);
      ends.push_back(static_cast<NodeId>(v));
    }
  }
  normalise(t);
  return t;
}

Result<Topology> parse_edge_list(std::string_view text, const std::string& origin) {
  Topology t;
  t.kind = "file";
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument(origin + ":" + std::to_string(lineno) + ": " + what);
  };
  std::map<std::pair<NodeId, NodeId>, int> first_line;
  while (std::getline(in, line)) {
    ++lineno;
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream fields(line);
    std::vector<std::string> tok;
    for (std::string f; fields >> f;) tok.push_back(f);
    if (tok.empty()) continue;
    if (tok.size() != 2) {
      return bad("expected two node ids \"u v\", got " + std::to_string(tok.size()) + " field(s)");
    }
    NodeId ids[2];
    for (int k = 0; k < 2; ++k) {
      const std::string& s = tok[static_cast<std::size_t>(k)];
      std::size_t pos = 0;
      unsigned long long v = 0;
      bool ok = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (ok) {
        try {
          v = std::stoull(s, &pos);
        } catch (...) {
          ok = false;
        }
      }
      if (!ok || v == 0 || v > 10'000'000) {
        return bad("'" + s + "' is not a node id (an integer from 1 to 10000000)");
      }
      ids[k] = static_cast<NodeId>(v);
    }
    if (ids[0] == ids[1]) return bad("self-loop " + tok[0] + "-" + tok[1]);
    std::pair<NodeId, NodeId> e{std::min(ids[0], ids[1]), std::max(ids[0], ids[1])};
    if (auto [it, fresh] = first_line.emplace(e, lineno); !fresh) {
      return bad("duplicate link " + tok[0] + "-" + tok[1] + " (first listed on line " + std::to_string(it->second) +
                 ")");
    }
    t.edges.push_back(e);
    t.n = std::max<std::size_t>(t.n, e.second);
  }
  if (t.edges.empty()) return Status::InvalidArgument(origin + ": no edges");
  normalise(t);
  return t;
}

Result<Topology> load_edge_list(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Status::IoError("cannot read topology file '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_edge_list(ss.str(), path);
}

std::vector<NodeId> components(const Topology& topo, const std::vector<bool>& edge_up,
                               const std::vector<bool>& node_up) {
  Dsu dsu(topo.n);
  for (std::size_t i = 0; i < topo.edges.size(); ++i) {
    if (!edge_up.empty() && !edge_up[i]) continue;
    const auto [u, v] = topo.edges[i];
    if (!node_up.empty() && (!node_up[u - 1] || !node_up[v - 1])) continue;
    dsu.unite(u - 1, v - 1);
  }
  std::vector<NodeId> out(topo.n);
  for (std::uint32_t i = 0; i < topo.n; ++i) out[i] = dsu.find(i) + 1;
  return out;
}

bool is_connected(const Topology& topo) {
  if (topo.n <= 1) return true;
  const auto comp = components(topo);
  return std::all_of(comp.begin(), comp.end(), [](NodeId c) { return c == 1; });
}

Adjacency::Adjacency(const Topology& topo) {
  std::vector<std::uint32_t> deg(topo.n + 1, 0);
  for (const auto& [u, v] : topo.edges) {
    ++deg[u];
    ++deg[v];
  }
  offsets.assign(topo.n + 1, 0);
  for (std::size_t i = 1; i <= topo.n; ++i) offsets[i] = offsets[i - 1] + deg[i];
  ports.resize(offsets[topo.n]);
  // Neighbours in increasing id order: edges are sorted by (u, v), so fill each node's list then sort it.
  std::vector<std::uint32_t> fill(topo.n, 0);
  for (std::uint32_t e = 0; e < topo.edges.size(); ++e) {
    const auto [u, v] = topo.edges[e];
    ports[offsets[u - 1] + fill[u - 1]++] = Port{v, 0, e};
    ports[offsets[v - 1] + fill[v - 1]++] = Port{u, 0, e};
  }
  for (std::size_t i = 0; i < topo.n; ++i) {
    std::sort(ports.begin() + offsets[i], ports.begin() + offsets[i + 1],
              [](const Port& a, const Port& b) { return a.peer < b.peer; });
  }
  // peer_port: the index of u in v's list.
  for (NodeId u = 1; u <= topo.n; ++u) {
    for (std::uint32_t p = offsets[u - 1]; p < offsets[u]; ++p) {
      const NodeId v = ports[p].peer;
      const auto begin = ports.begin() + offsets[v - 1], end = ports.begin() + offsets[v];
      const auto it = std::lower_bound(begin, end, u, [](const Port& a, NodeId id) { return a.peer < id; });
      ports[p].peer_port = static_cast<PortId>(it - begin);
    }
  }
}

}  // namespace meshloop::sim
