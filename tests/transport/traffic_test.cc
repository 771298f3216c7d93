#include "transport/traffic.h"

#include <gtest/gtest.h>

namespace meshloop::transport {
namespace {

TEST(TrafficSpecTest, ParsesDestinationAndRate) {
  EXPECT_EQ(parse_traffic_spec("4:20").value(), (TrafficSpec{4, 20.0}));
  EXPECT_EQ(parse_traffic_spec("12:0.5").value(), (TrafficSpec{12, 0.5}));
}

TEST(TrafficSpecTest, RejectsBadSpecsWithTheReason) {
  for (const char* bad : {"", "4", "4:", ":20", "0:20", "-1:20", "x:20", "4:0", "4:-3", "4:fast", "4:20000"}) {
    EXPECT_FALSE(parse_traffic_spec(bad).ok()) << bad;
  }
  EXPECT_NE(parse_traffic_spec("4").status().message().find("DST_ID:RATE"), std::string::npos);
}

TEST(TrafficPayloadTest, RoundTrips) {
  TrafficPayload p{7, 1700000000, 123456789012ULL, 1700000000123456LL, 50000};
  auto bytes = encode_traffic(p);
  EXPECT_EQ(bytes.size(), kTrafficPayloadSize);
  EXPECT_EQ(decode_traffic(bytes).value(), p);
  auto padded = encode_traffic(p, 200);
  EXPECT_EQ(padded.size(), 200u);
  EXPECT_EQ(decode_traffic(padded).value(), p);
}

TEST(TrafficPayloadTest, RejectsForeignPayloads) {
  auto bytes = encode_traffic(TrafficPayload{});
  EXPECT_FALSE(decode_traffic(std::span(bytes).first(kTrafficPayloadSize - 1)).ok());
  auto bad_magic = bytes;
  bad_magic[0] ^= 1;
  EXPECT_FALSE(decode_traffic(bad_magic).ok());
  auto bad_version = bytes;
  bad_version[4] = 9;
  EXPECT_FALSE(decode_traffic(bad_version).ok());
  EXPECT_FALSE(decode_traffic({}).ok());
}

TrafficPayload pkt(std::uint64_t seq, std::uint32_t epoch = 1) { return TrafficPayload{0, epoch, seq, 0, 10000}; }

TEST(DeliveryStatsTest, CountsLossReorderAndGaps) {
  DeliveryStats stats;
  stats.record(3, pkt(0), 1000000);
  stats.record(3, pkt(1), 1010000);
  stats.record(3, pkt(4), 1500000);  // 2 lost, 490 ms pause
  stats.record(3, pkt(3), 1500100);  // late: fills one hole
  stats.record(3, pkt(5), 1510000);
  auto flows = stats.flows();
  ASSERT_EQ(flows.size(), 1u);
  const FlowStats& f = flows[0];
  EXPECT_EQ(f.origin, 3u);
  EXPECT_EQ(f.received, 5u);
  EXPECT_EQ(f.lost, 1u);
  EXPECT_EQ(f.reordered, 1u);
  EXPECT_EQ(f.last_seq, 5u);
  EXPECT_EQ(f.longest_gap.length_us(), 490000);
  EXPECT_EQ(f.longest_gap.start_unix_us, 1010000);
  ASSERT_EQ(f.recent_gaps.size(), 1u);  // only pauses longer than 2x the 10 ms interval
  EXPECT_EQ(f.recent_gaps[0].end_unix_us, 1500000);
  EXPECT_EQ(f.last_arrival_unix_us, 1510000);
}

TEST(DeliveryStatsTest, ANewSenderEpochRestartsTheSequence) {
  DeliveryStats stats;
  stats.record(2, pkt(100, 1), 1000);
  stats.record(2, pkt(0, 2), 2000);
  stats.record(2, pkt(1, 2), 3000);
  auto f = stats.flows().at(0);
  EXPECT_EQ(f.restarts, 1u);
  EXPECT_EQ(f.lost, 0u);
  EXPECT_EQ(f.last_seq, 1u);
  EXPECT_EQ(f.epoch, 2u);
}

TEST(DeliveryStatsTest, KeepsFlowsApartAndBoundsRecentGaps) {
  DeliveryStats stats;
  for (std::uint64_t i = 0; i < 100; ++i) stats.record(1, pkt(i), static_cast<std::int64_t>(i) * 100000);
  stats.record(2, pkt(0), 0);
  auto flows = stats.flows();
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].recent_gaps.size(), kMaxRecentGaps);
  EXPECT_EQ(flows[1].received, 1u);
  stats.record_other();
  EXPECT_EQ(stats.other(), 1u);
}

}  // namespace
}  // namespace meshloop::transport
