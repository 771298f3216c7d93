#include "ml/model_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

namespace meshloop::ml {
namespace {

constexpr char kMagic[8] = {'M', 'L', 'G', 'S', 'A', 'G', 'E', '\n'};

std::array<std::uint32_t, 256> crc_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}
void put_f32(std::string& out, float f) { put_u32(out, std::bit_cast<std::uint32_t>(f)); }

std::uint32_t get_u32(std::string_view in, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}
std::uint64_t get_u64(std::string_view in, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}
float get_f32(std::string_view in, std::size_t at) { return std::bit_cast<float>(get_u32(in, at)); }

std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::size_t normaliser_floats() { return 2 * kNodeFeatureCount + 2 * kEdgeFeatureCount; }

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc) {
  static const std::array<std::uint32_t, 256> table = crc_table();
  crc = ~crc;
  for (char ch : bytes) crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

std::string encode_model(const GraphSage& model) {
  std::string payload;
  const Normaliser& n = model.normaliser();
  for (float f : n.node_mean) put_f32(payload, f);
  for (float f : n.node_scale) put_f32(payload, f);
  for (float f : n.edge_mean) put_f32(payload, f);
  for (float f : n.edge_scale) put_f32(payload, f);
  for (float f : model.parameters()) put_f32(payload, f);

  std::string out(kMagic, sizeof kMagic);
  put_u32(out, kModelFormatVersion);
  put_u32(out, kFeatureSchemaVersion);
  put_u32(out, static_cast<std::uint32_t>(kNodeFeatureCount));
  put_u32(out, static_cast<std::uint32_t>(kEdgeFeatureCount));
  put_u32(out, model.shape().hidden);
  put_u32(out, model.shape().edge_hidden);
  put_u64(out, payload.size());
  put_u32(out, crc32c(out));
  out += payload;
  put_u32(out, crc32c(payload));
  return out;
}

Result<GraphSage> decode_model(std::string_view bytes) {
  if (bytes.size() < kModelHeaderBytes) {
    return Status::Corruption("model file is " + std::to_string(bytes.size()) + " bytes, shorter than its " +
                              std::to_string(kModelHeaderBytes) + "-byte header");
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return Status::Corruption("not a meshloop GraphSAGE model file (bad magic)");
  }
  const std::uint32_t version = get_u32(bytes, 8);
  if (version != kModelFormatVersion) {
    return Status::FailedPrecondition("model file format version " + std::to_string(version) +
                                      "; this build reads version " + std::to_string(kModelFormatVersion));
  }
  const std::uint32_t stored_header_crc = get_u32(bytes, 40);
  const std::uint32_t header_crc = crc32c(bytes.substr(0, 40));
  if (stored_header_crc != header_crc) {
    return Status::Corruption("model file header checksum mismatch (stored " + hex(stored_header_crc) +
                              ", computed " + hex(header_crc) + ")");
  }
  const std::uint32_t schema = get_u32(bytes, 12), node_features = get_u32(bytes, 16),
                      edge_features = get_u32(bytes, 20);
  if (schema != kFeatureSchemaVersion || node_features != kNodeFeatureCount || edge_features != kEdgeFeatureCount) {
    return Status::FailedPrecondition(
        "model was trained on feature schema v" + std::to_string(schema) + " (" + std::to_string(node_features) +
        " node, " + std::to_string(edge_features) + " edge features); this build uses v" +
        std::to_string(kFeatureSchemaVersion) + " (" + std::to_string(kNodeFeatureCount) + " node, " +
        std::to_string(kEdgeFeatureCount) + " edge features)");
  }
  const GraphSage::Shape shape{get_u32(bytes, 24), get_u32(bytes, 28)};
  if (shape.hidden == 0 || shape.edge_hidden == 0 || shape.hidden > 4096 || shape.edge_hidden > 4096) {
    return Status::Corruption("model file shape out of range (hidden " + std::to_string(shape.hidden) +
                              ", edge_hidden " + std::to_string(shape.edge_hidden) + ")");
  }
  const std::uint64_t payload_bytes = get_u64(bytes, 32);
  const std::uint64_t present = bytes.size() - kModelHeaderBytes;
  if (present < 4 || payload_bytes != present - 4) {
    return Status::Corruption("model file truncated or padded: header announces " + std::to_string(payload_bytes) +
                              " payload bytes + 4-byte checksum, file holds " + std::to_string(present) +
                              " bytes after the header");
  }
  const std::string_view payload = bytes.substr(kModelHeaderBytes, payload_bytes);
  const std::uint32_t stored_crc = get_u32(bytes, kModelHeaderBytes + payload_bytes);
  const std::uint32_t crc = crc32c(payload);
  if (stored_crc != crc) {
    return Status::Corruption("model file payload checksum mismatch (stored " + hex(stored_crc) + ", computed " +
                              hex(crc) + ")");
  }
  const auto layout = detail::Layout::of(kNodeFeatureCount, kEdgeFeatureCount, shape.hidden, shape.edge_hidden);
  const std::uint64_t expected = 4 * (normaliser_floats() + layout.size);
  if (payload_bytes != expected) {
    return Status::Corruption("model file payload is " + std::to_string(payload_bytes) + " bytes; shape (hidden " +
                              std::to_string(shape.hidden) + ", edge_hidden " + std::to_string(shape.edge_hidden) +
                              ") needs " + std::to_string(expected));
  }
  std::size_t at = 0;
  auto next = [&]() {
    const float f = get_f32(payload, at);
    at += 4;
    return f;
  };
  Normaliser n;
  for (float& f : n.node_mean) f = next();
  for (float& f : n.node_scale) f = next();
  for (float& f : n.edge_mean) f = next();
  for (float& f : n.edge_scale) f = next();
  for (std::size_t i = 0; i < kNodeFeatureCount; ++i) {
    if (!std::isfinite(n.node_mean[i]) || !(n.node_scale[i] > 0) || !std::isfinite(n.node_scale[i])) {
      return Status::Corruption("model file: normaliser of node feature '" +
                                std::string(node_feature_info()[i].name) + "' is not finite and positive");
    }
  }
  for (std::size_t i = 0; i < kEdgeFeatureCount; ++i) {
    if (!std::isfinite(n.edge_mean[i]) || !(n.edge_scale[i] > 0) || !std::isfinite(n.edge_scale[i])) {
      return Status::Corruption("model file: normaliser of edge feature '" +
                                std::string(edge_feature_info()[i].name) + "' is not finite and positive");
    }
  }
  std::vector<float> params(layout.size);
  for (std::size_t i = 0; i < params.size(); ++i) {
    params[i] = next();
    if (!std::isfinite(params[i])) {
      return Status::Corruption("model file: parameter " + std::to_string(i) + " is not finite");
    }
  }
  return GraphSage::from_parameters(shape, n, std::move(params));
}

Status save_model(const GraphSage& model, const std::string& path) {
  const std::string bytes = encode_model(model);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("save model: open " + tmp + ": " + errno_text(errno));
  auto fail = [&](const std::string& step, int err) {
    ::unlink(tmp.c_str());
    return Status::IoError("save model: " + step + ": " + errno_text(err));
  };
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return fail("write " + tmp, err);
    }
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return fail("fsync " + tmp, err);
  }
  if (::close(fd) != 0) return fail("close " + tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename " + tmp + " to " + path, errno);
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Status::IoError("save model: open directory " + dir + ": " + errno_text(errno));
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0) return Status::IoError("save model: fsync directory " + dir + ": " + errno_text(err));
  return Status::Ok();
}

Result<GraphSage> load_model(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound("model file " + path + " does not exist");
    return Status::IoError("load model: open " + path + ": " + errno_text(err));
  }
  std::string bytes;
  char buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Status::IoError("load model: read " + path + ": " + errno_text(err));
    }
    if (r == 0) break;
    bytes.append(buf, static_cast<std::size_t>(r));
  }
  ::close(fd);
  Result<GraphSage> model = decode_model(bytes);
  if (!model.ok()) {
    const Status s = model.status();
    const std::string msg = path + ": " + s.message();
    return s.code() == StatusCode::kCorruption ? Status::Corruption(msg) : Status::FailedPrecondition(msg);
  }
  return model;
}

}  // namespace meshloop::ml
