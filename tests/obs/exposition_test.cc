#include "obs/exposition.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>
#include <zlib.h>

#include <random>
#include <sstream>

#include "common/mini_mesh.h"
#include "metrics_test_util.h"
#include "obs/mesh_metrics.h"
#include "obs/process_metrics.h"

namespace meshloop::obs {
namespace {

using testing::sample;

std::string gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out;
  char buf[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  EXPECT_EQ(rc, Z_STREAM_END);
  return out;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

TEST(AcceptsGzip, FollowsTheHeaderIncludingQualityZero) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("GZip"));
  EXPECT_TRUE(accepts_gzip("deflate, gzip;q=0.5"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("br"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip; q=0.0, *"));  // an explicit refusal wins over the wildcard
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("gzipper"));
}

TEST(Exposition, RendersTextFormatAndGzipsWhenAsked) {
  MetricsRegistry r("1");
  Exposition e(r);
  MeshMetrics m(r);
  const Rendered plain = e.render("");
  EXPECT_EQ(plain.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(plain.content_encoding, "");
  EXPECT_NE(plain.body.find("# HELP meshloop_mesh_neighbours_up "), std::string::npos);
  EXPECT_NE(plain.body.find("# TYPE meshloop_mesh_neighbours_up gauge"), std::string::npos);
  EXPECT_NE(plain.body.find("meshloop_mesh_neighbours_up{node=\"1\"} 0"), std::string::npos);

  const Rendered gz = e.render("gzip, deflate");
  EXPECT_EQ(gz.content_encoding, "gzip");
  EXPECT_LT(gz.body.size(), plain.body.size());
  const std::string text = gunzip(gz.body);
  // The second render saw the first one's self-metrics; the mesh part is identical.
  EXPECT_NE(text.find("meshloop_mesh_neighbours_up{node=\"1\"} 0"), std::string::npos);
  EXPECT_EQ(sample(r, "meshloop_obs_scrapes_total", {{"encoding", "gzip"}}), 1);
  EXPECT_EQ(sample(r, "meshloop_obs_scrapes_total", {{"encoding", "identity"}}), 1);
  EXPECT_EQ(sample(r, "meshloop_obs_scrape_response_bytes", {{"encoding", "gzip"}}), gz.body.size());
  EXPECT_EQ(sample(r, "meshloop_obs_scrape_duration_seconds"), 2);
}

TEST(Exposition, MergesFamiliesOfSeveralRegistriesUnderOneHeader) {
  MetricsRegistry sim("sim"), n1("1"), n2("2");
  Exposition e(sim);
  MeshMetrics m1(n1), m2(n2);
  e.expose(n1);
  e.expose(n2);
  const std::string text = e.text();
  EXPECT_EQ(count(text, "# TYPE meshloop_mesh_neighbours_up gauge"), 1u);
  EXPECT_EQ(count(text, "# HELP meshloop_mesh_neighbours_up "), 1u);
  EXPECT_NE(text.find("meshloop_mesh_neighbours_up{node=\"1\"}"), std::string::npos);
  EXPECT_NE(text.find("meshloop_mesh_neighbours_up{node=\"2\"}"), std::string::npos);
  EXPECT_LT(text.find("meshloop_mesh_neighbours_up{node=\"1\"}"), text.find("meshloop_mesh_neighbours_up{node=\"2\"}"));
  EXPECT_EQ(text, e.text());  // deterministic: families and series sorted
}

// promtool's linter (the same checks Prometheus's community applies) finds nothing to say about a full exposition.
TEST(Exposition, PromtoolCheckMetricsReportsNothing) {
  testing::MiniMesh mesh;
  mesh.add_node(1);
  mesh.add_node(2);
  mesh.link(1, 2);
  mesh.flow(1, 2, milliseconds(20));
  mesh.run_for(seconds(2));
  MetricsRegistry r1("1"), r2("2");
  Exposition e(r1);
  e.expose(r2);
  register_process_metrics(r1);
  register_build_info(r1);
  MeshMetrics m1(r1), m2(r2);
  m1.update(mesh.node(1)->telemetry(mesh.now()));
  m2.update(mesh.node(2)->telemetry(mesh.now()));
  m1.observe_spf_duration(0.0001);
  m1.observe_reroute(0.2);
  e.render("gzip");
  const std::string text = e.text();
  EXPECT_NE(text.find("process_cpu_seconds_total{node=\"1\"}"), std::string::npos);
  EXPECT_NE(text.find("meshloop_build_info{node=\"1\",revision="), std::string::npos);
  auto out = testing::run_command("promtool check metrics", text);
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, "") << text;
}

std::string oracle_text(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return std::move(out).str();
}

std::string our_text(const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  write_text(families, out);
  return out;
}

// prometheus-cpp's TextSerializer is the oracle of our writer: same bytes on a real exposition of a small mesh.
TEST(WriteText, MatchesPrometheusCppOnAMeshExposition) {
  testing::MiniMesh mesh;
  for (mesh::NodeId n = 1; n <= 4; ++n) mesh.add_node(n);
  mesh.link(1, 2);
  mesh.link(2, 3);
  mesh.link(3, 4);
  mesh.link(4, 1);
  mesh.flow(1, 3, milliseconds(20));
  mesh.run_for(seconds(3));
  MetricsRegistry own("sim");
  Exposition e(own);
  register_process_metrics(own);
  register_build_info(own);
  std::vector<std::unique_ptr<MetricsRegistry>> regs;
  std::vector<std::unique_ptr<MeshMetrics>> metrics;
  for (mesh::NodeId n = 1; n <= 4; ++n) {
    regs.push_back(std::make_unique<MetricsRegistry>(std::to_string(n)));
    metrics.push_back(std::make_unique<MeshMetrics>(*regs.back()));
    metrics.back()->update(mesh.node(n)->telemetry(mesh.now()));
    metrics.back()->observe_spf_duration(0.000123 * n);
    metrics.back()->observe_reroute(0.3 + n);
    e.expose(*regs.back());
  }
  e.render("gzip");
  std::vector<const MetricsRegistry*> all{&own};
  for (const auto& r : regs) all.push_back(r.get());
  const auto families = merge_families(all);
  const std::string ours = our_text(families);
  EXPECT_GT(ours.size(), 10000u);
  EXPECT_EQ(ours, oracle_text(families));
}

// ... and on values chosen to hit every formatting branch, plus 10,000 random doubles of every magnitude.
TEST(WriteText, MatchesPrometheusCppOnEdgeValues) {
  prometheus::MetricFamily g{"g", "a gauge", prometheus::MetricType::Gauge, {}};
  std::vector<double> values = {0.0, -0.0, 1.0, -1.0, 0.1, 1.0 / 3, 2.0 / 3, 1e15 - 1, 1e15, 1e16 - 2, 1e16, 1e17,
                                12345678901234567.0, -12345678901234567.0, 1e-7, 5e-324, 1.7976931348623157e308,
                                -2.5, 123456789.125, std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity()};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> mantissa(-10, 10);
  std::uniform_int_distribution<int> exponent(-30, 30);
  for (int i = 0; i < 10000; ++i) values.push_back(std::ldexp(mantissa(rng), exponent(rng) * 3));
  for (int i = 0; i < 1000; ++i) values.push_back(static_cast<double>(rng() >> (rng() % 64)));
  for (double v : values) {
    prometheus::ClientMetric m;
    m.label = {{"a", "q\"\\\nz"}, {"node", "7"}};
    m.gauge.value = v;
    g.metric.push_back(m);
  }
  prometheus::MetricFamily c{"c_total", "a counter", prometheus::MetricType::Counter, {}};
  prometheus::ClientMetric plain;
  plain.counter.value = 42;
  plain.timestamp_ms = 1700000000123;
  c.metric.push_back(plain);
  prometheus::MetricFamily h{"h_seconds", "", prometheus::MetricType::Histogram, {}};
  prometheus::ClientMetric hm;
  hm.histogram.sample_count = 3;
  hm.histogram.sample_sum = 0.75;
  hm.histogram.bucket = {{1, 0.0001}, {2, 0.25}, {3, 1e20}};
  h.metric.push_back(hm);
  hm.label = {{"node", "x"}};
  hm.histogram.bucket.push_back({3, std::numeric_limits<double>::infinity()});
  h.metric.push_back(hm);
  prometheus::MetricFamily s{"s", "a summary", prometheus::MetricType::Summary, {}};
  prometheus::ClientMetric sm;
  sm.summary.sample_count = 2;
  sm.summary.sample_sum = 1.5;
  sm.summary.quantile = {{0.5, 0.7}, {0.99, 0.8}};
  s.metric.push_back(sm);
  prometheus::MetricFamily u{"u", "untyped", prometheus::MetricType::Untyped, {}};
  prometheus::ClientMetric um;
  um.untyped.value = 3.5;
  u.metric.push_back(um);
  const std::vector<prometheus::MetricFamily> families{g, c, h, s, u};
  EXPECT_EQ(our_text(families), oracle_text(families));
}

// Where TextSerializer breaks the format, we follow it: HELP escaped, NaN spelled `NaN`.
TEST(WriteText, EscapesHelpAndSpellsNaNAsTheFormatSays) {
  prometheus::MetricFamily g{"g", "back\\slash and\nnewline", prometheus::MetricType::Gauge, {}};
  prometheus::ClientMetric m;
  m.gauge.value = std::numeric_limits<double>::quiet_NaN();
  g.metric.push_back(m);
  EXPECT_EQ(our_text({g}), "# HELP g back\\\\slash and\\nnewline\n# TYPE g gauge\ng NaN\n");
}

TEST(GzipCompress, RoundTrips) {
  const std::string data(100000, 'x');
  auto z = gzip_compress(data);
  ASSERT_TRUE(z.ok());
  EXPECT_LT(z->size(), 1000u);
  EXPECT_EQ(gunzip(*z), data);
  auto empty = gzip_compress("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(gunzip(*empty), "");
}

}  // namespace
}  // namespace meshloop::obs
