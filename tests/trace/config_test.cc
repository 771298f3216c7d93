#include "trace/config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace meshloop::trace {
namespace {

struct FakeEnv {
  std::map<std::string, std::string> vars;
  GetEnv fn() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

TEST(TracingConfigTest, DefaultsWithNothingSet) {
  FakeEnv env;
  auto c = config_from_env(env.fn(), TracingConfig{}, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->disabled);
  EXPECT_EQ(c->service_name, "meshloop");
  EXPECT_TRUE(c->endpoint.empty());
  EXPECT_EQ(c->sampler, SamplerKind::kParentBasedAlwaysOn);
}

TEST(TracingConfigTest, ReadsTheStandardVariables) {
  FakeEnv env{{{"OTEL_SERVICE_NAME", "mesh-a"},
               {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=lab,team=net%20ops"},
               {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/"},
               {"OTEL_EXPORTER_OTLP_HEADERS", "x-token=abc"},
               {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2500"},
               {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
               {"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
               {"OTEL_TRACES_SAMPLER_ARG", "0.01"}}};
  auto c = config_from_env(env.fn(), TracingConfig{}, nullptr);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->service_name, "mesh-a");
  ASSERT_EQ(c->resource_attributes.size(), 2u);
  EXPECT_EQ(c->resource_attributes[1].second, "net ops");
  EXPECT_EQ(c->endpoint, "http://127.0.0.1:4318/v1/traces");  // base URL + signal path
  EXPECT_EQ(c->headers.at("x-token"), "abc");
  EXPECT_EQ(c->timeout.count(), 2500);
  EXPECT_EQ(c->protocol, Protocol::kHttpJson);
  EXPECT_EQ(c->sampler, SamplerKind::kParentBasedTraceIdRatio);
  EXPECT_DOUBLE_EQ(c->sampler_ratio, 0.01);
}

TEST(TracingConfigTest, TracesEndpointIsUsedAsIsAndWinsOverTheBase) {
  FakeEnv env{{{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"},
               {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4318/custom/path"}}};
  auto c = config_from_env(env.fn(), TracingConfig{}, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "http://b:4318/custom/path");
}

TEST(TracingConfigTest, SdkDisabled) {
  FakeEnv env{{{"OTEL_SDK_DISABLED", "TRUE"}}};
  auto c = config_from_env(env.fn(), TracingConfig{}, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->disabled);
}

TEST(TracingConfigTest, LegacyVariablesAreHonouredWithANoticeNamingTheStandardOne) {
  FakeEnv env{{{"OTEL_ENABLED", "false"},
               {"JAEGER_SAMPLER_TYPE", "probabilistic"},
               {"JAEGER_SAMPLER_PARAM", "0.25"},
               {"JAEGER_AGENT_HOST", "jaeger"}}};
  std::vector<std::string> notices;
  auto c = config_from_env(env.fn(), TracingConfig{}, &notices);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->disabled);
  EXPECT_EQ(c->sampler, SamplerKind::kParentBasedTraceIdRatio);
  EXPECT_DOUBLE_EQ(c->sampler_ratio, 0.25);
  ASSERT_EQ(notices.size(), 3u);
  EXPECT_NE(notices[0].find("OTEL_SDK_DISABLED"), std::string::npos);
  EXPECT_NE(notices[1].find("OTEL_TRACES_SAMPLER"), std::string::npos);
  EXPECT_NE(notices[2].find("OTEL_EXPORTER_OTLP_ENDPOINT"), std::string::npos);
}

TEST(TracingConfigTest, JaegerConstZeroIsOff) {
  FakeEnv env{{{"JAEGER_SAMPLER_TYPE", "const"}, {"JAEGER_SAMPLER_PARAM", "0"}}};
  auto c = config_from_env(env.fn(), TracingConfig{}, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->sampler, SamplerKind::kParentBasedAlwaysOff);
}

TEST(TracingConfigTest, StandardSamplerWinsOverTheLegacyOne) {
  FakeEnv env{{{"JAEGER_SAMPLER_TYPE", "const"}, {"OTEL_TRACES_SAMPLER", "always_off"}}};
  auto c = config_from_env(env.fn(), TracingConfig{}, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->sampler, SamplerKind::kAlwaysOff);
}

TEST(TracingConfigTest, BadValuesNameTheirVariable) {
  for (auto [var, value] : std::vector<std::pair<std::string, std::string>>{
           {"OTEL_TRACES_SAMPLER", "sometimes"},
           {"OTEL_TRACES_SAMPLER_ARG", "1.5"},
           {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
           {"OTEL_EXPORTER_OTLP_ENDPOINT", "127.0.0.1:4318"},
           {"OTEL_EXPORTER_OTLP_TIMEOUT", "soon"},
           {"OTEL_RESOURCE_ATTRIBUTES", "novalue"}}) {
    FakeEnv env{{{var, value}}};
    auto c = config_from_env(env.fn(), TracingConfig{}, nullptr);
    ASSERT_FALSE(c.ok()) << var;
    EXPECT_NE(c.status().message().find(var), std::string::npos) << c.status().message();
  }
}

TEST(TracingConfigTest, FlagsOverrideTheEnvironment) {
  FakeEnv env{{{"OTEL_TRACES_SAMPLER", "always_off"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"}}};
  auto c = config_from_env(env.fn(), TracingConfig{}, nullptr);
  ASSERT_TRUE(c.ok());
  TracingFlags f;
  f.sampler = "traceidratio";
  f.sampler_arg = "0.5";
  f.endpoint = "http://127.0.0.1:9999";
  f.protocol = "http/json";
  ASSERT_TRUE(apply_flags(f, *c).ok());
  EXPECT_EQ(c->sampler, SamplerKind::kTraceIdRatio);
  EXPECT_DOUBLE_EQ(c->sampler_ratio, 0.5);
  EXPECT_EQ(c->endpoint, "http://127.0.0.1:9999/v1/traces");
  EXPECT_EQ(c->protocol, Protocol::kHttpJson);
  f = TracingFlags{};
  f.endpoint = "http://127.0.0.1:9999/v1/traces";
  ASSERT_TRUE(apply_flags(f, *c).ok());
  EXPECT_EQ(c->endpoint, "http://127.0.0.1:9999/v1/traces");
  f.endpoint = "ftp://x";
  EXPECT_FALSE(apply_flags(f, *c).ok());
}

}  // namespace
}  // namespace meshloop::trace
