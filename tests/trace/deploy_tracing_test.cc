// deploy/tracing: the Jaeger v2 and Tempo configurations, checked for structure (neither backend can be installed
// here, so they were never run against these files): each receives OTLP/HTTP on 4318 and stores what it receives.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace meshloop::trace {
namespace {

std::string deploy(const std::string& file) {
  return std::string(MESHLOOP_TEST_SOURCE_DIR) + "/deploy/tracing/" + file;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> list(const YAML::Node& n) {
  std::vector<std::string> out;
  for (const auto& x : n) out.push_back(x.as<std::string>());
  return out;
}

TEST(DeployTracingTest, JaegerReceivesOtlpHttpAndEveryNamedComponentIsDefined) {
  const YAML::Node c = YAML::LoadFile(deploy("jaeger.yaml"));
  const YAML::Node traces = c["service"]["pipelines"]["traces"];
  ASSERT_TRUE(traces.IsMap());
  const auto receivers = list(traces["receivers"]);
  EXPECT_NE(std::find(receivers.begin(), receivers.end(), "otlp"), receivers.end());
  for (const char* section : {"receivers", "processors", "exporters"}) {
    for (const auto& name : list(traces[section])) {
      EXPECT_TRUE(c[section][name]) << section << "." << name << " is used by the pipeline but not defined";
    }
  }
  for (const auto& name : list(c["service"]["extensions"])) {
    EXPECT_TRUE(c["extensions"][name]) << "extension " << name << " is enabled but not defined";
  }
  EXPECT_TRUE(ends_with(c["receivers"]["otlp"]["protocols"]["http"]["endpoint"].as<std::string>(), ":4318"));
  const std::string storage = c["exporters"]["jaeger_storage_exporter"]["trace_storage"].as<std::string>();
  EXPECT_TRUE(c["extensions"]["jaeger_storage"]["backends"][storage]) << "no backend named " << storage;
  EXPECT_EQ(c["extensions"]["jaeger_query"]["storage"]["traces"].as<std::string>(), storage);
}

TEST(DeployTracingTest, TempoReceivesOtlpHttpAndStoresLocally) {
  const YAML::Node c = YAML::LoadFile(deploy("tempo.yaml"));
  EXPECT_TRUE(ends_with(c["distributor"]["receivers"]["otlp"]["protocols"]["http"]["endpoint"].as<std::string>(),
                        ":4318"));
  EXPECT_GT(c["server"]["http_listen_port"].as<int>(), 0);
  const YAML::Node trace = c["storage"]["trace"];
  ASSERT_EQ(trace["backend"].as<std::string>(), "local");
  EXPECT_FALSE(trace["local"]["path"].as<std::string>().empty());
  EXPECT_FALSE(trace["wal"]["path"].as<std::string>().empty());
  for (const auto& key : {"server", "distributor", "ingester", "compactor", "storage", "stream_over_http_enabled"}) {
    EXPECT_TRUE(c[key]) << key;
  }
  for (const auto& top : c) {  // nothing outside Tempo's top-level blocks (a typo would be ignored by a reader)
    const std::string k = top.first.as<std::string>();
    const std::vector<std::string> known = {"server", "distributor", "ingester", "compactor", "storage",
                                            "stream_over_http_enabled", "query_frontend", "querier", "metrics_generator",
                                            "overrides", "memberlist", "usage_report"};
    EXPECT_NE(std::find(known.begin(), known.end(), k), known.end()) << "unknown top-level key " << k;
  }
}

}  // namespace
}  // namespace meshloop::trace
