// libFuzzer target for the wire format. The first input byte selects the mode:
//   even: the rest is a datagram, decoded as a node receives it (size, header and tag checks);
//   odd:  the rest is a body, sealed with a correct tag as packet type (byte >> 1) % 4 + 1, so the fuzzer reaches
//         the TLV parser that authentication would otherwise hide from it.
// Invariants checked (abort on violation): a correctly sealed body is refused only as malformed TLVs; whatever
// decodes re-encodes, decodes again to the same packet, and re-encodes to the same bytes (the encoding is canonical);
// decode_into() with buffers kept across inputs, as a node keeps them, gives exactly what a fresh decode() gives.
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "mesh/wire.h"

namespace {

using meshloop::mesh::AuthKey;
using meshloop::mesh::DecodeError;
using meshloop::mesh::DecodeOutcome;
using meshloop::mesh::PacketType;
namespace wire = meshloop::mesh;

const AuthKey& fuzz_key() {
  static const AuthKey key(std::string("meshloop fuzz key"));
  return key;
}

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "wire_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Header (sender 7, epoch 1, seq 1) + body + tag, written from the layout in wire.h rather than by encode().
std::vector<std::uint8_t> seal(PacketType type, std::span<const std::uint8_t> body) {
  // magic, version, type | sender 7 | epoch 1 | seq 1 | body_len, reserved
  std::vector<std::uint8_t> out = {0x4D, 0x4C, wire::kWireVersion, 0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
  out[3] = static_cast<std::uint8_t>(type);
  out[16] = static_cast<std::uint8_t>(body.size() >> 8);
  out[17] = static_cast<std::uint8_t>(body.size());
  out.insert(out.end(), body.begin(), body.end());
  const auto tag = fuzz_key().tag(out);
  out.insert(out.end(), tag.begin(), tag.end());
  return out;
}

void check_reused_buffers(std::span<const std::uint8_t> datagram, const DecodeOutcome& fresh) {
  static wire::DecodeBuffers buffers;  // kept across inputs: what earlier packets left behind must not leak
  const DecodeOutcome& reused = wire::decode_into(datagram, fuzz_key(), buffers);
  if (reused.ok() != fresh.ok()) fail("decode_into and decode disagree on acceptance", "");
  if (!fresh.ok() && reused.failure->error != fresh.failure->error) fail("decode_into refused for another reason", "");
  if (fresh.ok() && (!(reused.packet == fresh.packet) || reused.unknown_tlvs != fresh.unknown_tlvs)) {
    fail("decode_into with reused buffers differs from decode", "");
  }
}

void check_round_trip(const DecodeOutcome& first) {
  auto bytes = wire::encode(first.packet, fuzz_key());
  if (!bytes.ok()) fail("a decoded packet does not re-encode", bytes.status().to_string());
  const DecodeOutcome second = wire::decode(*bytes, fuzz_key());
  if (!second.ok()) fail("a re-encoded packet does not decode", second.failure->detail);
  if (!(second.packet == first.packet)) fail("the round trip changed the packet", "");
  if (second.unknown_tlvs != 0) fail("encode() wrote an unknown TLV", "");
  auto again = wire::encode(second.packet, fuzz_key());
  if (!again.ok() || *again != *bytes) fail("the encoding is not canonical", "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  DecodeOutcome out;
  if ((data[0] & 1) == 0) {
    out = wire::decode(rest, fuzz_key());
    check_reused_buffers(rest, out);
  } else {
    if (rest.size() > wire::kMaxPacketSize - wire::kHeaderSize - wire::kTagSize) return -1;  // not a sealable body
    const auto type = static_cast<PacketType>((data[0] >> 1) % 4 + 1);
    const auto datagram = seal(type, rest);
    out = wire::decode(datagram, fuzz_key());
    if (!out.ok() && out.failure->error != DecodeError::kMalformedTlv) {
      fail("a correctly sealed body was refused before the TLV parser", out.failure->detail);
    }
    check_reused_buffers(datagram, out);
  }
  if (out.ok()) check_round_trip(out);
  return 0;
}
