// Cost of the wire format on the simulator's hot path: the HMAC tag, and encode/decode of a hello (70 bytes on the
// wire) and of a 200-byte data packet.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "mesh/wire.h"

namespace meshloop::mesh {
namespace {

const AuthKey& bench_key() {
  static const AuthKey key(std::string("meshloop bench key"));
  return key;
}

Packet hello_packet() { return Packet{{PacketType::kHello, 7, 1, 42}, Hello{123456, 1000, 3, 9, 123000, 250, 987}}; }
Packet data_packet() {
  return Packet{{PacketType::kData, 7, 1, 43}, Data{7, 12, 16, {}, {}, std::vector<std::uint8_t>(200, 1)}};
}

void BM_Tag(benchmark::State& state) {
  const std::vector<std::uint8_t> data(static_cast<std::size_t>(state.range(0)), 0xA5);
  for (auto _ : state) benchmark::DoNotOptimize(bench_key().tag(data));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Tag)->Arg(54)->Arg(256)->Arg(1384);  // a hello's header + body, a data packet, the largest packet

void BM_Verify(benchmark::State& state) {
  const std::vector<std::uint8_t> data(54, 0xA5);
  const auto tag = bench_key().tag(data);
  for (auto _ : state) benchmark::DoNotOptimize(bench_key().verify(data, tag));
}
BENCHMARK(BM_Verify);

void BM_EncodeInto(benchmark::State& state, const Packet& packet) {
  std::vector<std::uint8_t> buffer;
  buffer.reserve(kMaxPacketSize);
  for (auto _ : state) {
    if (!encode_into(packet, bench_key(), buffer).ok()) state.SkipWithError("encode failed");
    benchmark::DoNotOptimize(buffer.data());
  }
}
BENCHMARK_CAPTURE(BM_EncodeInto, hello, hello_packet());
BENCHMARK_CAPTURE(BM_EncodeInto, data200, data_packet());

void BM_Decode(benchmark::State& state, const Packet& packet) {
  const std::vector<std::uint8_t> bytes = *encode(packet, bench_key());
  for (auto _ : state) {
    DecodeOutcome out = decode(bytes, bench_key());
    if (!out.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK_CAPTURE(BM_Decode, hello, hello_packet());
BENCHMARK_CAPTURE(BM_Decode, data200, data_packet());

}  // namespace
}  // namespace meshloop::mesh
