#include "baseline/batman_wire.h"

#include <gtest/gtest.h>

#include "core/rng.h"

namespace meshloop::baseline {
namespace {

TEST(BatmanWire, OgmIsTwentyFourBytesAfterTheSourceAddress) {
  Ogm o{49, kFlagDirectLink, 0xDEADBEEF, 7, 3, 200, 0};
  const auto bytes = encode_ogm_frame(5, std::span<const Ogm>(&o, 1));
  EXPECT_EQ(bytes.size(), kLinkHeaderLen + kOgmHeaderLen);
  EXPECT_EQ(bytes.size(), 30u);
  auto f = decode_frame(bytes);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->sender, 5u);
  ASSERT_TRUE(f->is_ogm);
  ASSERT_EQ(f->ogms.size(), 1u);
  EXPECT_EQ(f->ogms[0], o);
}

TEST(BatmanWire, AggregateRoundTripsWithTvlv) {
  std::vector<Ogm> ogms;
  for (NodeId i = 1; i <= 5; ++i) ogms.push_back(Ogm{static_cast<std::uint8_t>(50 - i), 0, i * 10, i, i + 1, 100, 8});
  const auto bytes = encode_ogm_frame(9, ogms);
  EXPECT_EQ(bytes.size(), kLinkHeaderLen + 5 * (kOgmHeaderLen + 8));
  auto f = decode_frame(bytes);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->ogms, ogms);
}

TEST(BatmanWire, UnicastCarriesTheTenByteHeaderAndTheClientFrame) {
  UnicastData d;
  d.ttl = 50;
  d.dest = 4;
  d.source = 2;
  d.payload = {1, 2, 3};
  const auto bytes = encode_unicast_frame(3, d);
  EXPECT_EQ(bytes.size(), kLinkHeaderLen + kUnicastHeaderLen + kEthHeaderLen + 3);
  auto f = decode_frame(bytes);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->is_ogm);
  EXPECT_EQ(f->sender, 3u);
  EXPECT_EQ(f->data.dest, 4u);
  EXPECT_EQ(f->data.source, 2u);
  EXPECT_EQ(f->data.ttl, 50);
  EXPECT_EQ(f->data.payload, d.payload);
}

TEST(BatmanWire, MalformedFramesAreRejected) {
  Ogm o{50, 0, 1, 7, 7, 255, 0};
  const auto good = encode_ogm_frame(5, std::span<const Ogm>(&o, 1));
  auto mutate = [&](std::size_t at, std::uint8_t v) {
    auto b = good;
    b[at] = v;
    return b;
  };
  EXPECT_FALSE(decode_frame({}).ok());
  EXPECT_FALSE(decode_frame(std::vector<std::uint8_t>(good.begin(), good.begin() + 7)).ok());   // truncated header
  EXPECT_FALSE(decode_frame(std::vector<std::uint8_t>(good.begin(), good.end() - 1)).ok());     // truncated OGM
  EXPECT_FALSE(decode_frame(mutate(0, 0xFF)).ok());                                            // h_source not ours
  EXPECT_FALSE(decode_frame(mutate(kLinkHeaderLen + 1, 14)).ok());                             // old compat version
  EXPECT_FALSE(decode_frame(mutate(kLinkHeaderLen, 0x21)).ok());                               // unknown type
  EXPECT_FALSE(decode_frame(mutate(kLinkHeaderLen + 23, 1)).ok());                             // tvlv beyond frame
  auto trailing = good;
  trailing.push_back(0);
  EXPECT_FALSE(decode_frame(trailing).ok());  // bytes that are not a whole OGM
  std::vector<Ogm> many(33, o);
  std::vector<std::uint8_t> big(good.begin(), good.begin() + kLinkHeaderLen);
  for (const Ogm& m : many) append_ogm(big, m);
  EXPECT_FALSE(decode_frame(big).ok());  // beyond BATADV_MAX_AGGREGATION_BYTES / PACKETS
}

TEST(BatmanWire, RandomBytesNeverCrashTheParser) {
  Rng rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> b(static_cast<std::size_t>(rng.uniform_int(0, 80)));
    for (auto& x : b) x = static_cast<std::uint8_t>(rng.next_u64());
    if (b.size() > 8 && (i % 2) == 0) {  // often a plausible prefix, to reach deeper checks
      b[0] = 0x02, b[1] = 0x00, b[6] = static_cast<std::uint8_t>(i % 4 == 0 ? kBatadvIvOgm : kBatadvUnicast);
      b[7] = kBatadvCompatVersion;
    }
    (void)decode_frame(b);
  }
}

}  // namespace
}  // namespace meshloop::baseline
