#include "sim/faults.h"

#include <gtest/gtest.h>

#include <map>

namespace meshloop::sim {
namespace {

FaultScheduleParams params(int count) {
  FaultScheduleParams p;
  p.count = count;
  p.kinds = {FaultKind::kLinkCut,  FaultKind::kNodeCrash, FaultKind::kLossBurst,
             FaultKind::kPartition, FaultKind::kFlapping, FaultKind::kDegradation};
  p.min_duration = seconds(5);
  p.max_duration = seconds(60);
  p.earliest = at(seconds(30));
  p.latest_end = at(seconds(595));
  p.seed = 11;
  return p;
}

TEST(FaultSchedule, HasEqualSharesOfKindsWithinBoundsSortedByStart) {
  const Topology topo = make_rgg(300, 8, 1);
  auto faults = make_fault_schedule(topo, params(120));
  ASSERT_TRUE(faults.ok()) << faults.status().message();
  ASSERT_EQ(faults->size(), 120u);
  std::map<FaultKind, int> per_kind;
  TimePoint prev{};
  for (const Fault& f : *faults) {
    ++per_kind[f.kind];
    EXPECT_GE(f.start, at(seconds(30)));
    EXPECT_LE(f.end, at(seconds(595)));
    EXPECT_GE(f.end - f.start, seconds(5));
    EXPECT_LE(f.end - f.start, seconds(60));
    EXPECT_GE(f.start, prev);
    prev = f.start;
    if (f.kind == FaultKind::kNodeCrash) {
      EXPECT_GE(f.node, 1u);
      EXPECT_LE(f.node, 300u);
    } else if (f.kind == FaultKind::kPartition) {
      EXPECT_GE(f.side.size(), 15u);
      EXPECT_LE(f.side.size(), 150u);
      EXPECT_FALSE(f.cut_edges.empty());
    } else {
      EXPECT_LT(f.edge, topo.edges.size());
    }
  }
  for (const auto& [kind, count] : per_kind) EXPECT_EQ(count, 20) << fault_kind_name(kind);
}

TEST(FaultSchedule, IsAFunctionOfItsSeed) {
  const Topology topo = make_grid(100);
  auto a = make_fault_schedule(topo, params(30));
  auto b = make_fault_schedule(topo, params(30));
  ASSERT_TRUE(a.ok() && b.ok());
  for (std::size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].start, (*b)[i].start);
    EXPECT_EQ((*a)[i].element(topo), (*b)[i].element(topo));
  }
}

TEST(FaultSchedule, RejectsARunTooShortForItsFaults) {
  const Topology topo = make_grid(9);
  FaultScheduleParams p = params(3);
  p.latest_end = at(seconds(60));  // 30 s warm-up + 60 s faults do not fit
  EXPECT_FALSE(make_fault_schedule(topo, p).ok());
}

TEST(Partition, CutsExactlyTheLinksAcrossTheSides) {
  const Topology topo = make_grid(16);  // 4x4
  Fault f;
  f.kind = FaultKind::kPartition;
  grow_partition(topo, 1, 3, f);  // 1, then its neighbours 2 and 5
  EXPECT_EQ(f.side, (std::vector<NodeId>{1, 2, 5}));
  // Crossing links: 2-3, 2-6, 5-6, 5-9.
  EXPECT_EQ(f.cut_edges.size(), 4u);
  std::vector<bool> up(topo.edges.size(), true);
  for (auto e : f.cut_edges) up[e] = false;
  const auto comp = components(topo, up);
  EXPECT_EQ(comp[0], comp[1]);
  EXPECT_NE(comp[0], comp[2]);
}

TEST(ParseFault, ReadsEachElementKind) {
  const Topology topo = make_grid(16);
  auto cut = parse_fault("link_cut 1-2 30s 10s", topo);
  ASSERT_TRUE(cut.ok()) << cut.status().message();
  EXPECT_EQ(cut->element(topo), "link 1-2");
  EXPECT_EQ(cut->start, at(seconds(30)));
  EXPECT_EQ(cut->end, at(seconds(40)));
  auto crash = parse_fault("node_crash 7 1m 500ms", topo);
  ASSERT_TRUE(crash.ok());
  EXPECT_EQ(crash->node, 7u);
  EXPECT_EQ(crash->end - crash->start, milliseconds(500));
  auto part = parse_fault("partition 1:3 5s 5s", topo);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(part->side.size(), 3u);
}

TEST(ParseFault, ExplainsWhatIsWrong) {
  const Topology topo = make_grid(16);
  auto msg = [&](const char* spec) { return parse_fault(spec, topo).status().message(); };
  EXPECT_NE(msg("link_cut 1-4 30s 10s").find("no link 1-4"), std::string::npos);
  EXPECT_NE(msg("node_crash 17 30s 10s").find("not a node id in 1..16"), std::string::npos);
  EXPECT_NE(msg("meteor 1 30s 10s").find("unknown fault kind 'meteor'"), std::string::npos);
  EXPECT_NE(msg("link_cut 1-2 30s").find("expected"), std::string::npos);
  EXPECT_NE(msg("link_cut 1-2 30s 0s").find("positive"), std::string::npos);
  EXPECT_NE(msg("partition 3 30s 5s").find("<node>:<side size>"), std::string::npos);
}

TEST(ParseFaultKinds, AcceptsAllAndRejectsUnknown) {
  auto all = parse_fault_kinds({"all"});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 6u);  // the kinds routing sees, as before the others existed
  auto every = parse_fault_kinds({"every"});
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(every->size(), 9u);
  EXPECT_EQ(every->back(), FaultKind::kRegimeChange);
  EXPECT_FALSE(parse_fault_kinds({"link_cut", "nope"}).ok());
}

TEST(ParseFault, ReadsTheKindsRoutingCannotSee) {
  const Topology topo = make_grid(16);
  auto gray = parse_fault("gray_hole 6 30s 10s", topo);
  ASSERT_TRUE(gray.ok()) << gray.status().message();
  EXPECT_EQ(gray->node, 6u);
  EXPECT_TRUE(gray->is_node_fault());
  EXPECT_EQ(gray->element(topo), "node 6");
  auto over = parse_fault("overload 3 30s 10s", topo);
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->element(topo), "node 3");
  auto regime = parse_fault("regime_change mesh 30s 100s", topo);
  ASSERT_TRUE(regime.ok());
  EXPECT_TRUE(regime->is_shift());
  EXPECT_EQ(regime->element(topo), "mesh");
  EXPECT_NE(parse_fault("regime_change 3 30s 10s", topo).status().message().find("'mesh'"), std::string::npos);
  EXPECT_NE(parse_fault("gray_hole 17 30s 10s", topo).status().message().find("1..16"), std::string::npos);
}

TEST(FaultSchedule, GivesTheNewKindsTheirShareAndElements) {
  const Topology topo = make_rgg(100, 8, 3);
  FaultScheduleParams p = params(30);
  p.kinds = {FaultKind::kGrayHole, FaultKind::kOverload, FaultKind::kRegimeChange};
  auto faults = make_fault_schedule(topo, p);
  ASSERT_TRUE(faults.ok());
  std::map<FaultKind, int> per_kind;
  for (const Fault& f : *faults) {
    ++per_kind[f.kind];
    if (f.kind == FaultKind::kRegimeChange) {
      EXPECT_EQ(f.node, mesh::kNoNode);
    } else {
      EXPECT_GE(f.node, 1u);
      EXPECT_LE(f.node, 100u);
    }
  }
  EXPECT_EQ(per_kind[FaultKind::kGrayHole], 10);
  EXPECT_EQ(per_kind[FaultKind::kOverload], 10);
  EXPECT_EQ(per_kind[FaultKind::kRegimeChange], 10);
}

}  // namespace
}  // namespace meshloop::sim
