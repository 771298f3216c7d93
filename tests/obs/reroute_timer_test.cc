#include "obs/reroute_timer.h"

#include <gtest/gtest.h>

#include <map>

namespace meshloop::obs {
namespace {

using mesh::Event;
using mesh::EventKind;
using mesh::kNoNode;

Event ev(TimePoint at, EventKind kind, mesh::NodeId peer = kNoNode, mesh::NodeId dst = kNoNode,
         mesh::NodeId nh = kNoNode) {
  return Event{at, kind, peer, dst, nh, 0, {}};
}

RerouteTimer::Options options(bool on_switch = false) {
  return RerouteTimer::Options{milliseconds(300), seconds(30), on_switch};
}

// A fake driver: when each neighbour was last heard.
struct Heard {
  std::map<mesh::NodeId, TimePoint> at;
  RerouteTimer::LastHeard fn() {
    return [this](mesh::NodeId id) {
      auto it = at.find(id);
      return it == at.end() ? kTimeNever : it->second;
    };
  }
};

TEST(RerouteTimer, MeasuresFromTheLastPacketHeardToTheFirstDataOnTheNewHop) {
  RerouteTimer t(options());
  Heard h;
  std::vector<double> done;
  // Route to 9 via 2 with traffic; 2 falls silent after 1.000 s, is declared down at 1.300 s; failover onto 3.
  t.event(ev(at(seconds(0)), EventKind::kRouteChanged, kNoNode, 9, 2), h.fn(), done);
  t.data_sent(2, at(milliseconds(990)), done);
  h.at[2] = at(milliseconds(1000));
  t.event(ev(at(milliseconds(1300)), EventKind::kNeighbourDown, 2), h.fn(), done);
  t.event(ev(at(milliseconds(1300)), EventKind::kFailover, 2, 9, 3), h.fn(), done);
  EXPECT_EQ(t.in_progress(), 1u);
  t.data_sent(4, at(milliseconds(1305)), done);  // another neighbour: not a new hop
  EXPECT_TRUE(done.empty());
  t.data_sent(3, at(milliseconds(1310)), done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NEAR(done[0], 0.310, 1e-9);
  EXPECT_EQ(t.in_progress(), 0u);
  done.clear();
  t.data_sent(3, at(milliseconds(1400)), done);  // measured once
  EXPECT_TRUE(done.empty());
}

TEST(RerouteTimer, ARouteMovingAwayFromASilentHopIsALossEvenBeforeItIsDeclaredDown) {
  RerouteTimer t(options());
  Heard h;
  std::vector<double> done;
  t.event(ev(at(seconds(0)), EventKind::kRouteChanged, kNoNode, 9, 2), h.fn(), done);
  t.data_sent(2, at(milliseconds(1000)), done);
  h.at[2] = at(milliseconds(1000));
  // 2's neighbours advertise the loss; the route moves to 5 at 1.250 s, before our own detection at 1.300 s.
  t.event(ev(at(milliseconds(1250)), EventKind::kRouteChanged, kNoNode, 9, 5), h.fn(), done);
  t.event(ev(at(milliseconds(1300)), EventKind::kNeighbourDown, 2), h.fn(), done);
  t.data_sent(5, at(milliseconds(1260)), done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NEAR(done[0], 0.260, 1e-9);
}

TEST(RerouteTimer, ARouteChangeFromAHopStillHeardIsNotALoss) {
  RerouteTimer t(options());
  Heard h;
  std::vector<double> done;
  t.event(ev(at(seconds(0)), EventKind::kRouteChanged, kNoNode, 9, 2), h.fn(), done);
  t.data_sent(2, at(milliseconds(990)), done);
  h.at[2] = at(milliseconds(990));
  t.event(ev(at(seconds(1)), EventKind::kRouteChanged, kNoNode, 9, 5), h.fn(), done);  // a cheaper path
  t.data_sent(5, at(milliseconds(1010)), done);
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(t.in_progress(), 0u);
}

TEST(RerouteTimer, WithoutAFailoverTheRouteChangeNamesTheNewHop) {
  RerouteTimer t(options());
  Heard h;
  std::vector<double> done;
  t.event(ev(at(seconds(0)), EventKind::kRouteChanged, kNoNode, 9, 2), h.fn(), done);
  t.data_sent(2, at(milliseconds(1500)), done);
  // Never heard (unknown): the loss is dated one dead interval before the down event.
  t.event(ev(at(seconds(2)), EventKind::kNeighbourDown, 2), h.fn(), done);
  t.event(ev(at(milliseconds(2050)), EventKind::kDataDropped, kNoNode, 9), h.fn(), done);
  t.data_sent(5, at(milliseconds(2060)), done);
  EXPECT_TRUE(done.empty());
  t.event(ev(at(milliseconds(2100)), EventKind::kRouteChanged, kNoNode, 9, 5), h.fn(), done);
  t.data_sent(5, at(milliseconds(2120)), done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NEAR(done[0], 0.420, 1e-9);
}

TEST(RerouteTimer, AHopWithoutTrafficIsNotTimed) {
  RerouteTimer t(options());
  Heard h;
  std::vector<double> done;
  t.event(ev(at(seconds(0)), EventKind::kRouteChanged, kNoNode, 2, 2), h.fn(), done);
  h.at[2] = at(milliseconds(1700));
  t.event(ev(at(seconds(2)), EventKind::kNeighbourDown, 2), h.fn(), done);
  t.event(ev(at(milliseconds(2050)), EventKind::kRouteChanged, kNoNode, 2, 4), h.fn(), done);
  t.data_sent(4, at(milliseconds(2060)), done);  // another destination's traffic
  EXPECT_TRUE(done.empty());
}

TEST(RerouteTimer, OneSamplePerLostHopHoweverManyDestinationsMove) {
  RerouteTimer t(options());
  Heard h;
  std::vector<double> done;
  for (mesh::NodeId dst : {2u, 7u, 9u}) t.event(ev(at(seconds(0)), EventKind::kRouteChanged, kNoNode, dst, 2), h.fn(), done);
  t.data_sent(2, at(milliseconds(1690)), done);
  h.at[2] = at(milliseconds(1700));
  t.event(ev(at(seconds(2)), EventKind::kNeighbourDown, 2), h.fn(), done);
  t.event(ev(at(seconds(2)), EventKind::kFailover, 2, 9, 4), h.fn(), done);
  for (mesh::NodeId dst : {2u, 7u, 9u}) {
    t.event(ev(at(milliseconds(2050)), EventKind::kRouteChanged, kNoNode, dst, 4), h.fn(), done);
  }
  t.data_sent(4, at(milliseconds(2060)), done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NEAR(done[0], 0.360, 1e-9);
}

TEST(RerouteTimer, ARerouteWhoseTrafficNeverFlowsExpiresUnobserved) {
  RerouteTimer t(options());
  Heard h;
  std::vector<double> done;
  t.event(ev(at(seconds(0)), EventKind::kNeighbourDown, 2), h.fn(), done);
  t.event(ev(at(seconds(0)), EventKind::kFailover, 2, 9, 3), h.fn(), done);
  t.data_sent(3, at(seconds(31)), done);
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(t.in_progress(), 0u);
}

TEST(RerouteTimer, AStaleLastHeardIsNotTrustedToDateTheLoss) {
  RerouteTimer t(options());
  Heard h;
  std::vector<double> done;
  h.at[2] = at(seconds(10));  // 10 s before the down event: that silence would have been noticed long ago
  t.event(ev(at(seconds(20)), EventKind::kNeighbourDown, 2), h.fn(), done);
  t.event(ev(at(seconds(20)), EventKind::kFailover, 2, 9, 3), h.fn(), done);
  t.data_sent(3, at(seconds(20)), done);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NEAR(done[0], 0.300, 1e-9);
}

TEST(RerouteTimer, OnSwitchModeCompletesAtTheFailover) {
  RerouteTimer t(options(true));
  std::vector<double> done;
  t.event(ev(at(seconds(5)), EventKind::kNeighbourDown, 2), nullptr, done);
  t.event(ev(at(milliseconds(5040)), EventKind::kFailover, 2, 9, 3), nullptr, done);
  t.event(ev(at(milliseconds(5040)), EventKind::kFailover, 2, 8, 3), nullptr, done);  // same loss, other dst
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NEAR(done[0], 0.340, 1e-9);
  t.event(ev(at(seconds(6)), EventKind::kNeighbourUp, 2), nullptr, done);
  EXPECT_EQ(t.in_progress(), 0u);
}

TEST(RerouteTimer, AHopBackUpIsNoLongerBeingRerouted) {
  RerouteTimer t(options());
  Heard h;
  std::vector<double> done;
  t.event(ev(at(seconds(5)), EventKind::kNeighbourDown, 2), h.fn(), done);
  t.event(ev(at(seconds(5)), EventKind::kFailover, 2, 9, 3), h.fn(), done);
  t.event(ev(at(seconds(6)), EventKind::kNeighbourUp, 2), h.fn(), done);
  EXPECT_EQ(t.in_progress(), 0u);
}

}  // namespace
}  // namespace meshloop::obs
