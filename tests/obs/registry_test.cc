#include "obs/registry.h"

#include <gtest/gtest.h>

#include "metrics_test_util.h"

namespace meshloop::obs {
namespace {

using testing::sample;

TEST(MetricsRegistry, RejectsNamesOutsideTheConvention) {
  MetricsRegistry r("1");
  EXPECT_THROW(r.counter("mesh_packets_total", "h"), std::invalid_argument);       // no meshloop_ prefix
  EXPECT_THROW(r.gauge("meshloop_routes", "h"), std::invalid_argument);            // no component
  EXPECT_THROW(r.gauge("meshloop_Mesh_routes", "h"), std::invalid_argument);       // upper case
  EXPECT_THROW(r.gauge("meshloop_mesh__routes", "h"), std::invalid_argument);      // empty word
  EXPECT_THROW(r.counter("meshloop_mesh_packets", "h"), std::invalid_argument);    // counter without _total
  EXPECT_THROW(r.gauge("meshloop_mesh_packets_total", "h"), std::invalid_argument);  // gauge with _total
  EXPECT_THROW(r.gauge("meshloop_mesh_routes", ""), std::invalid_argument);        // no HELP
  EXPECT_TRUE(r.catalogue().empty());
}

TEST(MetricsRegistry, ReservesNodeAndPrometheusLabels) {
  MetricsRegistry r("1");
  EXPECT_THROW(r.gauge("meshloop_mesh_a_ratio", "h", {"node"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("meshloop_mesh_b_ratio", "h", {"le"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("meshloop_mesh_c_ratio", "h", {"peer", "peer"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("meshloop_mesh_d_ratio", "h", {"Peer"}), std::invalid_argument);
  EXPECT_THROW(MetricsRegistry(""), std::invalid_argument);
}

TEST(MetricsRegistry, SameDeclarationTwiceIsOneFamilyAndAConflictThrows) {
  MetricsRegistry r("1");
  auto a = r.counter("meshloop_mesh_things_total", "Things.", {"reason"});
  auto b = r.counter("meshloop_mesh_things_total", "Things.", {"reason"});
  a.with({"x"}).Increment(2);
  EXPECT_EQ(b.with({"x"}).Value(), 2);
  EXPECT_EQ(r.catalogue().size(), 1u);
  EXPECT_THROW(r.counter("meshloop_mesh_things_total", "Things.", {"other"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("meshloop_mesh_things_total", "Things."), std::invalid_argument);
}

TEST(MetricsRegistry, EverySeriesCarriesTheNodeLabel) {
  MetricsRegistry r("42");
  r.counter("meshloop_mesh_packets_total", "Packets.", {"direction"}).with({"rx"}).Increment();
  r.gauge("meshloop_mesh_routes", "Routes.").get().Set(3);
  r.histogram("meshloop_mesh_spf_duration_seconds", "SPF.", {0.001, 0.01}).get().Observe(0.002);
  auto families = r.collect();
  ASSERT_EQ(families.size(), 3u);
  for (const auto& f : families) {
    for (const auto& m : f.metric) {
      ASSERT_FALSE(m.label.empty()) << f.name;
      bool has_node = false;
      for (const auto& l : m.label) has_node |= (l.name == "node" && l.value == "42");
      EXPECT_TRUE(has_node) << f.name;
    }
  }
  EXPECT_EQ(sample(r, "meshloop_mesh_packets_total", {{"node", "42"}, {"direction", "rx"}}), 1);
  EXPECT_EQ(sample(r, "meshloop_mesh_routes"), 3);
}

TEST(MetricsRegistry, WithChecksTheNumberOfLabelValues) {
  MetricsRegistry r("1");
  auto f = r.counter("meshloop_mesh_packets_total", "Packets.", {"direction"});
  EXPECT_THROW(f.with({}), std::invalid_argument);
  EXPECT_THROW(f.with({"rx", "extra"}), std::invalid_argument);
  EXPECT_THROW(f.get(), std::invalid_argument);
  EXPECT_EQ(&f.with({"rx"}), &f.with(std::vector<std::string>{"rx"}));  // found again, not created twice
}

TEST(MetricsRegistry, HistogramBucketsMustIncrease) {
  MetricsRegistry r("1");
  EXPECT_THROW(r.histogram("meshloop_mesh_x_seconds", "h", {}), std::invalid_argument);
  EXPECT_THROW(r.histogram("meshloop_mesh_y_seconds", "h", {0.1, 0.1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("meshloop_mesh_z_seconds", "h", {0.2, 0.1}), std::invalid_argument);
}

TEST(MetricsRegistry, CatalogueRecordsTypeUnitAndLabelsWithNodeFirst) {
  MetricsRegistry r("1");
  r.gauge("meshloop_mesh_link_delivery_ratio", "Ratio.", {"peer", "direction"});
  ASSERT_EQ(r.catalogue().size(), 1u);
  const MetricInfo& m = r.catalogue()[0];
  EXPECT_EQ(m.kind, MetricKind::kGauge);
  EXPECT_EQ(m.unit, "ratio");
  EXPECT_EQ(m.labels, (std::vector<std::string>{"node", "peer", "direction"}));
}

TEST(UnitOf, ReadsTheBaseUnitFromTheName) {
  EXPECT_EQ(unit_of("meshloop_mesh_control_bytes_total"), "bytes");
  EXPECT_EQ(unit_of("meshloop_mesh_spf_duration_seconds"), "seconds");
  EXPECT_EQ(unit_of("meshloop_mesh_link_delivery_ratio"), "ratio");
  EXPECT_EQ(unit_of("meshloop_mesh_failovers_total"), "");
  EXPECT_EQ(unit_of("meshloop_mesh_routes"), "");
  EXPECT_EQ(unit_of("bytes"), "");
}

}  // namespace
}  // namespace meshloop::obs
