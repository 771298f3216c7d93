#include "rag/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace meshloop::rag {

namespace {
constexpr char kMagic[8] = {'M', 'L', 'K', 'B', 'F', 'I', 'L', 'E'};
constexpr char kTrailer[8] = {'M', 'L', 'K', 'B', 'E', 'N', 'D', '1'};
constexpr std::uint32_t kVersion = 1;

const std::array<std::uint32_t, 256>& crc_table() {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <typename T>
bool get(std::string_view in, std::size_t& pos, T& v) {
  if (in.size() - pos < sizeof(T)) return false;
  std::memcpy(&v, in.data() + pos, sizeof(T));
  pos += sizeof(T);
  return true;
}
std::string tag_name(std::uint32_t tag) {
  std::string s(4, ' ');
  for (int i = 0; i < 4; ++i) {
    char c = static_cast<char>((tag >> (24 - 8 * i)) & 0xff);
    s[static_cast<std::size_t>(i)] = (c >= 32 && c < 127) ? c : '?';
  }
  return s;
}
}  // namespace

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc) {
  const auto& t = crc_table();
  crc = ~crc;
  for (char ch : bytes) crc = t[(crc ^ static_cast<unsigned char>(ch)) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::string encode_container(const std::vector<Section>& sections) {
  std::string out(kMagic, sizeof(kMagic));
  put(out, kVersion);
  put(out, static_cast<std::uint32_t>(sections.size()));
  for (const auto& s : sections) {
    put(out, s.tag);
    put(out, static_cast<std::uint64_t>(s.bytes.size()));
    put(out, crc32c(s.bytes));
    out += s.bytes;
  }
  put(out, crc32c(out));
  out.append(kTrailer, sizeof(kTrailer));
  return out;
}

Result<std::vector<Section>> decode_container(std::string_view in) {
  constexpr std::size_t kMin = sizeof(kMagic) + 8 + 4 + sizeof(kTrailer);
  if (in.size() < kMin) {
    return Status::Corruption("file is " + std::to_string(in.size()) + " bytes, shorter than an empty container (" +
                              std::to_string(kMin) + "): truncated");
  }
  if (std::memcmp(in.data(), kMagic, sizeof(kMagic)) != 0) return Status::Corruption("not a knowledge-base file (bad magic)");
  if (std::memcmp(in.data() + in.size() - sizeof(kTrailer), kTrailer, sizeof(kTrailer)) != 0) {
    return Status::Corruption("trailer missing: the file is truncated or was not completely written");
  }
  const std::size_t body_end = in.size() - sizeof(kTrailer) - 4;
  std::uint32_t file_crc = 0;
  std::memcpy(&file_crc, in.data() + body_end, 4);
  if (crc32c(in.substr(0, body_end)) != file_crc) return Status::Corruption("file checksum mismatch: contents altered");
  std::size_t pos = sizeof(kMagic);
  std::uint32_t version = 0, count = 0;
  get(in, pos, version);
  get(in, pos, count);
  if (version != kVersion) return Status::Corruption("unsupported file version " + std::to_string(version));
  std::vector<Section> sections;
  const std::string_view body = in.substr(0, body_end);
  for (std::uint32_t i = 0; i < count; ++i) {
    Section s;
    std::uint64_t len = 0;
    std::uint32_t crc = 0;
    if (!get(body, pos, s.tag) || !get(body, pos, len) || !get(body, pos, crc) || len > body.size() - pos) {
      return Status::Corruption("section " + std::to_string(i) + " runs past the end of the file");
    }
    s.bytes.assign(body.data() + pos, static_cast<std::size_t>(len));
    pos += static_cast<std::size_t>(len);
    if (crc32c(s.bytes) != crc) return Status::Corruption("section " + tag_name(s.tag) + " checksum mismatch");
    sections.push_back(std::move(s));
  }
  if (pos != body.size()) return Status::Corruption("trailing bytes after the last section");
  return sections;
}

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("open " + tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::IoError("write " + tmp + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::IoError("fsync " + tmp + ": " + std::strerror(err));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::IoError("rename " + tmp + " -> " + path + ": " + std::strerror(err));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    const int rc = ::fsync(dfd);
    const int err = errno;
    ::close(dfd);
    if (rc != 0) return Status::IoError("fsync directory " + dir.string() + ": " + std::strerror(err));
  }
  return Status::Ok();
}

Result<std::string> read_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::NotFound("no such file: " + path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot open " + path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IoError("cannot read " + path);
  return bytes;
}

}  // namespace meshloop::rag
