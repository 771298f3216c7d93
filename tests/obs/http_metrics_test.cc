#include "obs/http_metrics.h"

#include <gtest/gtest.h>

#include "metrics_test_util.h"

namespace meshloop::obs {
namespace {

using testing::sample;

TEST(HttpMetrics, CountsByRouteAndCodeAndTimesByRoute) {
  MetricsRegistry r("4");
  HttpMetrics m(r, {"/metrics", "/healthz"});
  // Known routes exist at zero before any request.
  EXPECT_EQ(sample(r, "meshloop_http_requests_total", {{"route", "/healthz"}, {"code", "200"}}), 0);
  m.observe("/metrics", 200, 0.002);
  m.observe("/metrics", 200, 0.004);
  m.observe("", 404, 0.0001);
  m.observe("/healthz", 503, 0.5);
  EXPECT_EQ(sample(r, "meshloop_http_requests_total", {{"route", "/metrics"}, {"code", "200"}}), 2);
  EXPECT_EQ(sample(r, "meshloop_http_requests_total", {{"route", "none"}, {"code", "404"}}), 1);
  EXPECT_EQ(sample(r, "meshloop_http_requests_total", {{"route", "/healthz"}, {"code", "503"}}), 1);
  EXPECT_EQ(sample(r, "meshloop_http_request_duration_seconds", {{"route", "/metrics"}}), 2);
  EXPECT_EQ(sample(r, "meshloop_http_request_duration_seconds", {{"route", "none"}}), 1);
  EXPECT_EQ(sample(r, "meshloop_http_requests_total", {{"node", "4"}, {"route", "/metrics"}, {"code", "200"}}), 2);
}

}  // namespace
}  // namespace meshloop::obs
