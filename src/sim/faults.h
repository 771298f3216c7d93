// sim::Fault: injected faults with their ground truth (kind, element, start, end), and the seeded schedule.
//
// Kinds and what the simulator does while one is active:
//   link_cut     the link carries nothing, both ways
//   node_crash   the node's agent is destroyed (all its state); at the end a fresh agent boots with epoch + 1
//   loss_burst   the link loses `burst_loss` of packets, both ways
//   partition    every link between `side` and the rest is cut; they heal together at the end
//   flapping     the link is down for the first half of each `flap_period`, up for the second half
//   degradation  the link's loss ramps linearly from 0 at start to `degradation_max_loss` at end
// Kinds that routing cannot see (its hellos and advertisements keep flowing), for the MAPE-K loop's detectors:
//   gray_hole    the node drops `gray_hole_drop` of the data it forwards for others; its own data, everything
//                addressed to it and every control packet pass as usual
//   overload     the node's CPU and memory run high (telemetry) and its queues drop `overload_drop` of the data it
//                sends (its own and transit); control packets are prioritised and pass
//   regime_change  not a fault: background loss on every link direction rises by `regime_loss` (mesh-wide) for
//                its duration. Recorded in the ground truth as a shift: never scored as a fault, never a positive
//                detection label (DESIGN.md: the thresholds must absorb it)
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

enum class FaultKind : std::uint8_t {
  kLinkCut, kNodeCrash, kLossBurst, kPartition, kFlapping, kDegradation,  // routing sees these
  kGrayHole, kOverload, kRegimeChange,                                    // it does not
};
constexpr int kFaultKindCount = 9;
constexpr int kRoutingFaultKindCount = 6;  // "all": the first six (scenarios written before the others kept meaning)
const char* fault_kind_name(FaultKind kind);
Result<FaultKind> parse_fault_kind(std::string_view name);
// "link_cut,node_crash" -> kinds; "all" -> the six kinds routing can see; "every" -> all nine (incl. the shift).
Result<std::vector<FaultKind>> parse_fault_kinds(const std::vector<std::string>& names);

struct FaultParams {
  double burst_loss = 0.5;
  double degradation_max_loss = 0.8;
  Duration flap_period = seconds(4);
  double gray_hole_drop = 1.0;  // share of forwarded data a gray hole drops
  double overload_drop = 0.3;   // share of sent data an overloaded node's queues drop
  double regime_loss = 0.05;    // background loss a regime change adds on every link direction
};

struct Fault {
  FaultKind kind = FaultKind::kLinkCut;
  TimePoint start{};
  TimePoint end{};
  NodeId node = mesh::kNoNode;             // node kinds (crash, gray hole, overload); partition: the node its side was grown from
  std::uint32_t edge = 0;                  // link kinds: index in Topology::edges
  std::vector<NodeId> side;                // partition: the cut-off side (sorted)
  std::vector<std::uint32_t> cut_edges;    // partition: the links between the sides (sorted edge indices)

  bool is_link_fault() const {
    return kind == FaultKind::kLinkCut || kind == FaultKind::kLossBurst || kind == FaultKind::kFlapping ||
           kind == FaultKind::kDegradation;
  }
  bool is_node_fault() const {
    return kind == FaultKind::kNodeCrash || kind == FaultKind::kGrayHole || kind == FaultKind::kOverload;
  }
  // A regime change: a shift of the normal, not a fault (never scored as one).
  bool is_shift() const { return kind == FaultKind::kRegimeChange; }
  // "node 7", "link 3-4", "partition 12 nodes from 5 (20 links)", "mesh" (regime change).
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
// breadth-first ball of 5-50% of the nodes around a random node; a regime change has none: it is mesh-wide).
// Sorted by start time.
Result<std::vector<Fault>> make_fault_schedule(const Topology& topo, const FaultScheduleParams& p);

// One explicit fault: "<kind> <element> <start> <duration>", e.g. "link_cut 3-4 30s 10s", "node_crash 7 40s 5s",
// "partition 5:40 60s 20s" (the 40 nodes nearest node 5 in hops, breadth first, ids ascending on ties),
// "gray_hole 7 40s 20s", "overload 7 40s 20s", "regime_change mesh 60s 300s".
Result<Fault> parse_fault(std::string_view spec, const Topology& topo);

// The breadth-first side of `size` nodes grown from `seed_node`, and the links that cross it.
void grow_partition(const Topology& topo, NodeId seed_node, std::size_t size, Fault& out);

}  // namespace meshloop::sim
