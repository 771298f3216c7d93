// Writes wire_fuzz's seed corpus: valid packets of every type (with and without the optional TLVs), each once as a
// datagram (mode byte 0) and once as a bare body to be sealed (mode byte 2 * (type - 1) + 1).
// Usage: wire_fuzz_seeds <dir>   (the directory must exist or be creatable)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mesh/wire.h"

namespace wire = meshloop::mesh;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  const wire::AuthKey key(std::string("meshloop fuzz key"));  // the key wire_fuzz uses

  std::vector<wire::Packet> packets;
  packets.push_back({{wire::PacketType::kHello, 7, 1, 1}, wire::Hello{123456, 1000, 3, 9, 123000, 250, 987}});
  packets.push_back(
      {{wire::PacketType::kLsaUpdate, 7, 1, 2},
       wire::LsaUpdate{{wire::Lsa{7, 5, 0, {{8, 100}, {9, 250}}}, wire::Lsa{8, 2, wire::kLsaFlagAvoidTransit, {}}}}});
  packets.push_back({{wire::PacketType::kLsaAck, 7, 1, 3}, wire::LsaAck{{{7, 5}, {8, 2}}}});
  packets.push_back({{wire::PacketType::kData, 7, 1, 4}, wire::Data{7, 12, 16, {}, {}, {'h', 'i'}}});
  const std::string traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  packets.push_back({{wire::PacketType::kData, 7, 1, 5},
                     wire::Data{7, 12, 15, {3, 4, 12}, {traceparent.begin(), traceparent.end()}, {1, 2, 3, 4}}});

  int n = 0;
  for (const wire::Packet& p : packets) {
    auto bytes = wire::encode(p, key);
    if (!bytes.ok()) {
      std::fprintf(stderr, "seed %d does not encode: %s\n", n, bytes.status().to_string().c_str());
      return 1;
    }
    const auto type = static_cast<std::uint8_t>(std::visit(
        [](const auto& body) {
          using T = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<T, wire::Hello>) return wire::PacketType::kHello;
          if constexpr (std::is_same_v<T, wire::LsaUpdate>) return wire::PacketType::kLsaUpdate;
          if constexpr (std::is_same_v<T, wire::LsaAck>) return wire::PacketType::kLsaAck;
          return wire::PacketType::kData;
        },
        p.body));
    std::vector<std::uint8_t> datagram = {0};
    datagram.insert(datagram.end(), bytes->begin(), bytes->end());
    std::vector<std::uint8_t> body = {static_cast<std::uint8_t>(2 * (type - 1) + 1)};
    body.insert(body.end(), bytes->begin() + wire::kHeaderSize, bytes->end() - wire::kTagSize);
    for (const auto& seed : {datagram, body}) {
      std::ofstream out(dir / ("seed-" + std::to_string(n++)), std::ios::binary);
      out.write(reinterpret_cast<const char*>(seed.data()), static_cast<std::streamsize>(seed.size()));
    }
  }
  std::printf("wrote %d seeds to %s\n", n, dir.c_str());
  return 0;
}
