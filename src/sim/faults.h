// sim::Fault: injected faults with their ground truth (kind, element, start, end), and the seeded schedule.
//
// Kinds and what the simulator does while one is active:
//   link_cut     the link carries nothing, both ways
//   node_crash   the node's agent is destroyed (all its state); at the end a fresh agent boots with epoch + 1
//   loss_burst   the link loses `burst_loss` of packets, both ways
//   partition    every link between `side` and the rest is cut; they heal together at the end
//   flapping     the link is down for the first half of each `flap_period`, up for the second half
//   degradation  the link's loss ramps linearly from 0 at start to `degradation_max_loss` at end
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "sim/topology.h"

namespace meshloop::sim {

enum class FaultKind : std::uint8_t { kLinkCut, kNodeCrash, kLossBurst, kPartition, kFlapping, kDegradation };
constexpr int kFaultKindCount = 6;
const char* fault_kind_name(FaultKind kind);
Result<FaultKind> parse_fault_kind(std::string_view name);
// "link_cut,node_crash" -> kinds; "all" -> the six kinds.
Result<std::vector<FaultKind>> parse_fault_kinds(const std::vector<std::string>& names);

struct FaultParams {
  double burst_loss = 0.5;
  double degradation_max_loss = 0.8;
  Duration flap_period = seconds(4);
};

struct Fault {
  FaultKind kind = FaultKind::kLinkCut;
  TimePoint start{};
  TimePoint end{};
  NodeId node = mesh::kNoNode;             // node_crash; partition: the node its side was grown from
  std::uint32_t edge = 0;                  // link kinds: index in Topology::edges
  std::vector<NodeId> side;                // partition: the cut-off side (sorted)
  std::vector<std::uint32_t> cut_edges;    // partition: the links between the sides (sorted edge indices)

  bool is_link_fault() const {
    return kind == FaultKind::kLinkCut || kind == FaultKind::kLossBurst || kind == FaultKind::kFlapping ||
           kind == FaultKind::kDegradation;
  }
  // "node 7", "link 3-4", "partition 12 nodes from 5 (20 links)".
  std::string element(const Topology& topo) const;
};

struct FaultScheduleParams {
  int count = 0;
  std::vector<FaultKind> kinds;
  Duration min_duration = seconds(5);
  Duration max_duration = seconds(30);
  TimePoint earliest{};     // no fault starts before this (end of warm-up)
  TimePoint latest_end{};   // every fault ends by this (run end minus the scoring tail)
  std::uint64_t seed = 1;
};

// The i-th fault has kind kinds[i % kinds.size()] (equal shares), a duration uniform in [min, max], a start
// uniform in [earliest, latest_end - duration], and an element drawn uniformly (a link, a node, or for a partition a
// breadth-first ball of 5-50% of the nodes around a random node). Sorted by start time.
Result<std::vector<Fault>> make_fault_schedule(const Topology& topo, const FaultScheduleParams& p);

// One explicit fault: "<kind> <element> <start> <duration>", e.g. "link_cut 3-4 30s 10s", "node_crash 7 40s 5s",
// "partition 5:40 60s 20s" (the 40 nodes nearest node 5 in hops, breadth first, ids ascending on ties).
Result<Fault> parse_fault(std::string_view spec, const Topology& topo);

// The breadth-first side of `size` nodes grown from `seed_node`, and the links that cross it.
void grow_partition(const Topology& topo, NodeId seed_node, std::size_t size, Fault& out);

}  // namespace meshloop::sim
