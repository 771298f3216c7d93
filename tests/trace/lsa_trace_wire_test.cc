// The kLsaTrace TLV (mesh/wire.h): an advertisement's trace context travels with it in an LsaUpdate.
#include <gtest/gtest.h>

#include <string>

#include "mesh/wire.h"

namespace meshloop::mesh {
namespace {

const std::string kParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

Packet update_with_trace() {
  LsaUpdate u;
  u.lsas.push_back(Lsa{7, 3, 0, {{8, 10}}});
  u.lsas.push_back(Lsa{9, 1, 0, {}});
  u.traces.push_back(LsaTrace{7, 3, std::vector<std::uint8_t>(kParent.begin(), kParent.end())});
  return Packet{Header{PacketType::kLsaUpdate, 7, 1, 1}, u};
}

TEST(LsaTraceWireTest, RoundTrips) {
  AuthKey key(std::string("k"));
  const Packet p = update_with_trace();
  auto bytes = encode(p, key);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto d = decode(*bytes, key);
  ASSERT_TRUE(d.ok()) << d.failure->detail;
  EXPECT_EQ(d.packet, p);
  EXPECT_EQ(d.unknown_tlvs, 0u);
}

TEST(LsaTraceWireTest, ATraceNamingNoLsaOfItsPacketIsRefused) {
  AuthKey key(std::string("k"));
  Packet p = update_with_trace();
  std::get<LsaUpdate>(p.body).traces[0].seq = 4;  // names an LSA this packet does not hold
  EXPECT_FALSE(encode(p, key).ok());
  std::get<LsaUpdate>(p.body).traces[0].seq = 3;
  std::get<LsaUpdate>(p.body).traces.push_back(std::get<LsaUpdate>(p.body).traces[0]);  // twice
  EXPECT_FALSE(encode(p, key).ok());
}

TEST(LsaTraceWireTest, EmptyOrOversizedContextsAreRefused) {
  AuthKey key(std::string("k"));
  Packet p = update_with_trace();
  std::get<LsaUpdate>(p.body).traces[0].context.clear();
  EXPECT_FALSE(encode(p, key).ok());
  std::get<LsaUpdate>(p.body).traces[0].context.assign(kMaxTraceContextSize + 1, 'x');
  EXPECT_FALSE(encode(p, key).ok());
}

TEST(LsaTraceWireTest, TheTlvInAnotherPacketTypeIsMalformed) {
  // Hand-build a Hello whose body also holds an LsaTrace TLV, tagged correctly.
  AuthKey key(std::string("k"));
  auto hello = encode(Packet{Header{PacketType::kHello, 2, 1, 1}, Hello{}}, key);
  ASSERT_TRUE(hello.ok());
  std::vector<std::uint8_t> b(hello->begin(), hello->end() - kTagSize);
  const std::vector<std::uint8_t> tlv = {8, 0, 9, 0, 0, 0, 7, 0, 0, 0, 3, 'x'};
  b.insert(b.end(), tlv.begin(), tlv.end());
  const std::uint16_t body_len = static_cast<std::uint16_t>(b.size() - kHeaderSize);
  b[16] = static_cast<std::uint8_t>(body_len >> 8);
  b[17] = static_cast<std::uint8_t>(body_len);
  const auto tag = key.tag(b);
  b.insert(b.end(), tag.begin(), tag.end());
  auto d = decode(b, key);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.failure->error, DecodeError::kMalformedTlv);
}

}  // namespace
}  // namespace meshloop::mesh
