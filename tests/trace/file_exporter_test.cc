#include "trace/file_exporter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "trace/tracing.h"

namespace meshloop::trace {
namespace {

TEST(JsonLinesExporterTest, WritesOneOtlpJsonRequestPerLine) {
  const auto path = std::filesystem::temp_directory_path() / ("meshloop-trace-" + std::to_string(getpid()) + ".jsonl");
  std::filesystem::remove(path);
  {
    TracingConfig c;
    c.file = path.string();
    c.sampler = SamplerKind::kAlwaysOn;
    auto t = Tracing::create(c, ResourceInfo{"7", "host-a", "0.1.0"});
    ASSERT_TRUE(t.ok()) << t.status().message();
    auto tracer = (*t)->tracer("meshloop.test");
    auto parent = tracer->StartSpan("mesh.neighbour.down", {{"meshloop.node.id", 7}});
    opentelemetry::trace::StartSpanOptions o;
    o.parent = parent->GetContext();
    auto child = tracer->StartSpan("mesh.spf", o);
    child->End();
    parent->End();
    ASSERT_TRUE((*t)->flush());
  }
  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto j = nlohmann::json::parse(line);
  const auto& rs = j.at("resourceSpans").at(0);
  std::map<std::string, std::string> resource;
  for (const auto& a : rs.at("resource").at("attributes")) {
    if (a.at("value").contains("stringValue")) resource[a.at("key")] = a.at("value").at("stringValue");
  }
  EXPECT_EQ(resource["service.name"], "meshloop");
  EXPECT_EQ(resource["service.instance.id"], "7");
  EXPECT_EQ(resource["host.name"], "host-a");
  EXPECT_EQ(resource["service.version"], "0.1.0");
  const auto& spans = rs.at("scopeSpans").at(0).at("spans");
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].at("name"), "mesh.spf");
  EXPECT_EQ(spans[0].at("parentSpanId"), spans[1].at("spanId"));
  EXPECT_EQ(spans[0].at("traceId").get<std::string>().size(), 32u);
  EXPECT_EQ(spans[1].at("attributes").at(0).at("value").at("intValue"), "7");
  std::filesystem::remove(path);
}

TEST(JsonLinesExporterTest, AnUnwritablePathIsAnError) {
  TracingConfig c;
  c.file = "/nonexistent-dir/x.jsonl";
  auto t = Tracing::create(c, ResourceInfo{});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kIoError);
}

TEST(TracingTest, DisabledGivesTheNoopTracer) {
  TracingConfig c;
  c.disabled = true;
  auto t = Tracing::create(c, ResourceInfo{});
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE((*t)->enabled());
  auto span = (*t)->tracer("x")->StartSpan("y");
  EXPECT_FALSE(span->GetContext().IsValid());
}

}  // namespace
}  // namespace meshloop::trace
