#include "sim/traffic.h"

#include "core/rng.h"

namespace meshloop::sim {
namespace {
void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get_u32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}
}  // namespace

std::vector<Flow> make_flows(std::size_t n, int count, double rate, TimePoint start, std::uint64_t seed) {
  Rng rng = Rng::derive(seed, 0x666C6F7700000000ULL);  // "flow"
  std::vector<Flow> out;
  const auto nn = static_cast<std::int64_t>(n);
  const auto interval_us = static_cast<std::int64_t>(1e6 / rate);
  for (int i = 0; i < count; ++i) {
    Flow f;
    f.id = static_cast<std::uint32_t>(i);
    f.src = static_cast<NodeId>(rng.uniform_int(1, nn));
    do {
      f.dst = static_cast<NodeId>(rng.uniform_int(1, nn));
    } while (f.dst == f.src);
    f.rate = rate;
    f.start = start + Duration{rng.uniform_int(0, std::max<std::int64_t>(0, interval_us - 1))};
    out.push_back(f);
  }
  return out;
}

void encode_payload(const PayloadHeader& h, std::span<std::uint8_t> out) {
  put_u32(out.data(), h.flow);
  put_u32(out.data() + 4, h.seq);
  const auto t = static_cast<std::uint64_t>(h.sent.time_since_epoch().count());
  put_u32(out.data() + 8, static_cast<std::uint32_t>(t));
  put_u32(out.data() + 12, static_cast<std::uint32_t>(t >> 32));
}

std::optional<PayloadHeader> decode_payload(std::span<const std::uint8_t> in) {
  if (in.size() < kPayloadHeader) return std::nullopt;
  PayloadHeader h;
  h.flow = get_u32(in.data());
  h.seq = get_u32(in.data() + 4);
  const std::uint64_t t = get_u32(in.data() + 8) | (static_cast<std::uint64_t>(get_u32(in.data() + 12)) << 32);
  h.sent = TimePoint{Duration{static_cast<std::int64_t>(t)}};
  return h;
}

}  // namespace meshloop::sim
