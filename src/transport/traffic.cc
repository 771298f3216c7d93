#include "transport/traffic.h"

#include <charconv>
#include <cmath>
#include <string>

#include "core/config.h"

namespace meshloop::transport {
namespace {

constexpr std::uint32_t kTrafficMagic = 0x4D4C5446;  // "MLTF"
constexpr std::uint8_t kTrafficVersion = 1;

void put(std::vector<std::uint8_t>& out, std::size_t at, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[at + i] = static_cast<std::uint8_t>(v >> (8 * (bytes - 1 - i)));
}
std::uint64_t get(std::span<const std::uint8_t> in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | in[at + i];
  return v;
}

}  // namespace

Result<TrafficSpec> parse_traffic_spec(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument(quoted + ": expected DST_ID:RATE, e.g. 4:20 (20 packets/s to node 4)");
  }
  auto id = parse_int(text.substr(0, colon));
  if (!id.ok() || *id <= 0 || *id > 0xFFFFFFFFLL) {
    return Status::InvalidArgument(quoted + ": destination '" + std::string(text.substr(0, colon)) +
                                   "' is not a node id (1..4294967295)");
  }
  auto rate = parse_double(text.substr(colon + 1));
  if (!rate.ok() || !(*rate > 0) || *rate > 10000) {
    return Status::InvalidArgument(quoted + ": rate '" + std::string(text.substr(colon + 1)) +
                                   "' is not a number of packets per second in (0, 10000]");
  }
  return TrafficSpec{static_cast<mesh::NodeId>(*id), *rate};
}

std::vector<std::uint8_t> encode_traffic(const TrafficPayload& p, std::size_t padded_size) {
  std::vector<std::uint8_t> out(std::max(padded_size, kTrafficPayloadSize), 0);
  put(out, 0, kTrafficMagic, 4);
  out[4] = kTrafficVersion;
  put(out, 8, p.flow, 4);
  put(out, 12, p.epoch, 4);
  put(out, 16, p.seq, 8);
  put(out, 24, static_cast<std::uint64_t>(p.sent_unix_us), 8);
  put(out, 32, p.interval_us, 4);
  return out;
}

Result<TrafficPayload> decode_traffic(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kTrafficPayloadSize) {
    return Status::InvalidArgument("traffic payload of " + std::to_string(bytes.size()) + " bytes is shorter than " +
                                   std::to_string(kTrafficPayloadSize));
  }
  if (get(bytes, 0, 4) != kTrafficMagic) return Status::InvalidArgument("not a traffic payload (magic)");
  if (bytes[4] != kTrafficVersion) {
    return Status::InvalidArgument("traffic payload version " + std::to_string(bytes[4]) + " is not supported");
  }
  TrafficPayload p;
  p.flow = static_cast<std::uint32_t>(get(bytes, 8, 4));
  p.epoch = static_cast<std::uint32_t>(get(bytes, 12, 4));
  p.seq = get(bytes, 16, 8);
  p.sent_unix_us = static_cast<std::int64_t>(get(bytes, 24, 8));
  p.interval_us = static_cast<std::uint32_t>(get(bytes, 32, 4));
  return p;
}

void DeliveryStats::record(mesh::NodeId origin, const TrafficPayload& p, std::int64_t arrival_unix_us) {
  auto [it, inserted] = flows_.try_emplace({origin, p.flow});
  FlowStats& f = it->second;
  if (inserted) {
    f.origin = origin;
    f.flow = p.flow;
    f.epoch = p.epoch;
    f.first_arrival_unix_us = arrival_unix_us;
    f.last_seq = p.seq;
  } else {
    const std::int64_t gap = arrival_unix_us - f.last_arrival_unix_us;
    if (gap > f.longest_gap.length_us()) f.longest_gap = Gap{f.last_arrival_unix_us, arrival_unix_us};
    const std::int64_t nominal = p.interval_us > 0 ? p.interval_us : 100000;
    if (gap > 2 * nominal) {
      f.recent_gaps.push_back(Gap{f.last_arrival_unix_us, arrival_unix_us});
      if (f.recent_gaps.size() > kMaxRecentGaps) f.recent_gaps.pop_front();
    }
    if (p.epoch != f.epoch) {  // the sender restarted: its sequence starts over
      ++f.restarts;
      f.epoch = p.epoch;
      f.last_seq = p.seq;
    } else if (p.seq > f.last_seq) {
      f.lost += p.seq - f.last_seq - 1;
      f.last_seq = p.seq;
    } else {
      ++f.reordered;
      if (f.lost > 0) --f.lost;  // it was counted as a hole when the later packet came first
    }
  }
  ++f.received;
  f.interval_us = p.interval_us;
  f.last_arrival_unix_us = arrival_unix_us;
  f.last_latency_us = arrival_unix_us - p.sent_unix_us;
}

std::vector<FlowStats> DeliveryStats::flows() const {
  std::vector<FlowStats> out;
  out.reserve(flows_.size());
  for (const auto& kv : flows_) out.push_back(kv.second);
  return out;
}

}  // namespace meshloop::transport
