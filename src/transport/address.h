// Text addresses as operators write them ("127.0.0.1:7001", "[::1]:7001", "localhost:7001") turned into socket
// endpoints, with a precise error for every way they can be wrong.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace meshloop::transport {

// A host and port as written; the host is a numeric IPv4/IPv6 address or "localhost" (no DNS in the daemon: a
// mesh node must not stall on a resolver, and peers are configured by address).
struct HostPort {
  std::string host;  // "127.0.0.1", "::1" (without brackets)
  std::uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

// Parses "host:port", "[v6]:port" or ":port" (host defaults to `default_host`). Port 0 is allowed only when
// `allow_port_zero` (listen addresses: "any free port"). "localhost" becomes 127.0.0.1.
Result<HostPort> parse_host_port(std::string_view text, bool allow_port_zero = false,
                                 std::string_view default_host = "127.0.0.1");

// "127.0.0.1:7001" or "[::1]:7001".
std::string to_string(const HostPort& hp);

// True for 127.0.0.0/8 and ::1 (and ::ffff:127.x.y.z).
bool is_loopback_host(std::string_view host);

}  // namespace meshloop::transport
