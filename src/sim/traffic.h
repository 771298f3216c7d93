// sim traffic: constant-bit-rate flows between random node pairs, their payloads, and the per-packet delivery log.
//
// A payload starts with a 16-byte header (flow id, sequence number, send time in microseconds; little-endian) and is
// padded to the configured size. The log keeps one small record per packet sent, indexed by sequence number, so a
// delivery is recorded in O(1) and scoring reads each flow's packets in send order.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/time.h"
#include "mesh/types.h"

namespace meshloop::sim {

using mesh::NodeId;

struct Flow {
  std::uint32_t id = 0;
  NodeId src = mesh::kNoNode;
  NodeId dst = mesh::kNoNode;
  TimePoint start{};
  double rate = 10;  // packets per second
  // Send time of packet `seq` (exact: no drift accumulates).
  TimePoint send_time(std::uint32_t seq) const {
    return start + Duration{static_cast<std::int64_t>(static_cast<double>(seq) * 1e6 / rate)};
  }
};

// `count` flows with distinct endpoints drawn uniformly, starting at `start` plus a random phase within one packet
// interval. REQUIRES: n >= 2, rate > 0.
std::vector<Flow> make_flows(std::size_t n, int count, double rate, TimePoint start, std::uint64_t seed);

constexpr std::size_t kPayloadHeader = 16;
struct PayloadHeader {
  std::uint32_t flow = 0;
  std::uint32_t seq = 0;
  TimePoint sent{};
};
// Writes the header into the first kPayloadHeader bytes. REQUIRES: out.size() >= kPayloadHeader.
void encode_payload(const PayloadHeader& h, std::span<std::uint8_t> out);
std::optional<PayloadHeader> decode_payload(std::span<const std::uint8_t> in);

struct PacketRecord {
  std::int64_t sent_us = 0;
  std::int32_t delay_us = -1;  // -1: not delivered
  bool connected = false;      // source and destination connected in the true topology at send time
  bool delivered() const { return delay_us >= 0; }
};

struct FlowLog {
  Flow flow;
  std::vector<PacketRecord> packets;  // index = seq
  std::uint64_t duplicates = 0;
};

}  // namespace meshloop::sim
