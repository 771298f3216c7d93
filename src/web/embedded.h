// The files under web/, embedded into the binary at build time (cmake/EmbedFiles.cmake generates the definition).
// Thread-safety: immutable data.
#pragma once

#include <string_view>
#include <vector>

namespace meshloop::web {

struct EmbeddedFile {
  std::string_view path;  // relative to web/, e.g. "status.js"
  std::string_view bytes;
};

const std::vector<EmbeddedFile>& embedded_files();

}  // namespace meshloop::web
