// A small blocking HTTP client for talking to nodes' APIs (the demo, the integration tests, operators' tools).
// Thread-safety: free functions; each call opens its own connection.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

#include "core/result.h"

namespace meshloop::api {

struct HttpReply {
  int status = 0;
  std::string body;
};

// Unavailable when the connection fails or times out; any HTTP status is a reply.
Result<HttpReply> http_get(const std::string& host, int port, const std::string& path,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
                           const std::string& token = "");
Result<HttpReply> http_post(const std::string& host, int port, const std::string& path, const std::string& json_body,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
                            const std::string& token = "");

// GET /api/v1/status of the node whose API listens on host:port, parsed.
Result<nlohmann::json> get_status(const std::string& host, int port,
                                  std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
// POST /api/v1/faults/drop {"peer": peer, "drop": drop}; peer is a node id or "host:port".
Status set_drop(const std::string& host, int port, const std::string& peer, bool drop, const std::string& token = "",
                std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

}  // namespace meshloop::api
