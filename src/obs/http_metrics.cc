#include "obs/http_metrics.h"

namespace meshloop::obs {

namespace {

// Local API calls take tens of microseconds; a large scrape or a slow snapshot, tens of milliseconds.
const std::vector<double> kDurationBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                              0.01,   0.025,   0.05,   0.1,   0.25,   0.5, 1};

}  // namespace

HttpMetrics::HttpMetrics(MetricsRegistry& r, const std::vector<std::string>& routes)
    : requests_(r.counter("meshloop_http_requests_total",
                          "HTTP requests answered, by route pattern (none: no route matched) and status code.",
                          {"route", "code"})),
      duration_(r.histogram("meshloop_http_request_duration_seconds",
                            "Time to answer one HTTP request, from its parse to its handler's return, by route "
                            "pattern, in seconds.",
                            kDurationBuckets, {"route"})) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& route : routes) {
    RouteSeries& s = series(route);
    s.by_code.emplace(200, &requests_.with({route, "200"}));
  }
}

HttpMetrics::RouteSeries& HttpMetrics::series(const std::string& route) {
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.emplace(route, RouteSeries{&duration_.with({route}), {}}).first;
  return it->second;
}

void HttpMetrics::observe(const std::string& route_pattern, int status, double seconds) {
  const std::string& route = route_pattern.empty() ? std::string("none") : route_pattern;
  prometheus::Histogram* duration;
  prometheus::Counter* counter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    RouteSeries& s = series(route);
    auto c = s.by_code.find(status);
    if (c == s.by_code.end()) c = s.by_code.emplace(status, &requests_.with({route, std::to_string(status)})).first;
    duration = s.duration;
    counter = c->second;
  }
  counter->Increment();
  duration->Observe(seconds);
}

}  // namespace meshloop::obs
