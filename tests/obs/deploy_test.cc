// deploy/: the Prometheus configuration and alert rules pass promtool's checks, and the alert rules pass their unit
// tests (deploy/alerts/meshloop.rules.test.yml: input series -> expected alerts).
#include <gtest/gtest.h>

#include "metrics_test_util.h"

namespace meshloop {
namespace {

std::string deploy() { return testing::source_dir() + "/deploy"; }

TEST(Deploy, PrometheusConfigPassesPromtool) {
  auto out = testing::run_command("promtool check config " + deploy() + "/prometheus.yml");
  EXPECT_EQ(out.exit_code, 0) << out.output;
}

TEST(Deploy, AlertRulesPassPromtool) {
  auto out = testing::run_command("promtool check rules " + deploy() + "/alerts/meshloop.rules.yml");
  EXPECT_EQ(out.exit_code, 0) << out.output;
}

TEST(Deploy, AlertRulesPassTheirUnitTests) {
  auto out = testing::run_command("cd " + deploy() + "/alerts && promtool test rules meshloop.rules.test.yml");
  EXPECT_EQ(out.exit_code, 0) << out.output;
}

}  // namespace
}  // namespace meshloop
