#include "sim/scoring.h"

#include <gtest/gtest.h>

#include <functional>

namespace meshloop::sim {
namespace {

// A flow at 10 packets/s from t = 0 to `end_s`; `lost(t)` says which packets are lost, `connected(t)` whether the
// endpoints were connected at send time.
FlowLog make_log(double end_s, const std::function<bool(double)>& lost,
                 const std::function<bool(double)>& connected = [](double) { return true; }) {
  FlowLog log;
  log.flow.rate = 10;
  for (int i = 0; i < static_cast<int>(end_s * 10); ++i) {
    const double t = i / 10.0;
    PacketRecord r;
    r.sent_us = static_cast<std::int64_t>(i) * 100000;
    r.connected = connected(t);
    r.delay_us = lost(t) ? -1 : 2000;
    log.packets.push_back(r);
  }
  return log;
}

FaultTruth fault(FaultKind kind, double start, double end, std::vector<std::uint32_t> flows) {
  FaultTruth f;
  f.kind = kind;
  f.start = at(seconds_f(start));
  f.end = at(seconds_f(end));
  f.covered_flows = std::move(flows);
  return f;
}

ScoringParams params(double end_s) {
  ScoringParams p;
  p.horizon = at(seconds_f(end_s - 1));
  return p;
}

TEST(Scoring, AHalfSecondOutageGivesAnMttrOfAboutHalfASecond) {
  // Fault at 10.03 s; packets sent in [10.1, 10.5) are lost; delivery resumes at 10.5.
  std::vector<FlowLog> logs{make_log(60, [](double t) { return t >= 10.05 && t < 10.45; })};
  const Score s = score_run(logs, {fault(FaultKind::kLinkCut, 10.03, 30, {0})}, params(60));
  ASSERT_EQ(s.outcomes[0].status, FaultStatus::kRecovered);
  EXPECT_EQ(s.outcomes[0].broken_flows, 1u);
  EXPECT_NEAR(*s.outcomes[0].mttr_s, 0.47, 1e-9);  // recovery at the anchor 10.5 s
  EXPECT_EQ(s.mttr_s.count, 1u);
  EXPECT_NEAR(s.mttr_s.max, 0.47, 1e-9);
  EXPECT_EQ(s.mttr_by_kind.at("link_cut").count, 1u);
  EXPECT_EQ(s.unrecovered_by_routing, 0u);
  EXPECT_EQ(s.sent, 590u);
  EXPECT_EQ(s.delivered, 586u);
}

TEST(Scoring, OneLostPacketInTenKeepsTheWindowAtNinetyPercent) {
  std::vector<FlowLog> logs{make_log(60, [](double t) { return t > 20.05 && t < 20.15; })};  // only 20.1 lost
  const Score s = score_run(logs, {fault(FaultKind::kLossBurst, 20.0, 40, {0})}, params(60));
  EXPECT_EQ(s.outcomes[0].status, FaultStatus::kNotBroken);
}

TEST(Scoring, TwoLostPacketsBreakAWindowAndRecoveryStartsAtTheNextDelivered) {
  std::vector<FlowLog> logs{make_log(60, [](double t) { return t > 20.05 && t < 20.25; })};  // 20.1, 20.2 lost
  const Score s = score_run(logs, {fault(FaultKind::kLossBurst, 20.0, 40, {0})}, params(60));
  ASSERT_EQ(s.outcomes[0].status, FaultStatus::kRecovered);
  EXPECT_NEAR(*s.outcomes[0].mttr_s, 0.3, 1e-9);
}

TEST(Scoring, AFaultThatHealsBeforeRecoveryIsUnrecoveredByRouting) {
  // Everything lost from 10 s until the fault heals at 15 s.
  std::vector<FlowLog> logs{make_log(60, [](double t) { return t >= 10.0 && t < 15.0; })};
  const Score s = score_run(logs, {fault(FaultKind::kNodeCrash, 10.0, 15.0, {0})}, params(60));
  EXPECT_EQ(s.outcomes[0].status, FaultStatus::kUnrecoveredByRouting);
  EXPECT_FALSE(s.outcomes[0].mttr_s.has_value());
  EXPECT_EQ(s.unrecovered_by_routing, 1u);
  EXPECT_EQ(s.mttr_s.count, 0u);
}

TEST(Scoring, AFlowThatNeverRecoversMakesTheFaultUnrecovered) {
  std::vector<FlowLog> logs{make_log(60, [](double t) { return t >= 10.0; })};
  const Score s = score_run(logs, {fault(FaultKind::kLinkCut, 10.0, 20.0, {0})}, params(60));
  EXPECT_EQ(s.outcomes[0].status, FaultStatus::kUnrecovered);
  EXPECT_EQ(s.unrecovered_faults, 1u);
}

TEST(Scoring, UnbrokenFlowsGiveNoMttr) {
  std::vector<FlowLog> logs{make_log(60, [](double) { return false; })};
  const Score s = score_run(logs, {fault(FaultKind::kLinkCut, 10.0, 20.0, {0})}, params(60));
  EXPECT_EQ(s.outcomes[0].status, FaultStatus::kNotBroken);
  EXPECT_EQ(s.mttr_s.count, 0u);
  EXPECT_DOUBLE_EQ(s.pdr, 1.0);
}

TEST(Scoring, PartitionedPacketsAreReportedApartNotCountedAgainstPdr) {
  // Disconnected (partitioned) from 10 to 20 s; everything sent then is lost, but excluded from PDR and windows.
  auto disc = [](double t) { return t >= 10.0 && t < 20.0; };
  std::vector<FlowLog> logs{make_log(60, disc, [&](double t) { return !disc(t); })};
  FaultTruth f = fault(FaultKind::kPartition, 10.0, 20.0, {});
  f.excluded_flows = {0};  // its endpoints ended up on different sides
  const Score s = score_run(logs, {f}, params(60));
  EXPECT_DOUBLE_EQ(s.pdr, 1.0);
  EXPECT_EQ(s.disconnected_sent, 100u);
  EXPECT_EQ(s.sent, 490u);
  EXPECT_EQ(s.outcomes[0].excluded_flows, 1u);
  EXPECT_EQ(s.outcomes[0].status, FaultStatus::kNotBroken);
}

TEST(Scoring, OverlappingFaultsAttributeTheBreakToTheEarliest) {
  std::vector<FlowLog> logs{make_log(60, [](double t) { return t >= 12.0 && t < 12.8; })};
  const Score s = score_run(logs,
                            {fault(FaultKind::kLinkCut, 10.0, 30.0, {0}), fault(FaultKind::kNodeCrash, 11.9, 30.0, {0})},
                            params(60));
  EXPECT_EQ(s.outcomes[0].status, FaultStatus::kRecovered);
  EXPECT_NEAR(*s.outcomes[0].mttr_s, 2.8, 1e-9);
  EXPECT_EQ(s.outcomes[1].status, FaultStatus::kNotBroken);
  EXPECT_EQ(s.outcomes[1].attributed_elsewhere, 1u);
}

TEST(Scoring, TheWorstFlowSetsTheFaultsMttr) {
  std::vector<FlowLog> logs{make_log(60, [](double t) { return t >= 10.0 && t < 10.3; }),
                            make_log(60, [](double t) { return t >= 10.0 && t < 11.2; })};
  const Score s = score_run(logs, {fault(FaultKind::kLinkCut, 10.0, 30.0, {0, 1})}, params(60));
  EXPECT_EQ(s.outcomes[0].broken_flows, 2u);
  EXPECT_NEAR(*s.outcomes[0].mttr_s, 1.2, 1e-9);
}

TEST(Scoring, ALossyRepairedPathDelaysRecoveryButNotResumption) {
  // Cut at 10 s, packets flow again from 10.5 s, but two a second (x.2 and x.7) are lost until 14 s: windows stay
  // at 80%, so the flow recovers only at 13.3 s (the first window holding one loss, 13.7) while deliveries resumed
  // at 10.5 s.
  std::vector<FlowLog> logs{make_log(60, [](double t) {
    const int i = static_cast<int>(t * 10 + 0.5);
    return (t >= 10.0 && t < 10.45) || (t >= 10.45 && t < 14.0 && i % 5 == 2);
  })};
  const Score s = score_run(logs, {fault(FaultKind::kLinkCut, 10.0, 30.0, {0})}, params(60));
  ASSERT_EQ(s.outcomes[0].status, FaultStatus::kRecovered);
  EXPECT_NEAR(*s.outcomes[0].mttr_s, 3.3, 1e-9);
  EXPECT_NEAR(*s.outcomes[0].resume_s, 0.5, 1e-9);
}

TEST(Scoring, ResumptionIsTheWorstFlowsFirstDeliveryAfterItsBreak) {
  std::vector<FlowLog> logs{make_log(60, [](double t) { return t >= 10.0 && t < 10.3; }),
                            make_log(60, [](double t) { return t >= 10.0 && t < 11.2; })};
  const Score s = score_run(logs, {fault(FaultKind::kLinkCut, 10.0, 30.0, {0, 1})}, params(60));
  EXPECT_NEAR(*s.outcomes[0].resume_s, 1.2, 1e-9);
  const Score healed = score_run(logs, {fault(FaultKind::kLinkCut, 10.0, 11.0, {0, 1})}, params(60));
  EXPECT_FALSE(healed.outcomes[0].resume_s.has_value());  // unrecovered by routing: no repair to time
}

TEST(Scoring, ResumptionCountsFromTheFirstLossNotFromADeliveredBreakAnchor) {
  // The packet at the injection (10.0 s) is delivered, its window fails on the losses from 10.2 s to 12 s: the
  // break is anchored at 10.0, but nothing got through again before 12.0.
  std::vector<FlowLog> logs{make_log(60, [](double t) { return t >= 10.15 && t < 11.95; })};
  const Score s = score_run(logs, {fault(FaultKind::kDegradation, 10.0, 30.0, {0})}, params(60));
  ASSERT_EQ(s.outcomes[0].status, FaultStatus::kRecovered);
  EXPECT_NEAR(*s.outcomes[0].mttr_s, 2.0, 1e-9);
  EXPECT_NEAR(*s.outcomes[0].resume_s, 2.0, 1e-9);
}

TEST(Scoring, PacketsInTheLastSecondAreNotScored) {
  std::vector<FlowLog> logs{make_log(60, [](double t) { return t >= 59.0; })};
  const Score s = score_run(logs, {}, params(60));
  EXPECT_DOUBLE_EQ(s.pdr, 1.0);
  EXPECT_EQ(s.tail_excluded, 10u);
}

TEST(Summarize, UsesNearestRankPercentiles) {
  const Summary s = summarize({5, 1, 4, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20});
  EXPECT_DOUBLE_EQ(s.p50, 10);
  EXPECT_DOUBLE_EQ(s.p95, 19);
  EXPECT_DOUBLE_EQ(s.max, 20);
  EXPECT_EQ(s.count, 20u);
}

}  // namespace
}  // namespace meshloop::sim

namespace meshloop::sim {
namespace {

TEST(Scoring, LossesWhileAPartitionedFlowRejoinsAreTheFaultsDoing) {
  // Disconnected 10-20 s; lost 20.0-20.5 while routing rejoins the two sides: explained by the partition.
  auto disc = [](double t) { return t >= 10.0 && t < 20.0; };
  std::vector<FlowLog> logs{make_log(60, [&](double t) { return disc(t) || (t >= 20.0 && t < 20.45); },
                                     [&](double t) { return !disc(t); })};
  FaultTruth f = fault(FaultKind::kPartition, 10.0, 20.0, {});
  f.excluded_flows = {0};
  EXPECT_EQ(score_run(logs, {f}, params(60)).lost_outside_faults, 0u);
  f.excluded_flows.clear();  // the same losses with no fault to blame
  EXPECT_EQ(score_run(logs, {f}, params(60)).lost_outside_faults, 5u);
}

TEST(Scoring, CountsLossesNoFaultExplainsAndTheLongestLossRuns) {
  // Lost 10.0-10.5 (during a covering fault) and 40.0-40.3 (no fault near).
  std::vector<FlowLog> logs{make_log(60, [](double t) { return (t >= 10.0 && t < 10.45) || (t >= 40.0 && t < 40.25); })};
  const Score s = score_run(logs, {fault(FaultKind::kLinkCut, 9.9, 20.0, {0})}, params(60));
  EXPECT_EQ(s.lost_outside_faults, 3u);
  ASSERT_EQ(s.longest_loss_runs.size(), 2u);
  EXPECT_EQ(s.longest_loss_runs[0].packets, 5u);
  EXPECT_DOUBLE_EQ(s.longest_loss_runs[0].start_s, 10.0);
  EXPECT_EQ(s.longest_loss_runs[1].packets, 3u);
  ASSERT_EQ(s.longest_unexplained_runs.size(), 1u);
  EXPECT_EQ(s.longest_unexplained_runs[0].packets, 3u);
  EXPECT_DOUBLE_EQ(s.longest_unexplained_runs[0].start_s, 40.0);
}

}  // namespace
}  // namespace meshloop::sim
