#include "obs/reference.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "metrics_test_util.h"

namespace meshloop::obs {
namespace {

std::string meshloop_bin() {
  const char* bin = std::getenv("MESHLOOP_BIN");
  return bin ? bin : "";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(MetricsReference, DocsMatchTheGeneratedReference) {
  if (meshloop_bin().empty()) GTEST_SKIP() << "MESHLOOP_BIN not set (run through ctest)";
  auto out = testing::run_command(meshloop_bin() + " metrics --list --format markdown 2>/dev/null");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const std::string committed = read_file(testing::source_dir() + "/docs/metrics.md");
  EXPECT_EQ(committed, out.output)
      << "docs/metrics.md is out of date. Regenerate it from the source tree's root with:\n"
         "  <build dir>/meshloop metrics --list --format markdown > docs/metrics.md";
}

TEST(MetricsReference, ListPrintsEveryDeclaredMetric) {
  if (meshloop_bin().empty()) GTEST_SKIP() << "MESHLOOP_BIN not set (run through ctest)";
  auto out = testing::run_command(meshloop_bin() + " metrics --list");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  MetricsRegistry r("x");
  declare_obs_metrics(r);
  for (const MetricInfo& m : r.catalogue()) EXPECT_NE(out.output.find(m.name + " "), std::string::npos) << m.name;
  EXPECT_EQ(testing::run_command(meshloop_bin() + " metrics").exit_code, 2);
}

TEST(MetricsReference, DeclaresTheMeshMetricsTheIssueAsksFor) {
  MetricsRegistry r("x");
  declare_obs_metrics(r);
  std::set<std::string> names;
  for (const MetricInfo& m : r.catalogue()) {
    names.insert(m.name);
    EXPECT_FALSE(m.help.empty()) << m.name;
    EXPECT_EQ(m.labels.front(), "node") << m.name;
  }
  for (const char* n :
       {"meshloop_mesh_neighbours_up", "meshloop_mesh_link_cost", "meshloop_mesh_link_delivery_ratio",
        "meshloop_mesh_link_rtt_seconds", "meshloop_mesh_routes", "meshloop_mesh_routes_with_backup",
        "meshloop_mesh_lsdb_entries", "meshloop_mesh_spf_runs_total", "meshloop_mesh_spf_duration_seconds",
        "meshloop_mesh_failovers_total", "meshloop_mesh_reroute_duration_seconds",
        "meshloop_mesh_data_packets_forwarded_total", "meshloop_mesh_data_packets_delivered_total",
        "meshloop_mesh_data_packets_originated_total", "meshloop_mesh_data_packets_dropped_total",
        "meshloop_mesh_packets_rejected_total", "meshloop_mesh_control_bytes_total", "meshloop_mesh_data_bytes_total",
        "meshloop_build_info", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
        "process_max_fds", "process_start_time_seconds", "process_virtual_memory_bytes"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
}

TEST(MetricsReference, MarkdownHasOneRowPerMetricAndEscapesPipes) {
  std::vector<MetricInfo> m = {{"meshloop_b_c_total", MetricKind::kCounter, {"node"}, "", "b | c"},
                               {"meshloop_a_b_seconds", MetricKind::kHistogram, {"node", "x"}, "seconds", "a"}};
  const std::string md = reference_markdown(m);
  EXPECT_NE(md.find("| `meshloop_a_b_seconds` | histogram | seconds | `node`, `x` | a |\n"
                    "| `meshloop_b_c_total` | counter | - | `node` | b \\| c |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("2 metrics."), std::string::npos);
}

}  // namespace
}  // namespace meshloop::obs
