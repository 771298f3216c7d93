#include "obs/exposition.h"

#include <gtest/gtest.h>
#include <zlib.h>

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
