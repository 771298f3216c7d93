#include "sim/faults.h"

#include <algorithm>
#include <deque>
#include <sstream>

#include "core/config.h"
#include "core/rng.h"

namespace meshloop::sim {
namespace {
constexpr const char* kNames[kFaultKindCount] = {"link_cut",    "node_crash", "loss_burst", "partition",
                                                  "flapping",    "degradation", "gray_hole", "overload",
                                                  "regime_change"};

Result<NodeId> parse_node(std::string_view s, const Topology& topo) {
  auto v = parse_int(s);
  if (!v.ok() || *v < 1 || static_cast<std::size_t>(*v) > topo.n) {
    return Status::InvalidArgument("'" + std::string(s) + "' is not a node id in 1.." + std::to_string(topo.n));
  }
  return static_cast<NodeId>(*v);
}
}  // namespace

const char* fault_kind_name(FaultKind kind) { return kNames[static_cast<int>(kind)]; }

Result<FaultKind> parse_fault_kind(std::string_view name) {
  for (int i = 0; i < kFaultKindCount; ++i) {
    if (name == kNames[i]) return static_cast<FaultKind>(i);
  }
  return Status::InvalidArgument("unknown fault kind '" + std::string(name) +
                                 "' (expected link_cut, node_crash, loss_burst, partition, flapping, degradation, "
                                 "gray_hole, overload, regime_change, or all / every)");
}

Result<std::vector<FaultKind>> parse_fault_kinds(const std::vector<std::string>& names) {
  std::vector<FaultKind> out;
  for (const auto& n : names) {
    if (n == "all") {
      for (int i = 0; i < kRoutingFaultKindCount; ++i) out.push_back(static_cast<FaultKind>(i));
      continue;
    }
    if (n == "every") {
      for (int i = 0; i < kFaultKindCount; ++i) out.push_back(static_cast<FaultKind>(i));
      continue;
    }
    auto k = parse_fault_kind(n);
    if (!k.ok()) return k.status();
    out.push_back(*k);
  }
  return out;
}

std::string Fault::element(const Topology& topo) const {
  switch (kind) {
    case FaultKind::kNodeCrash:
    case FaultKind::kGrayHole:
    case FaultKind::kOverload:
      return "node " + std::to_string(node);
    case FaultKind::kRegimeChange:
      return "mesh";
    case FaultKind::kPartition:
      return "partition " + std::to_string(side.size()) + " nodes from " + std::to_string(node) + " (" +
             std::to_string(cut_edges.size()) + " links)";
    default: {
      const auto [u, v] = topo.edges[edge];
      return "link " + std::to_string(u) + "-" + std::to_string(v);
    }
  }
}

void grow_partition(const Topology& topo, NodeId seed_node, std::size_t size, Fault& out) {
  const Adjacency adj(topo);
  std::vector<bool> in(topo.n + 1, false);
  std::deque<NodeId> queue{seed_node};
  in[seed_node] = true;
  out.side.clear();
  while (!queue.empty() && out.side.size() < size) {
    const NodeId u = queue.front();
    queue.pop_front();
    out.side.push_back(u);
    for (PortId p = 0; p < adj.degree(u); ++p) {
      const NodeId v = adj.port(u, p).peer;
      if (!in[v]) {
        in[v] = true;
        queue.push_back(v);
      }
    }
  }
  std::vector<bool> on_side(topo.n + 1, false);
  for (NodeId u : out.side) on_side[u] = true;
  std::sort(out.side.begin(), out.side.end());
  out.cut_edges.clear();
  for (std::uint32_t e = 0; e < topo.edges.size(); ++e) {
    if (on_side[topo.edges[e].first] != on_side[topo.edges[e].second]) out.cut_edges.push_back(e);
  }
  out.node = seed_node;
}

Result<std::vector<Fault>> make_fault_schedule(const Topology& topo, const FaultScheduleParams& p) {
  std::vector<Fault> out;
  if (p.count <= 0) return out;
  if (p.kinds.empty()) return Status::InvalidArgument("no fault kinds to schedule");
  if (p.min_duration <= Duration{0} || p.max_duration < p.min_duration) {
    return Status::InvalidArgument("fault durations need 0 < min <= max");
  }
  if (p.latest_end - p.max_duration < p.earliest) {
    return Status::InvalidArgument("the run is too short for faults: warm-up + longest fault + scoring tail exceed it");
  }
  if (topo.edges.empty()) return Status::InvalidArgument("the topology has no links to fault");
  Rng rng = Rng::derive(p.seed, 0x6661756C74000000ULL);  // "fault"
  for (int i = 0; i < p.count; ++i) {
    Fault f;
    f.kind = p.kinds[static_cast<std::size_t>(i) % p.kinds.size()];
    const Duration d{rng.uniform_int(p.min_duration.count(), p.max_duration.count())};
    const std::int64_t lo = p.earliest.time_since_epoch().count();
    const std::int64_t hi = (p.latest_end - d).time_since_epoch().count();
    f.start = TimePoint{Duration{rng.uniform_int(lo, hi)}};
    f.end = f.start + d;
    const auto n = static_cast<std::int64_t>(topo.n);
    const auto m = static_cast<std::int64_t>(topo.edges.size());
    switch (f.kind) {
      case FaultKind::kNodeCrash:
      case FaultKind::kGrayHole:
      case FaultKind::kOverload:
        f.node = static_cast<NodeId>(rng.uniform_int(1, n));
        break;
      case FaultKind::kRegimeChange:
        break;
      case FaultKind::kPartition: {
        const auto seed_node = static_cast<NodeId>(rng.uniform_int(1, n));
        const auto size = static_cast<std::size_t>(rng.uniform_int(std::max<std::int64_t>(1, n / 20),
                                                                    std::max<std::int64_t>(1, n / 2)));
        grow_partition(topo, seed_node, size, f);
        break;
      }
      default:
        f.edge = static_cast<std::uint32_t>(rng.uniform_int(0, m - 1));
        break;
    }
    out.push_back(std::move(f));
  }
  std::stable_sort(out.begin(), out.end(), [](const Fault& a, const Fault& b) { return a.start < b.start; });
  return out;
}

Result<Fault> parse_fault(std::string_view spec, const Topology& topo) {
  std::istringstream in{std::string(spec)};
  std::vector<std::string> tok;
  for (std::string t; in >> t;) tok.push_back(t);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("fault '" + std::string(spec) + "': " + why);
  };
  if (tok.size() != 4) return bad("expected \"<kind> <element> <start> <duration>\", e.g. \"link_cut 3-4 30s 10s\"");
  auto kind = parse_fault_kind(tok[0]);
  if (!kind.ok()) return bad(kind.status().message());
  Fault f;
  f.kind = *kind;
  auto start = parse_duration(tok[2]);
  auto dur = parse_duration(tok[3]);
  if (!start.ok()) return bad("start: " + start.status().message());
  if (!dur.ok() || *dur <= Duration{0}) return bad("duration must be positive (e.g. 10s)");
  f.start = at(*start);
  f.end = f.start + *dur;
  if (f.kind == FaultKind::kRegimeChange) {
    if (tok[1] != "mesh") return bad("a regime change is mesh-wide: its element is 'mesh'");
  } else if (f.is_node_fault()) {
    auto node = parse_node(tok[1], topo);
    if (!node.ok()) return bad(node.status().message());
    f.node = *node;
  } else if (f.kind == FaultKind::kPartition) {
    const auto colon = tok[1].find(':');
    if (colon == std::string::npos) return bad("a partition's element is <node>:<side size>, e.g. 5:40");
    auto node = parse_node(tok[1].substr(0, colon), topo);
    auto size = parse_int(tok[1].substr(colon + 1));
    if (!node.ok()) return bad(node.status().message());
    if (!size.ok() || *size < 1 || static_cast<std::size_t>(*size) >= topo.n) {
      return bad("side size must be in 1.." + std::to_string(topo.n - 1));
    }
    grow_partition(topo, *node, static_cast<std::size_t>(*size), f);
  } else {
    const auto dash = tok[1].find('-');
    if (dash == std::string::npos) return bad("a link is <node>-<node>, e.g. 3-4");
    auto a = parse_node(tok[1].substr(0, dash), topo);
    auto b = parse_node(tok[1].substr(dash + 1), topo);
    if (!a.ok()) return bad(a.status().message());
    if (!b.ok()) return bad(b.status().message());
    const std::int64_t e = topo.find_edge(*a, *b);
    if (e < 0) return bad("there is no link " + tok[1] + " in the topology");
    f.edge = static_cast<std::uint32_t>(e);
  }
  return f;
}

}  // namespace meshloop::sim
