#include "trace/context.h"

#include <gtest/gtest.h>

#include <string>

namespace meshloop::trace {
namespace {

const std::string kParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(TraceContextTest, MeshBytesRoundTrip) {
  auto ctx = decode_context(bytes(kParent + "\nvendor=abc"));
  ASSERT_TRUE(ctx.IsValid());
  EXPECT_TRUE(ctx.IsRemote());
  EXPECT_TRUE(ctx.IsSampled());
  EXPECT_EQ(traceparent(ctx), kParent);
  const auto again = encode_context(ctx);
  EXPECT_EQ(std::string(again.begin(), again.end()), kParent + "\nvendor=abc");
}

TEST(TraceContextTest, MalformedBytesGiveAnInvalidContext) {
  for (const std::string& bad : {std::string(""), std::string("garbage"), std::string("00-xyz-b7ad6b7169203331-01"),
                                 std::string("00-00000000000000000000000000000000-b7ad6b7169203331-01")}) {
    EXPECT_FALSE(decode_context(bytes(bad)).IsValid()) << bad;
  }
  EXPECT_TRUE(encode_context(otel_trace::SpanContext::GetInvalid()).empty());
}

TEST(TraceContextTest, HttpHeadersRoundTrip) {
  std::map<std::string, std::string> in{{"traceparent", kParent}, {"tracestate", "a=1"}, {"host", "x"}};
  auto ctx = extract_http(in);
  ASSERT_TRUE(ctx.IsValid());
  std::map<std::string, std::string> out;
  inject_http(ctx, out);
  EXPECT_EQ(out.at("traceparent"), kParent);
  EXPECT_EQ(out.at("tracestate"), "a=1");
  EXPECT_FALSE(extract_http({{"host", "x"}}).IsValid());
}

}  // namespace
}  // namespace meshloop::trace
