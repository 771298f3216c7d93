#include "transport/address.h"

#include <arpa/inet.h>

#include <charconv>

namespace meshloop::transport {
namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view text, bool allow_port_zero, std::string_view default_host) {
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) return Status::InvalidArgument("empty address: expected host:port, e.g. 127.0.0.1:7001");
  std::string host;
  std::string_view port_text;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument(quoted + ": missing ']' after an IPv6 address");
    host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::InvalidArgument(quoted + ": expected [ipv6]:port");
    }
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument(quoted + ": missing ':port' (expected host:port, e.g. 127.0.0.1:7001)");
    }
    if (text.find(':') != colon) {
      return Status::InvalidArgument(quoted + ": IPv6 addresses need brackets, e.g. [::1]:7001");
    }
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (host.empty()) host = std::string(default_host);
  if (host == "localhost") host = "127.0.0.1";
  if (!is_ip_literal(host)) {
    return Status::InvalidArgument(quoted + ": host '" + host +
                                   "' is not a numeric IPv4/IPv6 address (or localhost)");
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    return Status::InvalidArgument(quoted + ": port '" + std::string(port_text) + "' is not a number in 0..65535");
  }
  if (port == 0 && !allow_port_zero) return Status::InvalidArgument(quoted + ": port 0 is not allowed here");
  return HostPort{host, static_cast<std::uint16_t>(port)};
}

std::string to_string(const HostPort& hp) {
  if (hp.host.find(':') != std::string::npos) return "[" + hp.host + "]:" + std::to_string(hp.port);
  return hp.host + ":" + std::to_string(hp.port);
}

bool is_loopback_host(std::string_view host) {
  const std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace meshloop::transport
