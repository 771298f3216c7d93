// Crash-safe files for the knowledge base: a sectioned container with CRC-32C per section and over the whole file,
// written to a temporary file, fsync'ed, renamed over the target and the directory fsync'ed. A crash at any point
// leaves either the old file or the new one; a truncated or altered file fails decode() with Corruption and a
// message naming what failed, and is never used.
// Thread-safety: pure functions; concurrent writers to one path must be serialised by the caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace meshloop::rag {

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);

struct Section {
  std::uint32_t tag = 0;  // four ASCII letters, e.g. 'META'
  std::string bytes;
};

constexpr std::uint32_t section_tag(const char (&s)[5]) {
  return static_cast<std::uint32_t>(s[0]) << 24 | static_cast<std::uint32_t>(s[1]) << 16 |
         static_cast<std::uint32_t>(s[2]) << 8 | static_cast<std::uint32_t>(s[3]);
}

std::string encode_container(const std::vector<Section>& sections);
// Corruption when the magic, a length, a checksum or the trailer does not verify.
Result<std::vector<Section>> decode_container(std::string_view bytes);

// temp file in the same directory, write, fsync, rename, fsync the directory. IoError names the failing step.
Status write_file_atomically(const std::string& path, std::string_view bytes);
// NotFound when absent, IoError when unreadable.
Result<std::string> read_file(const std::string& path);

}  // namespace meshloop::rag
