// The meshloop wire format: every byte a node sends or receives, parsed once, here, with bounds checks.
//
// Layout (network byte order), one packet per UDP datagram or simulated transmission:
//
//   header (20 bytes)
//     0  u16 magic 0x4D4C ("ML")      2  u8 version (1)      3  u8 type (PacketType)
//     4  u32 sender (the hop that transmitted this packet, not the data's origin)
//     8  u32 epoch (sender's boot epoch)   12  u32 seq (sender's transmit counter within the epoch)
//    16  u16 body_len                      18  u16 reserved (0)
//   body (body_len bytes): TLVs, each u8 type, u16 length, value
//   tag (16 bytes): HMAC-SHA256(mesh key, header || body), truncated to 128 bits (as RFC 4868 does)
//
// TLV values (lengths are exact; a reserved byte is sent as 0 and ignored on receipt):
//   kHello 31: u64 tx_time_us, u32 interval_ms, u8 multiplier, u32 heard, u64 echo_time_us, u32 echo_dwell_us,
//              u16 rx_ratio_permille (<= 1000)
//   kLsa 12 + 8n: u32 origin, u32 seq, u8 flags, u8 reserved, u16 n, then n x (u32 neighbour, u32 cost)
//   kAck 8: u32 origin, u32 seq
//   kDataHeader 9: u32 origin, u32 destination, u8 ttl
//   kExplicitRoute 4n, 1 <= n <= 64: node ids, in path order
//   kPayload any length: application bytes
//   kTraceContext 1..512: opaque bytes (W3C trace context)
//   kLsaTrace 9..520: u32 origin, u32 seq, then 1..512 opaque bytes: the trace context of that advertisement
// Which TLVs a body holds: Hello exactly one kHello; LsaUpdate one or more kLsa and any number of kLsaTrace (each
// naming an LSA of the same packet; one per LSA at most); LsaAck one or more kAck; Data
// exactly one kDataHeader and one kPayload, at most one kExplicitRoute and one kTraceContext (omitted when empty).
// TLVs may come in any order. A known TLV type in the wrong packet type is malformed.
//
// The tag is checked before any TLV is read. Unknown TLV types are skipped (forward compatibility) and counted.
// A packet is at most kMaxPacketSize bytes. decode() never reads outside its input and never trusts a length field.
// Thread-safety: encode/decode are pure functions; an AuthKey is immutable after construction and may be shared.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/result.h"
#include "mesh/types.h"

namespace meshloop::mesh {

constexpr std::uint16_t kMagic = 0x4D4C;
constexpr std::uint8_t kWireVersion = 1;
constexpr std::size_t kHeaderSize = 20;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kMaxPacketSize = 1400;  // fits one IPv4/UDP datagram on a 1500-byte MTU
// Bytes every transmission also costs below us (IPv4 20 + UDP 8), counted in control overhead (DESIGN.md).
constexpr std::size_t kIpUdpOverhead = 28;
constexpr std::size_t kTlvHeaderSize = 3;
constexpr std::size_t kMaxExplicitRouteHops = 64;
constexpr std::size_t kMaxTraceContextSize = 512;

enum class PacketType : std::uint8_t { kHello = 1, kLsaUpdate = 2, kLsaAck = 3, kData = 4 };

// TLV types. Values below 0x80 are meshloop's own; tracing (W3C traceparent/tracestate) uses kTraceContext.
enum class TlvType : std::uint8_t {
  kHello = 1,          // Hello
  kLsa = 2,            // one Lsa (repeatable)
  kAck = 3,            // one LsaAck entry (repeatable)
  kDataHeader = 4,     // origin, destination, ttl
  kExplicitRoute = 5,  // the pinned remaining path (node ids), fast reroute
  kPayload = 6,        // application bytes
  kTraceContext = 7,   // W3C traceparent + tracestate, opaque here
  kLsaTrace = 8,       // the trace context of one LSA in an LsaUpdate (control-plane tracing, trace/mesh_tracer.h)
};

// Authentication key: HMAC-SHA256 under the mesh pre-shared key. Holds precomputed inner/outer hash states, so
// tagging a small packet costs three SHA-256 blocks and no allocation.
class AuthKey {
 public:
  explicit AuthKey(std::span<const std::uint8_t> key);
  explicit AuthKey(const std::string& key);
  ~AuthKey();
  AuthKey(const AuthKey&) = delete;
  AuthKey& operator=(const AuthKey&) = delete;

  // The 16-byte truncated HMAC-SHA256 of `data`.
  std::array<std::uint8_t, kTagSize> tag(std::span<const std::uint8_t> data) const;
  // Constant-time comparison of tag(data) with `tag`.
  bool verify(std::span<const std::uint8_t> data, std::span<const std::uint8_t> tag) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

struct Header {
  PacketType type = PacketType::kHello;
  NodeId sender = kNoNode;
  std::uint32_t epoch = 0;
  std::uint32_t seq = 0;
  bool operator==(const Header&) const = default;
};

// Sent every hello interval on each port. Carries what the receiver needs for two-way detection (heard), the ETX
// of the reverse direction (rx_ratio: how much of the receiver's hellos the sender got) and an RTT sample (echo).
struct Hello {
  std::uint64_t tx_time_us = 0;        // sender's clock when sent
  std::uint32_t interval_ms = 0;       // sender's hello interval
  std::uint8_t multiplier = 0;         // sender's detection multiplier
  NodeId heard = kNoNode;              // the node the sender last heard on this link (two-way check)
  std::uint64_t echo_time_us = 0;      // tx_time_us of the last hello the sender received from the receiver
  std::uint32_t echo_dwell_us = 0;     // how long the sender held that echo before this hello
  std::uint16_t rx_ratio_permille = 0; // sender's delivery ratio of the receiver's hellos, 0..1000
  bool operator==(const Hello&) const = default;
};

struct LinkAdvert {
  NodeId neighbour = kNoNode;
  Cost cost = 0;
  bool operator==(const LinkAdvert&) const = default;
};

// A link-state advertisement: what `origin` says about its links. Newer seq wins.
struct Lsa {
  NodeId origin = kNoNode;
  std::uint32_t seq = 0;
  std::uint8_t flags = 0;  // kLsaFlag* bits
  std::vector<LinkAdvert> links;
  bool operator==(const Lsa&) const = default;
};
constexpr std::uint8_t kLsaFlagAvoidTransit = 1;  // route through this node only when no other path exists

// The trace context an advertisement was originated under, travelling with every flooded copy of it.
struct LsaTrace {
  NodeId origin = kNoNode;
  std::uint32_t seq = 0;
  std::vector<std::uint8_t> context;  // 1..kMaxTraceContextSize bytes
  bool operator==(const LsaTrace&) const = default;
};

struct LsaUpdate {
  std::vector<Lsa> lsas;
  // Optional; each names an LSA in `lsas`. The initializer keeps LsaUpdate{{lsa}} free of missing-initializer warnings.
  std::vector<LsaTrace> traces = {};
  bool operator==(const LsaUpdate&) const = default;
};

struct AckEntry {
  NodeId origin = kNoNode;
  std::uint32_t seq = 0;
  bool operator==(const AckEntry&) const = default;
};
struct LsaAck {
  std::vector<AckEntry> acks;
  bool operator==(const LsaAck&) const = default;
};

struct Data {
  NodeId origin = kNoNode;
  NodeId destination = kNoNode;
  std::uint8_t ttl = 0;
  std::vector<NodeId> explicit_route;  // remaining hops when pinned; empty for hop-by-hop forwarding
  std::vector<std::uint8_t> trace_context;
  std::vector<std::uint8_t> payload;
  bool operator==(const Data&) const = default;
};

// The body's alternative decides the packet type: encode() writes it whatever header.type says; decode() sets both.
struct Packet {
  Header header;
  std::variant<Hello, LsaUpdate, LsaAck, Data> body;
  bool operator==(const Packet&) const = default;
};

// Why decode() refused a packet: each reason is counted separately.
enum class DecodeError : std::uint8_t {
  kTruncated,        // shorter than header + tag, or body_len disagrees with the input's size
  kOversized,        // larger than kMaxPacketSize
  kBadMagic,
  kBadVersion,
  kBadType,
  kUnauthenticated,  // tag mismatch
  kMalformedTlv,     // a TLV overruns the body, has a wrong length, or a required TLV is missing or repeated
};
const char* decode_error_name(DecodeError e);

struct DecodeFailure {
  DecodeError error;
  std::string detail;  // precise, for logs
};

// Serialises and tags `packet`. REQUIRES: the encoded size fits kMaxPacketSize (callers split LSA bundles), and
// the body is one decode() accepts (an LsaUpdate/LsaAck is not empty, rx_ratio_permille <= 1000, explicit route and
// trace context within their bounds); returns InvalidArgument otherwise.
Result<std::vector<std::uint8_t>> encode(const Packet& packet, const AuthKey& key);
// As encode(), into `out` (cleared first; its capacity is reused, so a pooled buffer costs no allocation).
// On failure `out` is empty.
Status encode_into(const Packet& packet, const AuthKey& key, std::vector<std::uint8_t>& out);

// Checks size, header and tag, then parses the body. Never throws, never reads out of bounds.
struct DecodeOutcome {
  std::optional<DecodeFailure> failure;  // set when the packet is refused
  Packet packet;                         // meaningful only when ok()
  std::uint32_t unknown_tlvs = 0;        // skipped TLVs of types this version does not know
  bool ok() const { return !failure.has_value(); }
};
DecodeOutcome decode(std::span<const std::uint8_t> bytes, const AuthKey& key);
// Storage decode_into() reuses: one outcome per packet type, so each body keeps its buffers whatever type came
// in between, and LSAs trimmed off a bundle kept for their link buffers. A receiver that keeps one allocates
// nothing per packet once the buffers have grown.
struct DecodeBuffers {
  std::array<DecodeOutcome, 4> by_type;  // by PacketType - kHello
  DecodeOutcome refused;                 // a datagram refused before its type was known
  std::vector<Lsa> spare_lsas;
};
// As decode(), into `buffers`; returns the outcome it filled, valid until the next call with the same buffers.
DecodeOutcome& decode_into(std::span<const std::uint8_t> bytes, const AuthKey& key, DecodeBuffers& buffers);

// The encoded size of an LSA inside an LsaUpdate body (TLV header included): lets callers split bundles.
std::size_t encoded_lsa_size(const Lsa& lsa);
// The encoded size of an LsaTrace TLV carrying `context_size` bytes of context.
std::size_t encoded_lsa_trace_size(std::size_t context_size);

// Sliding anti-replay window per sender (IPsec style, 64 wide). A newer epoch (the sender restarted) resets it;
// an older epoch is refused. A sender starts a new epoch before its seq would wrap. Feed it only authenticated
// headers. Thread-safety: none.
class ReplayWindow {
 public:
  // True, and the (epoch, seq) recorded, when the pair has not been seen and is not too old.
  bool accept(std::uint32_t epoch, std::uint32_t seq);

 private:
  bool initialised_ = false;
  std::uint32_t epoch_ = 0;
  std::uint32_t highest_ = 0;
  std::uint64_t bitmap_ = 0;  // bit i: highest_ - i seen
};

}  // namespace meshloop::mesh
