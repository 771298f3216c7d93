#include "baseline/batman_wire.h"

#include <cassert>
#include <string>

namespace meshloop::baseline {
namespace {

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void append_mac(std::vector<std::uint8_t>& out, NodeId id) {
  const std::size_t at = out.size();
  out.resize(at + kMacLen);
  baseline::put_mac(out.data() + at, id);
}

std::uint16_t get_u16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t get_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}
// kNoNode when the MAC is not 02:00:<non-zero id>.
NodeId get_mac(const std::uint8_t* p) {
  if (p[0] != 0x02 || p[1] != 0x00) return mesh::kNoNode;
  return get_u32(p + 2);
}

Status malformed(const char* why) { return Status::Corruption(std::string("batman frame: ") + why); }

}  // namespace

void put_mac(std::uint8_t* out, NodeId id) {
  out[0] = 0x02;  // locally administered, unicast
  out[1] = 0x00;
  for (int i = 0; i < 4; ++i) out[2 + i] = static_cast<std::uint8_t>(id >> (24 - 8 * i));
}

void append_ogm(std::vector<std::uint8_t>& out, const Ogm& ogm) {
  out.push_back(kBatadvIvOgm);
  out.push_back(kBatadvCompatVersion);
  out.push_back(ogm.ttl);
  out.push_back(ogm.flags);
  put_u32(out, ogm.seqno);
  append_mac(out, ogm.orig);
  append_mac(out, ogm.prev_sender);
  out.push_back(0);  // reserved
  out.push_back(ogm.tq);
  put_u16(out, ogm.tvlv_len);
  out.resize(out.size() + ogm.tvlv_len, 0);
}

std::vector<std::uint8_t> encode_ogm_frame(NodeId sender, std::span<const Ogm> ogms) {
  assert(!ogms.empty() && ogms.size() <= kMaxAggregationPackets);
  std::vector<std::uint8_t> out;
  out.reserve(kLinkHeaderLen + ogms.size() * kOgmHeaderLen);
  append_mac(out, sender);
  for (const Ogm& o : ogms) append_ogm(out, o);
  return out;
}

std::vector<std::uint8_t> encode_unicast_frame(NodeId sender, const UnicastData& d) {
  std::vector<std::uint8_t> out;
  out.reserve(kLinkHeaderLen + kUnicastHeaderLen + kEthHeaderLen + d.payload.size());
  append_mac(out, sender);
  out.push_back(kBatadvUnicast);
  out.push_back(kBatadvCompatVersion);
  out.push_back(d.ttl);
  out.push_back(d.ttvn);
  append_mac(out, d.dest);
  append_mac(out, d.dest);    // client frame: destination
  append_mac(out, d.source);  // client frame: source
  put_u16(out, kEtherTypeIpv4);
  out.insert(out.end(), d.payload.begin(), d.payload.end());
  return out;
}

Result<Frame> decode_frame(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kLinkHeaderLen + 2) return malformed("shorter than h_source and a packet header");
  Frame f;
  f.sender = get_mac(bytes.data());
  if (f.sender == mesh::kNoNode) return malformed("h_source is not a mesh address");
  const std::span<const std::uint8_t> body = bytes.subspan(kLinkHeaderLen);
  if (body[1] != kBatadvCompatVersion) return malformed("unsupported compat version");
  if (body[0] == kBatadvIvOgm) {
    f.is_ogm = true;
    std::size_t pos = 0;
    // batadv_iv_ogm_aggr_packet(): the next OGM must fit in the packet and within BATADV_MAX_AGGREGATION_BYTES.
    while (pos < body.size()) {
      if (body.size() - pos < kOgmHeaderLen) return malformed("truncated OGM");
      const std::uint8_t* p = body.data() + pos;
      if (p[0] != kBatadvIvOgm || p[1] != kBatadvCompatVersion) return malformed("bad OGM in aggregate");
      Ogm o;
      o.ttl = p[2];
      o.flags = p[3];
      o.seqno = get_u32(p + 4);
      o.orig = get_mac(p + 8);
      o.prev_sender = get_mac(p + 14);
      o.tq = p[21];
      o.tvlv_len = get_u16(p + 22);
      if (o.orig == mesh::kNoNode || o.prev_sender == mesh::kNoNode) return malformed("OGM address not ours");
      const std::size_t next = pos + kOgmHeaderLen + o.tvlv_len;
      if (next > body.size()) return malformed("OGM TVLV beyond the frame");
      if (next > kMaxAggregationBytes) return malformed("aggregate beyond BATADV_MAX_AGGREGATION_BYTES");
      if (f.ogms.size() == kMaxAggregationPackets) return malformed("more than BATADV_MAX_AGGREGATION_PACKETS");
      f.ogms.push_back(o);
      pos = next;
    }
    return f;
  }
  if (body[0] == kBatadvUnicast) {
    if (body.size() < kUnicastHeaderLen + kEthHeaderLen) return malformed("truncated unicast packet");
    const std::uint8_t* p = body.data();
    f.data.ttl = p[2];
    f.data.ttvn = p[3];
    f.data.dest = get_mac(p + 4);
    f.data.source = get_mac(p + kUnicastHeaderLen + kMacLen);
    if (f.data.dest == mesh::kNoNode || f.data.source == mesh::kNoNode) return malformed("unicast address not ours");
    f.data.payload.assign(body.begin() + static_cast<std::ptrdiff_t>(kUnicastHeaderLen + kEthHeaderLen), body.end());
    return f;
  }
  return malformed("unknown packet type");
}

}  // namespace meshloop::baseline
