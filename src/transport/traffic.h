// The node's built-in traffic generator and sink: constant-bit-rate flows whose packets carry (flow, seq, send time),
// and per-flow delivery statistics on the receiving side. This is what `meshloop demo` and the integration tests read
// to measure how long delivery stopped when something failed.
//
// Timestamps are wall-clock microseconds since the Unix epoch (so a demo process on the same host, or hosts with
// synchronised clocks, can compare them with its own); gaps are measured between arrivals on the receiver alone.
// Thread-safety: TrafficSpec/TrafficPayload functions are pure; DeliveryStats is not thread-safe (the driver thread
// owns it and hands out copies).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "mesh/types.h"

namespace meshloop::transport {

// `--traffic DST_ID:RATE`: send RATE packets per second to node DST_ID.
struct TrafficSpec {
  mesh::NodeId destination = mesh::kNoNode;
  double rate_pps = 0;
  bool operator==(const TrafficSpec&) const = default;
};
// REQUIRES nothing; errors name the text and what was expected. Rates are bounded to (0, 10000].
Result<TrafficSpec> parse_traffic_spec(std::string_view text);

// One generated packet's payload (fixed layout, network byte order):
//   0 u32 magic "MLTF" | 4 u8 version (1) | 5 u8 reserved | 6 u16 reserved | 8 u32 flow | 12 u32 sender epoch
//   16 u64 seq | 24 i64 sent_unix_us | 32 u32 interval_us | 36 end (optional zero padding after)
struct TrafficPayload {
  std::uint32_t flow = 0;
  std::uint32_t epoch = 0;  // the sender's boot epoch: a new one means the sender restarted (seq starts over)
  std::uint64_t seq = 0;
  std::int64_t sent_unix_us = 0;
  std::uint32_t interval_us = 0;  // the sender's nominal packet spacing
  bool operator==(const TrafficPayload&) const = default;
};
constexpr std::size_t kTrafficPayloadSize = 36;
std::vector<std::uint8_t> encode_traffic(const TrafficPayload& p, std::size_t padded_size = kTrafficPayloadSize);
// Fails (InvalidArgument) on anything that is not a traffic payload: wrong size, magic or version.
Result<TrafficPayload> decode_traffic(std::span<const std::uint8_t> bytes);

// A pause in a flow's deliveries: the last arrival before it and the first after it.
struct Gap {
  std::int64_t start_unix_us = 0;
  std::int64_t end_unix_us = 0;
  std::int64_t length_us() const { return end_unix_us - start_unix_us; }
};

// What a receiver knows about one (origin, flow).
struct FlowStats {
  mesh::NodeId origin = mesh::kNoNode;
  std::uint32_t flow = 0;
  std::uint32_t epoch = 0;
  std::uint32_t interval_us = 0;
  std::uint64_t received = 0;
  std::uint64_t lost = 0;        // holes in the sequence (a late packet later filling one is counted as reordered)
  std::uint64_t reordered = 0;   // seq at or below the highest seen (duplicates included)
  std::uint64_t restarts = 0;    // sender epochs seen after the first
  std::uint64_t last_seq = 0;
  std::int64_t first_arrival_unix_us = 0;
  std::int64_t last_arrival_unix_us = 0;
  std::int64_t last_latency_us = 0;  // arrival - send time (meaningful on one host or with synchronised clocks)
  Gap longest_gap;                   // the longest pause between consecutive deliveries so far
  std::deque<Gap> recent_gaps;       // the last kMaxRecentGaps pauses longer than 2x the nominal interval
};
constexpr std::size_t kMaxRecentGaps = 32;

// Receive-side statistics for every flow that reached this node.
class DeliveryStats {
 public:
  // Records one delivered traffic packet from `origin`.
  void record(mesh::NodeId origin, const TrafficPayload& p, std::int64_t arrival_unix_us);
  // Deliveries that were not traffic payloads (counted, not analysed).
  void record_other() { ++other_; }

  std::vector<FlowStats> flows() const;
  std::uint64_t other() const { return other_; }

 private:
  std::map<std::pair<mesh::NodeId, std::uint32_t>, FlowStats> flows_;
  std::uint64_t other_ = 0;
};

// A flow this node sends.
struct SendFlowStats {
  std::uint32_t flow = 0;
  mesh::NodeId destination = mesh::kNoNode;
  double rate_pps = 0;
  std::uint64_t sent = 0;
};

}  // namespace meshloop::transport
