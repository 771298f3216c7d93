// The SHA-256 context functions are deprecated in OpenSSL 3 in favour of EVP, but EVP cannot copy a context without
// a provider round trip and an allocation, which was 40% of the cost of a tag on our ~100-byte packets. A plain
// SHA256_CTX is copied by value. docs/decisions/0023-hmac-on-sha256-contexts.md.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "mesh/wire.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace meshloop::mesh {
namespace {

constexpr std::size_t kShaBlockSize = 64;
constexpr std::size_t kShaDigestSize = 32;

constexpr std::size_t kHelloValueSize = 31;
constexpr std::size_t kLsaFixedSize = 12;
constexpr std::size_t kLinkAdvertSize = 8;
constexpr std::size_t kAckValueSize = 8;
constexpr std::size_t kDataHeaderValueSize = 9;
constexpr std::size_t kNodeIdSize = 4;
constexpr std::uint16_t kMaxRxRatioPermille = 1000;
constexpr std::uint8_t kMaxTlvType = static_cast<std::uint8_t>(TlvType::kLsaTrace);
constexpr std::size_t kLsaTraceFixedSize = 8;

// OpenSSL fails here only on allocation failure or a broken provider set-up, never because of a packet's bytes:
// there is nothing sensible to send or accept without a MAC, so this is fatal.
void check_openssl(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "meshloop: OpenSSL %s failed\n", what);
    std::abort();
  }
}

struct MdFree {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};

// Big-endian writes into a buffer the caller sized exactly (encode computes the size before writing).
class Writer {
 public:
  explicit Writer(std::uint8_t* p) : p_(p) {}
  void u8(std::uint8_t v) { *p_++ = v; }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void bytes(std::span<const std::uint8_t> b) {
    if (!b.empty()) std::memcpy(p_, b.data(), b.size());
    p_ += b.size();
  }
  void tlv(TlvType type, std::size_t length) {
    u8(static_cast<std::uint8_t>(type));
    u16(static_cast<std::uint16_t>(length));
  }

 private:
  std::uint8_t* p_;
};

// Big-endian reads of a value whose length the caller has already checked exactly; the asserts document that.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> s) : s_(s) {}
  std::uint8_t u8() {
    assert(pos_ < s_.size());
    return s_[pos_++];
  }
  std::uint16_t u16() {
    const std::uint16_t hi = u8();
    return static_cast<std::uint16_t>((hi << 8) | u8());
  }
  std::uint32_t u32() {
    const std::uint32_t hi = u16();
    return (hi << 16) | u16();
  }
  std::uint64_t u64() {
    const std::uint64_t hi = u32();
    return (hi << 32) | u32();
  }

 private:
  std::span<const std::uint8_t> s_;
  std::size_t pos_ = 0;
};

std::uint16_t load_u16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t load_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

const char* packet_type_name(PacketType t) {
  switch (t) {
    case PacketType::kHello:
      return "hello";
    case PacketType::kLsaUpdate:
      return "lsa_update";
    case PacketType::kLsaAck:
      return "lsa_ack";
    case PacketType::kData:
      return "data";
  }
  return "unknown";
}

const char* tlv_name(TlvType t) {
  switch (t) {
    case TlvType::kHello:
      return "hello";
    case TlvType::kLsa:
      return "lsa";
    case TlvType::kAck:
      return "ack";
    case TlvType::kDataHeader:
      return "data header";
    case TlvType::kExplicitRoute:
      return "explicit route";
    case TlvType::kPayload:
      return "payload";
    case TlvType::kTraceContext:
      return "trace context";
    case TlvType::kLsaTrace:
      return "lsa trace";
  }
  return "unknown";
}

constexpr PacketType type_of(const Hello&) { return PacketType::kHello; }
constexpr PacketType type_of(const LsaUpdate&) { return PacketType::kLsaUpdate; }
constexpr PacketType type_of(const LsaAck&) { return PacketType::kLsaAck; }
constexpr PacketType type_of(const Data&) { return PacketType::kData; }

// ---- encoding: body_size() validates and sizes, write_body() writes exactly that many bytes.

Result<std::size_t> body_size(const Hello& h) {
  if (h.rx_ratio_permille > kMaxRxRatioPermille) {
    return Status::InvalidArgument(
        fmt::format("hello rx_ratio_permille {} exceeds {}", h.rx_ratio_permille, kMaxRxRatioPermille));
  }
  return kTlvHeaderSize + kHelloValueSize;
}

// Each LsaTrace names an LSA of the same update, and no two name the same one.
bool traces_name_their_lsas(const LsaUpdate& u) {
  for (std::size_t i = 0; i < u.traces.size(); ++i) {
    const LsaTrace& t = u.traces[i];
    const bool named = std::any_of(u.lsas.begin(), u.lsas.end(),
                                   [&](const Lsa& l) { return l.origin == t.origin && l.seq == t.seq; });
    if (!named) return false;
    for (std::size_t j = 0; j < i; ++j) {
      if (u.traces[j].origin == t.origin && u.traces[j].seq == t.seq) return false;
    }
  }
  return true;
}

Result<std::size_t> body_size(const LsaUpdate& u) {
  if (u.lsas.empty()) return Status::InvalidArgument("lsa_update without an LSA");
  std::size_t size = 0;
  for (const Lsa& lsa : u.lsas) {
    if (lsa.origin == kNoNode || lsa.seq == 0) return Status::InvalidArgument("lsa with origin or seq 0");
    size += encoded_lsa_size(lsa);
  }
  for (const LsaTrace& t : u.traces) {
    if (t.context.empty() || t.context.size() > kMaxTraceContextSize) {
      return Status::InvalidArgument(fmt::format("lsa trace context of {} bytes is not within 1..{}",
                                                 t.context.size(), kMaxTraceContextSize));
    }
    size += encoded_lsa_trace_size(t.context.size());
  }
  if (!traces_name_their_lsas(u)) return Status::InvalidArgument("lsa trace naming no LSA of its update, or twice");
  return size;
}

Result<std::size_t> body_size(const LsaAck& a) {
  if (a.acks.empty()) return Status::InvalidArgument("lsa_ack without an ack");
  return a.acks.size() * (kTlvHeaderSize + kAckValueSize);
}

Result<std::size_t> body_size(const Data& d) {
  if (d.explicit_route.size() > kMaxExplicitRouteHops) {
    return Status::InvalidArgument(
        fmt::format("explicit route of {} hops exceeds {}", d.explicit_route.size(), kMaxExplicitRouteHops));
  }
  if (d.trace_context.size() > kMaxTraceContextSize) {
    return Status::InvalidArgument(
        fmt::format("trace context of {} bytes exceeds {}", d.trace_context.size(), kMaxTraceContextSize));
  }
  std::size_t size = kTlvHeaderSize + kDataHeaderValueSize + kTlvHeaderSize + d.payload.size();
  if (!d.explicit_route.empty()) size += kTlvHeaderSize + kNodeIdSize * d.explicit_route.size();
  if (!d.trace_context.empty()) size += kTlvHeaderSize + d.trace_context.size();
  return size;
}

void write_body(Writer& w, const Hello& h) {
  w.tlv(TlvType::kHello, kHelloValueSize);
  w.u64(h.tx_time_us);
  w.u32(h.interval_ms);
  w.u8(h.multiplier);
  w.u32(h.heard);
  w.u64(h.echo_time_us);
  w.u32(h.echo_dwell_us);
  w.u16(h.rx_ratio_permille);
}

void write_body(Writer& w, const LsaUpdate& u) {
  for (const Lsa& lsa : u.lsas) {
    w.tlv(TlvType::kLsa, kLsaFixedSize + kLinkAdvertSize * lsa.links.size());
    w.u32(lsa.origin);
    w.u32(lsa.seq);
    w.u8(lsa.flags);
    w.u8(0);  // reserved
    w.u16(static_cast<std::uint16_t>(lsa.links.size()));
    for (const LinkAdvert& link : lsa.links) {
      w.u32(link.neighbour);
      w.u32(link.cost);
    }
  }
  for (const LsaTrace& t : u.traces) {
    w.tlv(TlvType::kLsaTrace, kLsaTraceFixedSize + t.context.size());
    w.u32(t.origin);
    w.u32(t.seq);
    w.bytes(t.context);
  }
}

void write_body(Writer& w, const LsaAck& a) {
  for (const AckEntry& ack : a.acks) {
    w.tlv(TlvType::kAck, kAckValueSize);
    w.u32(ack.origin);
    w.u32(ack.seq);
  }
}

void write_body(Writer& w, const Data& d) {
  w.tlv(TlvType::kDataHeader, kDataHeaderValueSize);
  w.u32(d.origin);
  w.u32(d.destination);
  w.u8(d.ttl);
  if (!d.explicit_route.empty()) {
    w.tlv(TlvType::kExplicitRoute, kNodeIdSize * d.explicit_route.size());
    for (NodeId hop : d.explicit_route) w.u32(hop);
  }
  if (!d.trace_context.empty()) {
    w.tlv(TlvType::kTraceContext, d.trace_context.size());
    w.bytes(d.trace_context);
  }
  w.tlv(TlvType::kPayload, d.payload.size());
  w.bytes(d.payload);
}

// ---- decoding of an authenticated body.

bool belongs_to(TlvType tlv, PacketType packet) {
  switch (packet) {
    case PacketType::kHello:
      return tlv == TlvType::kHello;
    case PacketType::kLsaUpdate:
      return tlv == TlvType::kLsa || tlv == TlvType::kLsaTrace;
    case PacketType::kLsaAck:
      return tlv == TlvType::kAck;
    case PacketType::kData:
      return tlv == TlvType::kDataHeader || tlv == TlvType::kExplicitRoute || tlv == TlvType::kPayload ||
             tlv == TlvType::kTraceContext;
  }
  return false;
}

bool repeatable(TlvType tlv) { return tlv == TlvType::kLsa || tlv == TlvType::kAck || tlv == TlvType::kLsaTrace; }

// Parses the TLVs of an authenticated body into `packet` (whose body alternative matches its type). Offsets in
// details count from the start of the datagram, as a hex dump shows them. Returns the failure, if any.
class BodyParser {
 public:
  // spare_lsas (optional): LSAs kept for their link buffers; the parser takes from it and returns what it trims.
  BodyParser(std::span<const std::uint8_t> body, Packet& packet, std::uint32_t& unknown_tlvs,
             std::vector<Lsa>* spare_lsas)
      : body_(body), packet_(packet), unknown_tlvs_(unknown_tlvs), spare_lsas_(spare_lsas) {}

  std::optional<DecodeFailure> parse() {
    const PacketType type = packet_.header.type;
    std::size_t pos = 0;
    while (pos < body_.size()) {
      const std::size_t offset = kHeaderSize + pos;
      const std::size_t left = body_.size() - pos;
      if (left < kTlvHeaderSize) {
        return malformed(
            fmt::format("TLV at offset {}: {} bytes left, a TLV header needs {}", offset, left, kTlvHeaderSize));
      }
      const std::uint8_t raw_type = body_[pos];
      const std::size_t length = load_u16(&body_[pos + 1]);
      if (length > left - kTlvHeaderSize) {
        return malformed(fmt::format("TLV type {} at offset {}: length {} overruns the body by {} bytes", raw_type,
                                     offset, length, length - (left - kTlvHeaderSize)));
      }
      const auto value = body_.subspan(pos + kTlvHeaderSize, length);
      pos += kTlvHeaderSize + length;

      if (raw_type == 0 || raw_type > kMaxTlvType) {
        ++unknown_tlvs_;  // a later version's TLV: skipped, so old nodes interoperate with new ones
        continue;
      }
      const auto tlv = static_cast<TlvType>(raw_type);
      if (!belongs_to(tlv, type)) {
        return malformed(fmt::format("{} TLV at offset {} does not belong in packet type {}", tlv_name(tlv), offset,
                                     packet_type_name(type)));
      }
      std::size_t& first = first_offset_[raw_type];
      if (first != 0 && !repeatable(tlv)) {
        return malformed(fmt::format("{} TLV at offset {} repeats the one at offset {}", tlv_name(tlv), offset, first));
      }
      if (first == 0) first = offset;
      if (auto failure = parse_value(tlv, offset, value)) return failure;
    }
    if (type == PacketType::kLsaUpdate) trim_lsas();
    return check_required(type);
  }

 private:
  static DecodeFailure malformed(std::string detail) { return {DecodeError::kMalformedTlv, std::move(detail)}; }

  // Drops the LSAs a reused body held beyond this packet's, into the spares when there are any.
  void trim_lsas() {
    auto& lsas = std::get<LsaUpdate>(packet_.body).lsas;
    if (spare_lsas_) {
      for (std::size_t i = lsa_count_; i < lsas.size(); ++i) spare_lsas_->push_back(std::move(lsas[i]));
    }
    lsas.resize(lsa_count_);
  }

  static std::optional<DecodeFailure> wrong_length(TlvType tlv, std::size_t offset, std::size_t length,
                                                   const char* expected) {
    return malformed(fmt::format("{} TLV at offset {}: length {} is not {}", tlv_name(tlv), offset, length, expected));
  }

  std::optional<DecodeFailure> parse_value(TlvType tlv, std::size_t offset, std::span<const std::uint8_t> value) {
    Reader r(value);
    switch (tlv) {
      case TlvType::kHello: {
        if (value.size() != kHelloValueSize) return wrong_length(tlv, offset, value.size(), "31");
        Hello& h = std::get<Hello>(packet_.body);
        h.tx_time_us = r.u64();
        h.interval_ms = r.u32();
        h.multiplier = r.u8();
        h.heard = r.u32();
        h.echo_time_us = r.u64();
        h.echo_dwell_us = r.u32();
        h.rx_ratio_permille = r.u16();
        if (h.rx_ratio_permille > kMaxRxRatioPermille) {
          return malformed(fmt::format("hello TLV at offset {}: rx_ratio_permille {} exceeds {}", offset,
                                       h.rx_ratio_permille, kMaxRxRatioPermille));
        }
        return std::nullopt;
      }
      case TlvType::kLsa: {
        if (value.size() < kLsaFixedSize || (value.size() - kLsaFixedSize) % kLinkAdvertSize != 0) {
          return wrong_length(tlv, offset, value.size(), "12 + 8*n");
        }
        const std::size_t links = (value.size() - kLsaFixedSize) / kLinkAdvertSize;
        // Written over the LSA a reused body held at this position (decode_into): its link vector's capacity
        // saves an allocation per LSA, and a node receives millions of them.
        auto& lsas = std::get<LsaUpdate>(packet_.body).lsas;
        if (lsa_count_ == lsas.size()) {
          if (spare_lsas_ && !spare_lsas_->empty()) {
            lsas.push_back(std::move(spare_lsas_->back()));
            spare_lsas_->pop_back();
          } else {
            lsas.emplace_back();
          }
        }
        Lsa& lsa = lsas[lsa_count_++];
        lsa.origin = r.u32();
        lsa.seq = r.u32();
        if (lsa.origin == kNoNode || lsa.seq == 0) {  // no node 0; sequence numbers start at 1
          return malformed(fmt::format("lsa TLV at offset {}: origin {} seq {} (both must be non-zero)", offset,
                                       lsa.origin, lsa.seq));
        }
        lsa.flags = r.u8();
        r.u8();  // reserved
        const std::uint16_t count = r.u16();
        if (count != links) {
          return malformed(fmt::format("lsa TLV at offset {}: link count {} disagrees with length {} ({} links)",
                                       offset, count, value.size(), links));
        }
        lsa.links.resize(links);
        for (LinkAdvert& link : lsa.links) {
          link.neighbour = r.u32();
          link.cost = r.u32();
        }
        return std::nullopt;
      }
      case TlvType::kAck: {
        if (value.size() != kAckValueSize) return wrong_length(tlv, offset, value.size(), "8");
        AckEntry ack;
        ack.origin = r.u32();
        ack.seq = r.u32();
        std::get<LsaAck>(packet_.body).acks.push_back(ack);
        return std::nullopt;
      }
      case TlvType::kDataHeader: {
        if (value.size() != kDataHeaderValueSize) return wrong_length(tlv, offset, value.size(), "9");
        Data& d = std::get<Data>(packet_.body);
        d.origin = r.u32();
        d.destination = r.u32();
        d.ttl = r.u8();
        return std::nullopt;
      }
      case TlvType::kExplicitRoute: {
        const std::size_t hops = value.size() / kNodeIdSize;
        if (value.size() % kNodeIdSize != 0 || hops == 0 || hops > kMaxExplicitRouteHops) {
          return wrong_length(tlv, offset, value.size(), "4*n with 1 <= n <= 64");
        }
        Data& d = std::get<Data>(packet_.body);
        d.explicit_route.resize(hops);
        for (NodeId& hop : d.explicit_route) hop = r.u32();
        return std::nullopt;
      }
      case TlvType::kPayload:
        std::get<Data>(packet_.body).payload.assign(value.begin(), value.end());
        return std::nullopt;
      case TlvType::kTraceContext:
        if (value.empty() || value.size() > kMaxTraceContextSize) {
          return wrong_length(tlv, offset, value.size(), "within 1..512");
        }
        std::get<Data>(packet_.body).trace_context.assign(value.begin(), value.end());
        return std::nullopt;
      case TlvType::kLsaTrace: {
        if (value.size() <= kLsaTraceFixedSize || value.size() > kLsaTraceFixedSize + kMaxTraceContextSize) {
          return wrong_length(tlv, offset, value.size(), "8 + 1..512");
        }
        LsaTrace t;
        t.origin = r.u32();
        t.seq = r.u32();
        t.context.assign(value.begin() + kLsaTraceFixedSize, value.end());
        std::get<LsaUpdate>(packet_.body).traces.push_back(std::move(t));
        return std::nullopt;
      }
    }
    return malformed("unreachable TLV type");  // every TlvType is handled above
  }

  std::optional<DecodeFailure> require(PacketType type, TlvType tlv) const {
    if (first_offset_[static_cast<std::uint8_t>(tlv)] != 0) return std::nullopt;
    return malformed(fmt::format("{} packet has no {} TLV", packet_type_name(type), tlv_name(tlv)));
  }

  std::optional<DecodeFailure> check_required(PacketType type) const {
    switch (type) {
      case PacketType::kHello:
        return require(type, TlvType::kHello);
      case PacketType::kLsaUpdate:
        if (auto failure = require(type, TlvType::kLsa)) return failure;
        if (!traces_name_their_lsas(std::get<LsaUpdate>(packet_.body))) {
          return malformed("lsa trace TLV names no LSA of its packet, or repeats another");
        }
        return std::nullopt;
      case PacketType::kLsaAck:
        return require(type, TlvType::kAck);
      case PacketType::kData:
        if (auto failure = require(type, TlvType::kDataHeader)) return failure;
        return require(type, TlvType::kPayload);
    }
    return std::nullopt;
  }

  std::span<const std::uint8_t> body_;
  Packet& packet_;
  std::uint32_t& unknown_tlvs_;
  // Datagram offset of the first TLV of each known type; 0 (inside the header, so never a TLV's) when not seen.
  std::array<std::size_t, kMaxTlvType + 1> first_offset_{};
  std::vector<Lsa>* spare_lsas_;
  std::size_t lsa_count_ = 0;  // LSAs parsed so far (the body's vector may hold more, left from a reused body)
};

// Gives `packet` an empty body of `type`, keeping the buffers of a body of the same type (see decode_into).
void reset_body(Packet& packet, PacketType type) {
  switch (type) {
    case PacketType::kHello:
      packet.body.emplace<Hello>();
      return;
    case PacketType::kLsaUpdate:
      if (auto* u = std::get_if<LsaUpdate>(&packet.body)) {
        u->traces.clear();  // lsas are overwritten in place by the parser, which then trims them
      } else {
        packet.body.emplace<LsaUpdate>();
      }
      return;
    case PacketType::kLsaAck:
      if (auto* a = std::get_if<LsaAck>(&packet.body)) {
        a->acks.clear();
      } else {
        packet.body.emplace<LsaAck>();
      }
      return;
    case PacketType::kData:
      if (auto* d = std::get_if<Data>(&packet.body)) {
        const Data fresh;
        d->origin = fresh.origin;
        d->destination = fresh.destination;
        d->ttl = fresh.ttl;
        d->explicit_route.clear();
        d->trace_context.clear();
        d->payload.clear();
      } else {
        packet.body.emplace<Data>();
      }
      return;
  }
}

}  // namespace

// ---- AuthKey

struct AuthKey::State {
  SHA256_CTX inner;  // has absorbed key ^ ipad
  SHA256_CTX outer;  // has absorbed key ^ opad
};

AuthKey::AuthKey(std::span<const std::uint8_t> key) : state_(std::make_unique<State>()) {
  std::unique_ptr<EVP_MD, MdFree> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  check_openssl(md != nullptr, "EVP_MD_fetch(SHA256)");
  // RFC 2104: a key longer than the block is hashed first; a shorter one is zero-padded.
  std::array<std::uint8_t, kShaBlockSize> block{};
  if (key.size() > kShaBlockSize) {
    unsigned int n = 0;
    check_openssl(EVP_Digest(key.data(), key.size(), block.data(), &n, md.get(), nullptr) == 1, "EVP_Digest");
  } else if (!key.empty()) {
    std::memcpy(block.data(), key.data(), key.size());
  }
  std::array<std::uint8_t, kShaBlockSize> pad;
  auto absorb = [&](SHA256_CTX& ctx, std::uint8_t fill) {
    for (std::size_t i = 0; i < kShaBlockSize; ++i) pad[i] = block[i] ^ fill;
    check_openssl(SHA256_Init(&ctx) == 1 && SHA256_Update(&ctx, pad.data(), pad.size()) == 1, "SHA-256 init");
  };
  absorb(state_->inner, 0x36);
  absorb(state_->outer, 0x5c);
  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(pad.data(), pad.size());
}

AuthKey::AuthKey(const std::string& key)
    : AuthKey(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(key.data()), key.size())) {}

AuthKey::~AuthKey() { OPENSSL_cleanse(state_.get(), sizeof(State)); }

std::array<std::uint8_t, kTagSize> AuthKey::tag(std::span<const std::uint8_t> data) const {
  std::array<std::uint8_t, kShaDigestSize> digest;
  SHA256_CTX ctx = state_->inner;
  bool ok = SHA256_Update(&ctx, data.data(), data.size()) == 1 && SHA256_Final(digest.data(), &ctx) == 1;
  ctx = state_->outer;
  // Nothing secret is left in ctx: after Final it holds the digest and the packet's last block.
  ok = ok && SHA256_Update(&ctx, digest.data(), digest.size()) == 1 && SHA256_Final(digest.data(), &ctx) == 1;
  check_openssl(ok, "HMAC-SHA256");
  std::array<std::uint8_t, kTagSize> out;
  std::memcpy(out.data(), digest.data(), kTagSize);
  return out;
}

bool AuthKey::verify(std::span<const std::uint8_t> data, std::span<const std::uint8_t> tag) const {
  if (tag.size() != kTagSize) return false;
  const auto expected = this->tag(data);
  return CRYPTO_memcmp(expected.data(), tag.data(), kTagSize) == 0;
}

// ---- encode / decode

const char* decode_error_name(DecodeError e) {
  switch (e) {
    case DecodeError::kTruncated:
      return "truncated";
    case DecodeError::kOversized:
      return "oversized";
    case DecodeError::kBadMagic:
      return "bad_magic";
    case DecodeError::kBadVersion:
      return "bad_version";
    case DecodeError::kBadType:
      return "bad_type";
    case DecodeError::kUnauthenticated:
      return "unauthenticated";
    case DecodeError::kMalformedTlv:
      return "malformed_tlv";
  }
  return "unknown";
}

std::size_t encoded_lsa_trace_size(std::size_t context_size) {
  return kTlvHeaderSize + kLsaTraceFixedSize + context_size;
}

std::size_t encoded_lsa_size(const Lsa& lsa) {
  return kTlvHeaderSize + kLsaFixedSize + kLinkAdvertSize * lsa.links.size();
}

Status encode_into(const Packet& packet, const AuthKey& key, std::vector<std::uint8_t>& out) {
  out.clear();
  const PacketType type = std::visit([](const auto& b) { return type_of(b); }, packet.body);
  const Result<std::size_t> body = std::visit([](const auto& b) { return body_size(b); }, packet.body);
  if (!body.ok()) return body.status();
  const std::size_t total = kHeaderSize + *body + kTagSize;
  if (total > kMaxPacketSize) {
    return Status::InvalidArgument(fmt::format("{} packet would be {} bytes, over the {}-byte limit",
                                               packet_type_name(type), total, kMaxPacketSize));
  }
  out.resize(total);
  Writer w(out.data());
  w.u16(kMagic);
  w.u8(kWireVersion);
  w.u8(static_cast<std::uint8_t>(type));
  w.u32(packet.header.sender);
  w.u32(packet.header.epoch);
  w.u32(packet.header.seq);
  w.u16(static_cast<std::uint16_t>(*body));
  w.u16(0);  // reserved
  std::visit([&w](const auto& b) { write_body(w, b); }, packet.body);
  const std::size_t tagged = kHeaderSize + *body;
  const auto tag = key.tag({out.data(), tagged});
  std::memcpy(out.data() + tagged, tag.data(), kTagSize);
  return Status::Ok();
}

Result<std::vector<std::uint8_t>> encode(const Packet& packet, const AuthKey& key) {
  std::vector<std::uint8_t> out;
  if (Status s = encode_into(packet, key, out); !s.ok()) return s;
  return out;
}

namespace {
// Checks and parses `bytes` into `buffers` (a fresh DecodeBuffers for decode()): returns the outcome it filled.
DecodeOutcome& check_and_parse(std::span<const std::uint8_t> bytes, const AuthKey& key, DecodeBuffers& buffers) {
  auto refuse = [&buffers](DecodeError error, std::string detail) -> DecodeOutcome& {
    buffers.refused.failure = DecodeFailure{error, std::move(detail)};
    return buffers.refused;
  };
  if (bytes.size() > kMaxPacketSize) {
    return refuse(DecodeError::kOversized,
                  fmt::format("datagram of {} bytes exceeds {}", bytes.size(), kMaxPacketSize));
  }
  if (bytes.size() < kHeaderSize + kTagSize) {
    return refuse(DecodeError::kTruncated, fmt::format("datagram of {} bytes is shorter than header + tag ({})",
                                                       bytes.size(), kHeaderSize + kTagSize));
  }
  const std::uint8_t* p = bytes.data();
  if (const std::uint16_t magic = load_u16(p); magic != kMagic) {
    return refuse(DecodeError::kBadMagic, fmt::format("magic {:#06x}, expected {:#06x}", magic, kMagic));
  }
  if (p[2] != kWireVersion) {
    return refuse(DecodeError::kBadVersion, fmt::format("version {}, expected {}", p[2], kWireVersion));
  }
  const std::uint8_t raw_type = p[3];
  if (raw_type < static_cast<std::uint8_t>(PacketType::kHello) ||
      raw_type > static_cast<std::uint8_t>(PacketType::kData)) {
    return refuse(DecodeError::kBadType, fmt::format("packet type {} is unknown", raw_type));
  }
  const std::size_t body_len = load_u16(p + 16);
  // Exact size: trailing bytes would be unauthenticated, so they are refused rather than ignored.
  if (kHeaderSize + body_len + kTagSize != bytes.size()) {
    return refuse(DecodeError::kTruncated, fmt::format("body_len {} needs a {}-byte datagram, got {}", body_len,
                                                       kHeaderSize + body_len + kTagSize, bytes.size()));
  }
  const std::size_t tagged = kHeaderSize + body_len;
  if (!key.verify(bytes.first(tagged), bytes.subspan(tagged, kTagSize))) {
    // The header is unauthenticated here: the sender is only what the packet claims.
    return refuse(DecodeError::kUnauthenticated, fmt::format("tag mismatch (claimed sender {}, epoch {}, seq {})",
                                                             load_u32(p + 4), load_u32(p + 8), load_u32(p + 12)));
  }

  DecodeOutcome& out = buffers.by_type[raw_type - static_cast<std::uint8_t>(PacketType::kHello)];
  out.unknown_tlvs = 0;
  Header& h = out.packet.header;
  h.type = static_cast<PacketType>(raw_type);
  h.sender = load_u32(p + 4);
  h.epoch = load_u32(p + 8);
  h.seq = load_u32(p + 12);
  reset_body(out.packet, h.type);
  BodyParser parser(bytes.subspan(kHeaderSize, body_len), out.packet, out.unknown_tlvs, &buffers.spare_lsas);
  out.failure = parser.parse();
  if (out.failure) out.unknown_tlvs = 0;
  return out;
}
}  // namespace

DecodeOutcome decode(std::span<const std::uint8_t> bytes, const AuthKey& key) {
  DecodeBuffers buffers;
  return std::move(check_and_parse(bytes, key, buffers));
}

DecodeOutcome& decode_into(std::span<const std::uint8_t> bytes, const AuthKey& key, DecodeBuffers& buffers) {
  return check_and_parse(bytes, key, buffers);
}

// ---- ReplayWindow

bool ReplayWindow::accept(std::uint32_t epoch, std::uint32_t seq) {
  if (!initialised_ || epoch > epoch_) {  // first packet, or the sender restarted: history is void
    initialised_ = true;
    epoch_ = epoch;
    highest_ = seq;
    bitmap_ = 1;
    return true;
  }
  if (epoch < epoch_) return false;
  if (seq > highest_) {
    const std::uint32_t shift = seq - highest_;
    bitmap_ = shift >= 64 ? 1 : (bitmap_ << shift) | 1;
    highest_ = seq;
    return true;
  }
  const std::uint32_t age = highest_ - seq;
  if (age >= 64) return false;
  const std::uint64_t bit = std::uint64_t{1} << age;
  if ((bitmap_ & bit) != 0) return false;
  bitmap_ |= bit;
  return true;
}

}  // namespace meshloop::mesh
