// The bytes of the batman-adv baseline: B.A.T.M.A.N. IV OGMs and unicast data as batman-adv (Linux 6.1) lays them
// out in include/uapi/linux/batadv_packet.h, parsed once, here, with bounds checks.
//
// One simulated transmission (a "frame") is:
//   0   6 bytes  h_source: the transmitting hop's MAC address (what batman-adv reads from the Ethernet header;
//                the simulator's port does not reveal it, so we carry it; docs/decisions/0010-batman-baseline.md)
//   6   then either an OGM aggregate: 1..BATADV_MAX_AGGREGATION_PACKETS OGMs back to back, each
//         struct batadv_ogm_packet (24 bytes, BATADV_OGM_HLEN) followed by tvlv_len bytes of TVLV data:
//           0 u8 packet_type (BATADV_IV_OGM 0x00)  1 u8 version (BATADV_COMPAT_VERSION 15)  2 u8 ttl  3 u8 flags
//           4 u32 seqno   8 u8[6] orig   14 u8[6] prev_sender   20 u8 reserved   21 u8 tq   22 u16 tvlv_len
//       or one unicast packet: struct batadv_unicast_packet (10 bytes):
//           0 u8 packet_type (BATADV_UNICAST 0x40)  1 u8 version  2 u8 ttl  3 u8 ttvn  4 u8[6] dest
//         followed by the client's Ethernet frame: u8[6] dst, u8[6] src, u16 ethertype, payload.
// All integers are big-endian. Node ids map to locally administered MACs 02:00:<id as 4 bytes>; any other MAC is
// not one of ours and makes the frame malformed. Aggregates are at most BATADV_MAX_AGGREGATION_BYTES (512) of OGMs.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"
#include "mesh/types.h"

namespace meshloop::baseline {

using mesh::NodeId;

// include/uapi/linux/batadv_packet.h
constexpr std::uint8_t kBatadvIvOgm = 0x00;      // enum batadv_packettype BATADV_IV_OGM
constexpr std::uint8_t kBatadvUnicast = 0x40;    // enum batadv_packettype BATADV_UNICAST
constexpr std::uint8_t kBatadvCompatVersion = 15;  // BATADV_COMPAT_VERSION
constexpr std::uint8_t kFlagNotBestNextHop = 1u << 0;  // BATADV_NOT_BEST_NEXT_HOP
constexpr std::uint8_t kFlagPrimariesFirstHop = 1u << 1;  // BATADV_PRIMARIES_FIRST_HOP
constexpr std::uint8_t kFlagDirectLink = 1u << 2;  // BATADV_DIRECTLINK
constexpr std::size_t kOgmHeaderLen = 24;        // BATADV_OGM_HLEN = sizeof(struct batadv_ogm_packet)
constexpr std::size_t kUnicastHeaderLen = 10;    // sizeof(struct batadv_unicast_packet)
constexpr std::size_t kEthHeaderLen = 14;        // ETH_HLEN (the client frame inside unicast)
constexpr std::size_t kMacLen = 6;               // ETH_ALEN
constexpr std::size_t kLinkHeaderLen = kMacLen;  // our h_source
// net/batman-adv/main.h
constexpr std::size_t kMaxAggregationBytes = 512;  // BATADV_MAX_AGGREGATION_BYTES
constexpr std::size_t kMaxAggregationPackets = 32;  // BATADV_MAX_AGGREGATION_PACKETS
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;

struct Ogm {
  std::uint8_t ttl = 0;
  std::uint8_t flags = 0;
  std::uint32_t seqno = 0;
  NodeId orig = mesh::kNoNode;
  NodeId prev_sender = mesh::kNoNode;
  std::uint8_t tq = 0;
  std::uint16_t tvlv_len = 0;  // opaque TVLV bytes carried after the header (zeros when we originate them)
  bool operator==(const Ogm&) const = default;
};

struct UnicastData {
  std::uint8_t ttl = 0;
  std::uint8_t ttvn = 0;
  NodeId dest = mesh::kNoNode;
  NodeId source = mesh::kNoNode;  // the client frame's source MAC (the originating node)
  std::vector<std::uint8_t> payload;
};

struct Frame {
  NodeId sender = mesh::kNoNode;  // h_source
  bool is_ogm = false;
  std::vector<Ogm> ogms;  // when is_ogm
  UnicastData data;       // otherwise
};

// MAC <-> node id (02:00:<id>). Writes 6 bytes.
void put_mac(std::uint8_t* out, NodeId id);

// Appends one OGM (header and tvlv_len zero bytes) to `out`.
void append_ogm(std::vector<std::uint8_t>& out, const Ogm& ogm);
// A whole OGM frame: h_source then the OGMs. REQUIRES: 1..kMaxAggregationPackets OGMs.
std::vector<std::uint8_t> encode_ogm_frame(NodeId sender, std::span<const Ogm> ogms);
std::vector<std::uint8_t> encode_unicast_frame(NodeId sender, const UnicastData& data);

// Parses one frame. Never reads outside `bytes`; every length is checked. Errors are kCorruption with a reason.
Result<Frame> decode_frame(std::span<const std::uint8_t> bytes);

}  // namespace meshloop::baseline
