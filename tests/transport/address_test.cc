#include "transport/address.h"

#include <gtest/gtest.h>

namespace meshloop::transport {
namespace {

TEST(AddressTest, ParsesIpv4AndBracketedIpv6) {
  EXPECT_EQ(parse_host_port("127.0.0.1:7001").value(), (HostPort{"127.0.0.1", 7001}));
  EXPECT_EQ(parse_host_port("[::1]:9").value(), (HostPort{"::1", 9}));
  EXPECT_EQ(parse_host_port("localhost:80").value(), (HostPort{"127.0.0.1", 80}));
}

TEST(AddressTest, EmptyHostTakesTheDefault) {
  EXPECT_EQ(parse_host_port(":7001").value(), (HostPort{"127.0.0.1", 7001}));
  EXPECT_EQ(parse_host_port(":7001", false, "0.0.0.0").value(), (HostPort{"0.0.0.0", 7001}));
}

TEST(AddressTest, PortZeroOnlyWhereAllowed) {
  EXPECT_FALSE(parse_host_port("127.0.0.1:0").ok());
  EXPECT_TRUE(parse_host_port("127.0.0.1:0", true).ok());
}

TEST(AddressTest, RejectsMalformedAddressesWithTheReason) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:12ab", "::1:7001",
                          "[::1]7001", "[::1:7001", "example.com:7001", "300.1.1.1:5"}) {
    auto r = parse_host_port(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  EXPECT_NE(parse_host_port("::1:7001").status().message().find("brackets"), std::string::npos);
  EXPECT_NE(parse_host_port("example.com:1").status().message().find("numeric"), std::string::npos);
}

TEST(AddressTest, FormatsRoundTrip) {
  for (const char* text : {"127.0.0.1:7001", "[::1]:7001"}) {
    EXPECT_EQ(to_string(parse_host_port(text).value()), text);
  }
}

TEST(AddressTest, KnowsLoopback) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.3.2.1"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("::ffff:127.0.0.1"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(is_loopback_host("::ffff:10.0.0.1"));
  EXPECT_FALSE(is_loopback_host("not-an-address"));
}

}  // namespace
}  // namespace meshloop::transport
