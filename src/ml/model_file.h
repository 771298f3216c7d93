// The GraphSAGE model file: versioned, checksummed, written crash-safely.
//
// Layout (little-endian; docs/decisions/0013-anomaly-detection.md):
//   header  (44 bytes) magic "MLGSAGE\n" | u32 format version | u32 feature schema version | u32 node features |
//                      u32 edge features | u32 hidden | u32 edge_hidden | u64 payload bytes | u32 CRC-32C of the above
//   payload            normaliser (node mean, node scale, edge mean, edge scale) | parameters, all float32
//   trailer (4 bytes)  u32 CRC-32C of the payload
// A file that fails any check is refused with a Status naming the check: Corruption for damaged bytes (magic,
// checksums, sizes, non-finite values), FailedPrecondition for a sound file this build cannot use (another format
// version, or a model trained on another feature schema). Encoding is a pure function of the model, so the same
// model always gives the same bytes.
// Thread-safety: pure functions; concurrent writers to one path must be serialised by the caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "ml/graphsage.h"

namespace meshloop::ml {

constexpr std::uint32_t kModelFormatVersion = 1;
constexpr std::size_t kModelHeaderBytes = 44;

// CRC-32C (Castagnoli), the checksum of the model file.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);

std::string encode_model(const GraphSage& model);
Result<GraphSage> decode_model(std::string_view bytes);

// Writes `path + ".tmp"`, fsyncs it, renames it over `path` and fsyncs the directory: a crash leaves the old file or
// the new one, never a mix. IoError names the failing step and path; the temporary file is removed on failure.
Status save_model(const GraphSage& model, const std::string& path);
// NotFound when absent, IoError when unreadable, otherwise decode_model's verdict prefixed with the path.
Result<GraphSage> load_model(const std::string& path);

}  // namespace meshloop::ml
