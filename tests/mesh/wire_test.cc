#include "mesh/wire.h"

#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <set>
#include <string>
#include <thread>
#include <utility>

#include "core/rng.h"

namespace meshloop::mesh {
namespace {

using Bytes = std::vector<std::uint8_t>;

const AuthKey& test_key() {
  static const AuthKey key(std::string("meshloop test key"));
  return key;
}

Bytes from_hex(const std::string& hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

Bytes from_string(const std::string& s) { return Bytes(s.begin(), s.end()); }

void put_u16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put_u32(Bytes& b, std::uint32_t v) {
  put_u16(b, static_cast<std::uint16_t>(v >> 16));
  put_u16(b, static_cast<std::uint16_t>(v));
}

// Builds TLV bodies byte by byte, independently of wire.cc, so tests can say things encode() never would.
class Body {
 public:
  Body& tlv(std::uint8_t type, const Bytes& value) {
    bytes_.push_back(type);
    put_u16(bytes_, static_cast<std::uint16_t>(value.size()));
    bytes_.insert(bytes_.end(), value.begin(), value.end());
    return *this;
  }
  Body& tlv(TlvType type, const Bytes& value) { return tlv(static_cast<std::uint8_t>(type), value); }
  Body& raw(const Bytes& b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
};

Bytes hello_value(std::uint16_t rx_ratio = 500) {
  Bytes v(29, 0x11);
  put_u16(v, rx_ratio);
  return v;
}
Bytes lsa_value(std::uint16_t count, std::size_t links) {
  Bytes v;
  put_u32(v, 9);  // origin
  put_u32(v, 3);  // seq
  v.push_back(0);
  v.push_back(0);
  put_u16(v, count);
  for (std::size_t i = 0; i < links; ++i) {
    put_u32(v, static_cast<std::uint32_t>(10 + i));
    put_u32(v, 100);
  }
  return v;
}
Bytes ack_value() { return Bytes(8, 0x22); }
Bytes data_header_value() { return Bytes{0, 0, 0, 1, 0, 0, 0, 2, 16}; }

// Wraps an arbitrary body in a header and a correct tag: lets a test reach the TLV parser with any bytes.
Bytes seal(PacketType type, const Bytes& body, const AuthKey& key = test_key(), std::uint16_t reserved = 0) {
  Bytes out;
  put_u16(out, kMagic);
  out.push_back(kWireVersion);
  out.push_back(static_cast<std::uint8_t>(type));
  put_u32(out, 7);   // sender
  put_u32(out, 1);   // epoch
  put_u32(out, 42);  // seq
  put_u16(out, static_cast<std::uint16_t>(body.size()));
  put_u16(out, reserved);
  out.insert(out.end(), body.begin(), body.end());
  const auto tag = key.tag(out);
  out.insert(out.end(), tag.begin(), tag.end());
  return out;
}

Bytes random_bytes(Rng& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng.next_u64());
  return b;
}
std::uint32_t u32(Rng& rng) { return static_cast<std::uint32_t>(rng.next_u64()); }
// Uniform in [0, n). REQUIRES: n > 0.
std::size_t below(Rng& rng, std::size_t n) {
  return static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(n) - 1));
}

Header random_header(Rng& rng) { return Header{PacketType::kHello, u32(rng), u32(rng), u32(rng)}; }

Packet random_hello(Rng& rng) {
  Hello h{rng.next_u64(), u32(rng), static_cast<std::uint8_t>(rng.next_u64()),           u32(rng),
          rng.next_u64(), u32(rng), static_cast<std::uint16_t>(rng.uniform_int(0, 1000))};
  return Packet{random_header(rng), h};
}
Lsa random_lsa(Rng& rng, std::size_t max_links) {
  Lsa lsa{u32(rng), u32(rng), static_cast<std::uint8_t>(rng.next_u64()), {}};
  lsa.links.resize(below(rng, max_links + 1));
  for (auto& l : lsa.links) l = LinkAdvert{u32(rng), u32(rng)};
  return lsa;
}
Packet random_lsa_update(Rng& rng) {
  LsaUpdate u;
  u.lsas.resize(1 + below(rng, 5));
  for (auto& lsa : u.lsas) lsa = random_lsa(rng, 20);
  return Packet{random_header(rng), u};
}
Packet random_lsa_ack(Rng& rng) {
  LsaAck a;
  a.acks.resize(1 + below(rng, 60));
  for (auto& e : a.acks) e = AckEntry{u32(rng), u32(rng)};
  return Packet{random_header(rng), a};
}
Packet random_data(Rng& rng) {
  Data d;
  d.origin = u32(rng);
  d.destination = u32(rng);
  d.ttl = static_cast<std::uint8_t>(rng.next_u64());
  if (rng.bernoulli(0.5)) {
    d.explicit_route.resize(1 + below(rng, kMaxExplicitRouteHops));
    for (auto& hop : d.explicit_route) hop = u32(rng);
  }
  if (rng.bernoulli(0.5)) d.trace_context = random_bytes(rng, 1 + below(rng, kMaxTraceContextSize));
  d.payload = random_bytes(rng, below(rng, 500));
  return Packet{random_header(rng), d};
}

Packet random_packet(Rng& rng, int kind) {
  switch (kind) {
    case 0:
      return random_hello(rng);
    case 1:
      return random_lsa_update(rng);
    case 2:
      return random_lsa_ack(rng);
    default:
      return random_data(rng);
  }
}

PacketType type_of_kind(int kind) { return static_cast<PacketType>(kind + 1); }

Bytes encode_ok(const Packet& p, const AuthKey& key = test_key()) {
  auto r = encode(p, key);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : Bytes{};
}

DecodeOutcome decode_bytes(const Bytes& b) { return decode(b, test_key()); }

// ---------------------------------------------------------------------------------------------------------------
// AuthKey

std::array<std::uint8_t, kTagSize> openssl_hmac_prefix(const Bytes& key, const Bytes& data) {
  std::uint8_t full[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  const std::uint8_t dummy = 0;
  HMAC(EVP_sha256(), key.empty() ? &dummy : key.data(), static_cast<int>(key.size()),
       data.empty() ? &dummy : data.data(), data.size(), full, &n);
  std::array<std::uint8_t, kTagSize> out;
  std::copy(full, full + kTagSize, out.begin());
  return out;
}

TEST(AuthKeyTest, TagMatchesRfc4231TestVectorsTruncatedTo128Bits) {
  // RFC 4231 test case 2 (short key), 5 (the truncation case itself) and 6 (key longer than a block).
  EXPECT_EQ(AuthKey(std::string("Jefe")).tag(from_string("what do ya want for nothing?")),
            openssl_hmac_prefix(from_string("Jefe"), from_string("what do ya want for nothing?")));
  const auto tc2 = AuthKey(std::string("Jefe")).tag(from_string("what do ya want for nothing?"));
  EXPECT_EQ(Bytes(tc2.begin(), tc2.end()), from_hex("5bdcc146bf60754e6a042426089575c7"));
  const auto tc5 = AuthKey(Bytes(20, 0x0c)).tag(from_string("Test With Truncation"));
  EXPECT_EQ(Bytes(tc5.begin(), tc5.end()), from_hex("a3b6167473100ee06e0c796c2955552b"));
  const auto tc6 = AuthKey(Bytes(131, 0xaa)).tag(from_string("Test Using Larger Than Block-Size Key - Hash Key First"));
  EXPECT_EQ(Bytes(tc6.begin(), tc6.end()), from_hex("60e431591ee0b67f0d8a26aacbf5b77f"));
}

TEST(AuthKeyTest, TagIsTheFirst16BytesOfHmacSha256OnRandomKeysAndData) {
  Rng rng(4231);
  for (int i = 0; i < 300; ++i) {
    const Bytes key = random_bytes(rng, below(rng, 150));  // empty, shorter than, equal to and above a block
    const Bytes data = random_bytes(rng, below(rng, kMaxPacketSize + 1));
    const AuthKey auth(key);
    ASSERT_EQ(auth.tag(data), openssl_hmac_prefix(key, data)) << "key " << key.size() << " data " << data.size();
  }
}

TEST(AuthKeyTest, VerifyAcceptsOnlyTheExactTag) {
  const Bytes data = from_string("header and body");
  const auto tag = test_key().tag(data);
  EXPECT_TRUE(test_key().verify(data, tag));
  for (std::size_t bit = 0; bit < kTagSize * 8; ++bit) {
    auto bad = tag;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(test_key().verify(data, bad)) << bit;
  }
  EXPECT_FALSE(test_key().verify(data, std::span(tag).first(kTagSize - 1)));
  EXPECT_FALSE(test_key().verify(data, Bytes{}));
  EXPECT_FALSE(AuthKey(std::string("another key")).verify(data, tag));
}

TEST(AuthKeyTest, OneKeySharedByThreadsGivesTheSameTags) {
  const Bytes data = from_string("shared");
  const auto expected = test_key().tag(data);
  bool all_equal[2] = {true, true};
  std::thread threads[2];
  for (int t = 0; t < 2; ++t) {
    threads[t] = std::thread([&, t] {
      for (int i = 0; i < 2000; ++i) all_equal[t] = all_equal[t] && test_key().tag(data) == expected;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(all_equal[0]);
  EXPECT_TRUE(all_equal[1]);
}

// ---------------------------------------------------------------------------------------------------------------
// Round trips and encoding

TEST(WireTest, EveryPacketTypeRoundTripsWithRandomFields) {
  Rng rng(1);
  for (int kind = 0; kind < 4; ++kind) {
    for (int i = 0; i < 300; ++i) {
      Packet p = random_packet(rng, kind);
      p.header.type = type_of_kind(kind);
      const Bytes bytes = encode_ok(p);
      ASSERT_LE(bytes.size(), kMaxPacketSize);
      const DecodeOutcome out = decode_bytes(bytes);
      ASSERT_TRUE(out.ok()) << out.failure->detail;
      EXPECT_EQ(out.unknown_tlvs, 0u);
      ASSERT_EQ(out.packet, p) << "kind " << kind << " iteration " << i;
    }
  }
}

TEST(WireTest, EncodingMatchesTheDocumentedLayout) {
  Packet p{Header{PacketType::kLsaAck, 0x01020304, 0x05060708, 0x090a0b0c}, LsaAck{{AckEntry{0x11223344, 0x55667788}}}};
  const Bytes bytes = encode_ok(p);
  const Bytes expected_prefix = from_hex(
      "4d4c0103"  // magic, version, type
      "01020304"  // sender
      "05060708"  // epoch
      "090a0b0c"  // seq
      "000b0000"  // body_len 11, reserved
      "030008"    // ack TLV, length 8
      "1122334455667788");
  ASSERT_EQ(bytes.size(), expected_prefix.size() + kTagSize);
  EXPECT_EQ(Bytes(bytes.begin(), bytes.end() - kTagSize), expected_prefix);
  const auto tag = test_key().tag(expected_prefix);
  EXPECT_EQ(Bytes(bytes.end() - kTagSize, bytes.end()), Bytes(tag.begin(), tag.end()));
}

TEST(WireTest, HeaderTypeFollowsTheBodyWhateverTheCallerSet) {
  Packet p{Header{PacketType::kHello, 5, 1, 1}, Data{1, 2, 3, {}, {}, {0xAB}}};
  const DecodeOutcome out = decode_bytes(encode_ok(p));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.packet.header.type, PacketType::kData);
  EXPECT_TRUE(std::holds_alternative<Data>(out.packet.body));
}

TEST(WireTest, EncodedLsaSizeIsExact) {
  Rng rng(2);
  for (std::size_t links = 0; links <= 100; ++links) {
    Lsa lsa = random_lsa(rng, 0);
    lsa.links.assign(links, LinkAdvert{3, 4});
    const Bytes bytes = encode_ok(Packet{{}, LsaUpdate{{lsa}}});
    EXPECT_EQ(bytes.size(), kHeaderSize + encoded_lsa_size(lsa) + kTagSize) << links;
  }
  for (int i = 0; i < 50; ++i) {
    const Packet p = random_lsa_update(rng);
    std::size_t sum = 0;
    for (const Lsa& lsa : std::get<LsaUpdate>(p.body).lsas) sum += encoded_lsa_size(lsa);
    EXPECT_EQ(encode_ok(p).size(), kHeaderSize + sum + kTagSize);
  }
}

TEST(WireTest, EncodeAcceptsExactlyMaxPacketSizeAndRefusesOneByteMore) {
  // header 20 + data header TLV 12 + payload TLV header 3 + tag 16 = 51 bytes around the payload.
  Data d{1, 2, 3, {}, {}, Bytes(kMaxPacketSize - 51, 0x5A)};
  auto fits = encode(Packet{{}, d}, test_key());
  ASSERT_TRUE(fits.ok());
  EXPECT_EQ(fits->size(), kMaxPacketSize);
  EXPECT_TRUE(decode_bytes(*fits).ok());

  d.payload.push_back(0);
  auto over = encode(Packet{{}, d}, test_key());
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(over.status().message().find("1401 bytes"), std::string::npos) << over.status().message();
}

TEST(WireTest, EncodeRefusesBodiesDecodeWouldRefuse) {
  auto refused = [](const Packet& p) {
    auto r = encode(p, test_key());
    return !r.ok() && r.status().code() == StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(refused(Packet{{}, LsaUpdate{}}));
  EXPECT_TRUE(refused(Packet{{}, LsaAck{}}));
  Hello h;
  h.rx_ratio_permille = 1001;
  EXPECT_TRUE(refused(Packet{{}, h}));
  h.rx_ratio_permille = 1000;
  EXPECT_FALSE(refused(Packet{{}, h}));
  Data d;
  d.explicit_route.assign(kMaxExplicitRouteHops + 1, 9);
  EXPECT_TRUE(refused(Packet{{}, d}));
  d.explicit_route.pop_back();
  EXPECT_FALSE(refused(Packet{{}, d}));
  d.trace_context.assign(kMaxTraceContextSize + 1, 1);
  EXPECT_TRUE(refused(Packet{{}, d}));
  d.trace_context.pop_back();
  EXPECT_FALSE(refused(Packet{{}, d}));
  // An LSA bundle too large for one datagram: the caller must split it.
  LsaUpdate big;
  big.lsas.assign(10, Lsa{1, 1, 0, std::vector<LinkAdvert>(20)});
  EXPECT_TRUE(refused(Packet{{}, big}));
}

TEST(WireTest, EncodeIntoReusesTheBufferAndLeavesItEmptyOnFailure) {
  Rng rng(3);
  Bytes buffer;
  buffer.reserve(kMaxPacketSize);
  const auto* storage = buffer.data();
  for (int i = 0; i < 20; ++i) {
    const Packet p = random_packet(rng, i % 4);
    ASSERT_TRUE(encode_into(p, test_key(), buffer).ok());
    EXPECT_EQ(buffer.data(), storage);
    EXPECT_EQ(buffer, encode_ok(p));
  }
  EXPECT_FALSE(encode_into(Packet{{}, LsaAck{}}, test_key(), buffer).ok());
  EXPECT_TRUE(buffer.empty());
}

// One set of buffers reused for a random sequence of packets of every type (so bodies of the same type follow each other
// with more or fewer LSAs, routes present and absent), with refused datagrams in between: each result equals a
// fresh decode's, so nothing of an earlier packet leaks into a later one.
TEST(WireTest, DecodeIntoAReusedOutcomeEqualsAFreshDecode) {
  Rng rng(4);
  DecodeBuffers buffers;
  for (int i = 0; i < 400; ++i) {
    Packet p = random_packet(rng, static_cast<int>(below(rng, 4)));
    Bytes bytes = encode_ok(p);
    if (below(rng, 8) == 0) bytes[kHeaderSize + below(rng, bytes.size() - kHeaderSize)] ^= 0x01;  // refused
    if (below(rng, 16) == 0) bytes[3] = 9;  // refused before the type is known
    if (below(rng, 8) == 0) {  // authentic but malformed: two good LSAs, then one whose count disagrees
      bytes = seal(PacketType::kLsaUpdate, Body()
                                               .tlv(TlvType::kLsa, lsa_value(2, 2))
                                               .tlv(TlvType::kLsa, lsa_value(3, 3))
                                               .tlv(TlvType::kLsa, lsa_value(2, 1))
                                               .bytes());
    }
    const DecodeOutcome& reused = decode_into(bytes, test_key(), buffers);
    const DecodeOutcome fresh = decode_bytes(bytes);
    ASSERT_EQ(reused.ok(), fresh.ok()) << "iteration " << i;
    EXPECT_EQ(reused.unknown_tlvs, fresh.unknown_tlvs);
    if (fresh.ok()) {
      ASSERT_EQ(reused.packet, fresh.packet) << "iteration " << i;
    } else {
      EXPECT_EQ(reused.failure->error, fresh.failure->error);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Refusals before the body is read

TEST(WireTest, EveryProperPrefixIsTruncated) {
  Rng rng(4);
  for (int kind = 0; kind < 4; ++kind) {
    const Bytes bytes = encode_ok(random_packet(rng, kind));
    for (std::size_t len = 0; len < bytes.size(); ++len) {
      const DecodeOutcome out = decode(std::span(bytes).first(len), test_key());
      ASSERT_FALSE(out.ok());
      ASSERT_EQ(out.failure->error, DecodeError::kTruncated) << "length " << len << ": " << out.failure->detail;
    }
  }
}

TEST(WireTest, TrailingBytesAfterTheTagAreRefused) {
  Rng rng(5);
  Bytes bytes = encode_ok(random_hello(rng));
  bytes.push_back(0);
  const DecodeOutcome out = decode_bytes(bytes);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.failure->error, DecodeError::kTruncated);
  EXPECT_EQ(out.failure->detail, "body_len 34 needs a 70-byte datagram, got 71");
}

TEST(WireTest, DatagramOverMaxPacketSizeIsOversized) {
  Bytes bytes = seal(PacketType::kData, Bytes(kMaxPacketSize - kHeaderSize - kTagSize + 1, 0));
  ASSERT_EQ(bytes.size(), kMaxPacketSize + 1);
  const DecodeOutcome out = decode_bytes(bytes);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.failure->error, DecodeError::kOversized);
}

TEST(WireTest, BadMagicVersionAndTypeAreRefusedBeforeTheTag) {
  const Bytes good = seal(PacketType::kHello, Body().tlv(TlvType::kHello, hello_value()).bytes());
  ASSERT_TRUE(decode_bytes(good).ok());

  Bytes b = good;
  b[0] = 'X';
  auto out = decode_bytes(b);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.failure->error, DecodeError::kBadMagic);
  EXPECT_EQ(out.failure->detail, "magic 0x584c, expected 0x4d4c");

  b = good;
  b[2] = 2;
  out = decode_bytes(b);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.failure->error, DecodeError::kBadVersion);

  for (std::uint8_t type : {0, 5, 0x7f, 0xff}) {
    // Correctly tagged: the type check alone refuses it.
    const Bytes t = seal(static_cast<PacketType>(type), Body().tlv(TlvType::kHello, hello_value()).bytes());
    out = decode_bytes(t);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.failure->error, DecodeError::kBadType) << static_cast<int>(type);
  }
}

TEST(WireTest, AnySingleFlippedBitFailsHeaderChecksOrAuthenticationAndIsNeverParsed) {
  Rng rng(6);
  for (int kind = 0; kind < 4; ++kind) {
    const Bytes good = encode_ok(random_packet(rng, kind));
    for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
      Bytes b = good;
      b[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      const DecodeOutcome out = decode_bytes(b);
      ASSERT_FALSE(out.ok()) << "kind " << kind << " bit " << bit;
      ASSERT_NE(out.failure->error, DecodeError::kMalformedTlv) << "kind " << kind << " bit " << bit;
      if (bit / 8 >= kHeaderSize) {
        EXPECT_EQ(out.failure->error, DecodeError::kUnauthenticated);
      }
    }
  }
}

TEST(WireTest, WrongKeyIsUnauthenticated) {
  Rng rng(7);
  const AuthKey other(std::string("meshloop test kez"));
  for (int kind = 0; kind < 4; ++kind) {
    const DecodeOutcome out = decode(encode_ok(random_packet(rng, kind), other), test_key());
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.failure->error, DecodeError::kUnauthenticated);
  }
}

TEST(WireTest, RandomBytesNeverDecode) {
  Rng rng(8);
  for (int i = 0; i < 20000; ++i) {
    Bytes b = random_bytes(rng, below(rng, kMaxPacketSize + 100));
    if (i % 2 == 0 && b.size() >= kHeaderSize + kTagSize && b.size() <= kMaxPacketSize) {
      // A plausible header, so the bytes reach the tag check.
      const std::size_t body_len = b.size() - kHeaderSize - kTagSize;
      const Bytes header = {0x4D, 0x4C, kWireVersion, static_cast<std::uint8_t>(1 + below(rng, 4))};
      std::copy(header.begin(), header.end(), b.begin());
      b[16] = static_cast<std::uint8_t>(body_len >> 8);
      b[17] = static_cast<std::uint8_t>(body_len);
      const DecodeOutcome out = decode_bytes(b);
      ASSERT_FALSE(out.ok());
      ASSERT_EQ(out.failure->error, DecodeError::kUnauthenticated);
    } else {
      ASSERT_FALSE(decode_bytes(b).ok());
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Correctly tagged bodies: the TLV parser

struct MalformedCase {
  const char* name;
  PacketType type;
  Bytes body;
  std::string detail;
};

std::vector<MalformedCase> malformed_cases() {
  const Bytes dh = data_header_value();
  return {
      {"hello body empty", PacketType::kHello, {}, "hello packet has no hello TLV"},
      {"tlv header cut", PacketType::kHello, Body().tlv(TlvType::kHello, hello_value()).raw({1, 0}).bytes(),
       "TLV at offset 54: 2 bytes left, a TLV header needs 3"},
      {"tlv overruns body", PacketType::kHello, Body().raw({1, 0, 40}).raw(Bytes(31, 0)).bytes(),
       "TLV type 1 at offset 20: length 40 overruns the body by 9 bytes"},
      {"unknown tlv overruns body", PacketType::kHello,
       Body().tlv(TlvType::kHello, hello_value()).raw({0x99, 0xff, 0xff}).bytes(),
       "TLV type 153 at offset 54: length 65535 overruns the body by 65535 bytes"},
      {"hello short", PacketType::kHello, Body().tlv(TlvType::kHello, Bytes(30, 0)).bytes(),
       "hello TLV at offset 20: length 30 is not 31"},
      {"hello long", PacketType::kHello, Body().tlv(TlvType::kHello, Bytes(32, 0)).bytes(),
       "hello TLV at offset 20: length 32 is not 31"},
      {"hello repeated", PacketType::kHello,
       Body().tlv(TlvType::kHello, hello_value()).tlv(TlvType::kHello, hello_value()).bytes(),
       "hello TLV at offset 54 repeats the one at offset 20"},
      {"hello rx ratio", PacketType::kHello, Body().tlv(TlvType::kHello, hello_value(1001)).bytes(),
       "hello TLV at offset 20: rx_ratio_permille 1001 exceeds 1000"},
      {"ack in hello", PacketType::kHello,
       Body().tlv(TlvType::kHello, hello_value()).tlv(TlvType::kAck, ack_value()).bytes(),
       "ack TLV at offset 54 does not belong in packet type hello"},
      {"lsa length not 12+8n", PacketType::kLsaUpdate,
       Body().tlv(TlvType::kLsa, lsa_value(0, 0)).tlv(TlvType::kLsa, Bytes(13, 0)).bytes(),
       "lsa TLV at offset 35: length 13 is not 12 + 8*n"},
      {"lsa shorter than fixed part", PacketType::kLsaUpdate, Body().tlv(TlvType::kLsa, Bytes(11, 0)).bytes(),
       "lsa TLV at offset 20: length 11 is not 12 + 8*n"},
      {"lsa count disagrees", PacketType::kLsaUpdate, Body().tlv(TlvType::kLsa, lsa_value(3, 2)).bytes(),
       "lsa TLV at offset 20: link count 3 disagrees with length 28 (2 links)"},
      {"lsa update without lsa", PacketType::kLsaUpdate, Body().tlv(0x80, {1, 2}).bytes(),
       "lsa_update packet has no lsa TLV"},
      {"hello in lsa update", PacketType::kLsaUpdate,
       Body().tlv(TlvType::kLsa, lsa_value(0, 0)).tlv(TlvType::kHello, hello_value()).bytes(),
       "hello TLV at offset 35 does not belong in packet type lsa_update"},
      {"ack wrong length", PacketType::kLsaAck, Body().tlv(TlvType::kAck, Bytes(9, 0)).bytes(),
       "ack TLV at offset 20: length 9 is not 8"},
      {"ack missing", PacketType::kLsaAck, {}, "lsa_ack packet has no ack TLV"},
      {"data header missing", PacketType::kData, Body().tlv(TlvType::kPayload, {1}).bytes(),
       "data packet has no data header TLV"},
      {"payload missing", PacketType::kData, Body().tlv(TlvType::kDataHeader, dh).bytes(),
       "data packet has no payload TLV"},
      {"data header wrong length", PacketType::kData,
       Body().tlv(TlvType::kDataHeader, Bytes(8, 0)).tlv(TlvType::kPayload, {}).bytes(),
       "data header TLV at offset 20: length 8 is not 9"},
      {"data header repeated", PacketType::kData,
       Body().tlv(TlvType::kDataHeader, dh).tlv(TlvType::kDataHeader, dh).tlv(TlvType::kPayload, {}).bytes(),
       "data header TLV at offset 32 repeats the one at offset 20"},
      {"payload repeated", PacketType::kData,
       Body().tlv(TlvType::kDataHeader, dh).tlv(TlvType::kPayload, {1}).tlv(TlvType::kPayload, {2}).bytes(),
       "payload TLV at offset 36 repeats the one at offset 32"},
      {"route not multiple of 4", PacketType::kData,
       Body()
           .tlv(TlvType::kDataHeader, dh)
           .tlv(TlvType::kExplicitRoute, Bytes(6, 1))
           .tlv(TlvType::kPayload, {})
           .bytes(),
       "explicit route TLV at offset 32: length 6 is not 4*n with 1 <= n <= 64"},
      {"route empty", PacketType::kData,
       Body().tlv(TlvType::kDataHeader, dh).tlv(TlvType::kExplicitRoute, {}).tlv(TlvType::kPayload, {}).bytes(),
       "explicit route TLV at offset 32: length 0 is not 4*n with 1 <= n <= 64"},
      {"route 65 hops", PacketType::kData,
       Body()
           .tlv(TlvType::kDataHeader, dh)
           .tlv(TlvType::kExplicitRoute, Bytes(4 * 65, 1))
           .tlv(TlvType::kPayload, {})
           .bytes(),
       "explicit route TLV at offset 32: length 260 is not 4*n with 1 <= n <= 64"},
      {"route repeated", PacketType::kData,
       Body()
           .tlv(TlvType::kDataHeader, dh)
           .tlv(TlvType::kExplicitRoute, Bytes(4, 1))
           .tlv(TlvType::kExplicitRoute, Bytes(4, 1))
           .tlv(TlvType::kPayload, {})
           .bytes(),
       "explicit route TLV at offset 39 repeats the one at offset 32"},
      {"trace context too long", PacketType::kData,
       Body()
           .tlv(TlvType::kDataHeader, dh)
           .tlv(TlvType::kTraceContext, Bytes(513, 1))
           .tlv(TlvType::kPayload, {})
           .bytes(),
       "trace context TLV at offset 32: length 513 is not within 1..512"},
      {"trace context empty", PacketType::kData,
       Body().tlv(TlvType::kDataHeader, dh).tlv(TlvType::kTraceContext, {}).tlv(TlvType::kPayload, {}).bytes(),
       "trace context TLV at offset 32: length 0 is not within 1..512"},
      {"trace context repeated", PacketType::kData,
       Body()
           .tlv(TlvType::kDataHeader, dh)
           .tlv(TlvType::kTraceContext, {1})
           .tlv(TlvType::kTraceContext, {2})
           .tlv(TlvType::kPayload, {})
           .bytes(),
       "trace context TLV at offset 36 repeats the one at offset 32"},
      {"lsa in data", PacketType::kData,
       Body().tlv(TlvType::kDataHeader, dh).tlv(TlvType::kPayload, {}).tlv(TlvType::kLsa, lsa_value(0, 0)).bytes(),
       "lsa TLV at offset 35 does not belong in packet type data"},
  };
}

TEST(WireTest, MalformedButCorrectlyTaggedBodiesAreRefusedWithAPreciseDetail) {
  for (const MalformedCase& c : malformed_cases()) {
    const DecodeOutcome out = decode_bytes(seal(c.type, c.body));
    ASSERT_FALSE(out.ok()) << c.name;
    EXPECT_EQ(out.failure->error, DecodeError::kMalformedTlv) << c.name;
    EXPECT_EQ(out.failure->detail, c.detail) << c.name;
  }
}

TEST(WireTest, UnknownTlvsAreSkippedAndCounted) {
  const Bytes body =
      Body().tlv(0x42, {1, 2, 3}).tlv(TlvType::kHello, hello_value(999)).tlv(0x00, {}).tlv(0xff, Bytes(300, 7)).bytes();
  const DecodeOutcome out = decode_bytes(seal(PacketType::kHello, body));
  ASSERT_TRUE(out.ok()) << out.failure->detail;
  EXPECT_EQ(out.unknown_tlvs, 3u);
  EXPECT_EQ(std::get<Hello>(out.packet.body).rx_ratio_permille, 999);
}

TEST(WireTest, TlvsMayComeInAnyOrder) {
  Bytes route;
  put_u32(route, 5);
  put_u32(route, 6);
  const Bytes body = Body()
                         .tlv(TlvType::kPayload, {9, 8, 7})
                         .tlv(TlvType::kTraceContext, {1})
                         .tlv(TlvType::kExplicitRoute, route)
                         .tlv(TlvType::kDataHeader, data_header_value())
                         .bytes();
  const DecodeOutcome out = decode_bytes(seal(PacketType::kData, body));
  ASSERT_TRUE(out.ok()) << out.failure->detail;
  EXPECT_EQ(std::get<Data>(out.packet.body), (Data{1, 2, 16, {5, 6}, {1}, {9, 8, 7}}));
}

TEST(WireTest, ReservedFieldsAreIgnoredOnReceipt) {
  Bytes lsa = lsa_value(1, 1);
  lsa[9] = 0xEE;  // the LSA's reserved byte
  const DecodeOutcome out = decode_bytes(
      seal(PacketType::kLsaUpdate, Body().tlv(TlvType::kLsa, lsa).bytes(), test_key(), /*reserved=*/0xBEEF));
  ASSERT_TRUE(out.ok()) << out.failure->detail;
  EXPECT_EQ(std::get<LsaUpdate>(out.packet.body).lsas.at(0), (Lsa{9, 3, 0, {LinkAdvert{10, 100}}}));
}

TEST(WireTest, RandomTaggedBodiesNeverCrashAndWhatDecodesReencodesToTheSamePacket) {
  Rng rng(9);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    // The packet type's required TLVs plus random extra ones, shuffled: many decode, many are malformed.
    const int kind = static_cast<int>(below(rng, 4));
    std::vector<std::pair<std::uint8_t, Bytes>> tlvs;
    switch (kind) {
      case 0:
        tlvs.emplace_back(1, hello_value(static_cast<std::uint16_t>(rng.uniform_int(0, 1100))));
        break;
      case 1: {
        const std::size_t links = below(rng, 4);
        tlvs.emplace_back(2, lsa_value(static_cast<std::uint16_t>(links), links));
        break;
      }
      case 2:
        tlvs.emplace_back(3, random_bytes(rng, 8));
        break;
      default:
        tlvs.emplace_back(4, random_bytes(rng, 9));
        tlvs.emplace_back(6, random_bytes(rng, below(rng, 20)));
    }
    for (std::size_t extra = below(rng, 3); extra > 0; --extra) {
      static constexpr std::size_t kValidLengths[] = {31, 12, 20, 8, 9, 4, 1};
      const std::size_t len = rng.bernoulli(0.5) ? kValidLengths[below(rng, 7)] : below(rng, 40);
      tlvs.emplace_back(static_cast<std::uint8_t>(below(rng, 10)), random_bytes(rng, len));
    }
    for (std::size_t k = tlvs.size(); k > 1; --k) std::swap(tlvs[k - 1], tlvs[below(rng, k)]);
    Body body;
    for (const auto& [type, value] : tlvs) body.tlv(type, value);
    if (rng.bernoulli(0.1)) body.raw(random_bytes(rng, 1 + below(rng, 3)));

    const DecodeOutcome out = decode_bytes(seal(type_of_kind(kind), body.bytes()));
    if (!out.ok()) {
      ASSERT_EQ(out.failure->error, DecodeError::kMalformedTlv);
      continue;
    }
    ++decoded;
    const DecodeOutcome again = decode_bytes(encode_ok(out.packet));
    ASSERT_TRUE(again.ok()) << again.failure->detail;
    ASSERT_EQ(again.packet, out.packet);
  }
  EXPECT_GT(decoded, 5000);  // the property was exercised, not vacuous
}

TEST(WireTest, EveryDecodeErrorHasAName) {
  std::set<std::string> names;
  for (auto e : {DecodeError::kTruncated, DecodeError::kOversized, DecodeError::kBadMagic, DecodeError::kBadVersion,
                 DecodeError::kBadType, DecodeError::kUnauthenticated, DecodeError::kMalformedTlv}) {
    names.insert(decode_error_name(e));
  }
  EXPECT_EQ(names.size(), 7u);
  EXPECT_EQ(names.count("unknown"), 0u);
}

// ---------------------------------------------------------------------------------------------------------------
// ReplayWindow

TEST(ReplayWindowTest, AcceptsTheFirstPacketAndRejectsItsDuplicate) {
  ReplayWindow w;
  EXPECT_TRUE(w.accept(3, 1000));
  EXPECT_FALSE(w.accept(3, 1000));
}

TEST(ReplayWindowTest, AcceptsReorderedPacketsWithinTheWindowOnce) {
  ReplayWindow w;
  EXPECT_TRUE(w.accept(1, 100));
  EXPECT_TRUE(w.accept(1, 99));
  EXPECT_TRUE(w.accept(1, 37));   // 63 behind: the window's last slot
  EXPECT_FALSE(w.accept(1, 36));  // 64 behind: too old
  EXPECT_FALSE(w.accept(1, 99));
  EXPECT_FALSE(w.accept(1, 37));
  EXPECT_TRUE(w.accept(1, 101));
  EXPECT_FALSE(w.accept(1, 37));  // now 64 behind
}

TEST(ReplayWindowTest, LargeJumpForgetsHistoryButStillRejectsOldPackets) {
  ReplayWindow w;
  EXPECT_TRUE(w.accept(1, 10));
  EXPECT_TRUE(w.accept(1, 10 + 1'000'000));
  EXPECT_FALSE(w.accept(1, 10));
  EXPECT_TRUE(w.accept(1, 10 + 1'000'000 - 63));
  EXPECT_TRUE(w.accept(1, UINT32_MAX));
  EXPECT_FALSE(w.accept(1, UINT32_MAX));
  EXPECT_TRUE(w.accept(1, UINT32_MAX - 1));
}

TEST(ReplayWindowTest, NewerEpochResetsAndOlderEpochIsRejected) {
  ReplayWindow w;
  EXPECT_TRUE(w.accept(1, 5000));
  EXPECT_TRUE(w.accept(2, 0));  // the sender restarted: its seq starts again
  EXPECT_FALSE(w.accept(2, 0));
  EXPECT_TRUE(w.accept(2, 1));
  EXPECT_FALSE(w.accept(1, 5001));  // a packet from before the restart
  EXPECT_TRUE(w.accept(UINT32_MAX, 0));
  EXPECT_FALSE(w.accept(2, 2));
}

// A naive model (every accepted pair remembered) as the oracle on random sequences.
TEST(ReplayWindowTest, AgreesWithANaiveModelOnRandomSequences) {
  Rng rng(10);
  for (int run = 0; run < 50; ++run) {
    ReplayWindow w;
    bool started = false;
    std::uint32_t epoch = 0, highest = 0;
    std::set<std::uint32_t> seen;
    std::uint32_t next_epoch = 1, next_seq = 0;
    for (int i = 0; i < 2000; ++i) {
      // Mostly in-order traffic with reordering, duplicates, jumps, restarts and stale epochs.
      const double r = rng.uniform();
      std::uint32_t e = next_epoch, s;
      if (r < 0.6) {
        s = next_seq++;
      } else if (r < 0.9) {
        s = next_seq - static_cast<std::uint32_t>(std::min<std::int64_t>(next_seq, rng.uniform_int(0, 80)));
      } else if (r < 0.95) {
        next_seq += static_cast<std::uint32_t>(rng.uniform_int(60, 200));
        s = next_seq;
      } else if (r < 0.98) {
        e = ++next_epoch;
        next_seq = static_cast<std::uint32_t>(rng.uniform_int(0, 3));
        s = next_seq;
      } else {
        e = next_epoch - 1;
        s = next_seq;
      }
      bool expected;
      if (!started || e > epoch) {
        started = true, epoch = e, highest = s, seen = {s}, expected = true;
      } else if (e < epoch || seen.count(s) || (s < highest && highest - s >= 64)) {
        expected = false;
      } else {
        expected = true, seen.insert(s), highest = std::max(highest, s);
      }
      ASSERT_EQ(w.accept(e, s), expected) << "run " << run << " step " << i << " (" << e << ", " << s << ")";
    }
  }
}

}  // namespace
}  // namespace meshloop::mesh
