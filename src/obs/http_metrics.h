// obs::HttpMetrics: the process's HTTP server, as its observer hook reports each request (api::Server's
// set_observer: matched route pattern, status, duration). obs knows nothing of HTTP: the server calls observe().
//
//   meshloop_http_requests_total{route,code}          requests answered, by route pattern and status code
//   meshloop_http_request_duration_seconds{route}     time from the request's parse to the response's handler return
//
// Labels and their bounds: `route` is a registered route pattern ("/metrics", "/api/v1/status", "/files/*"), never
// the request's path; requests that matched no route (404s, and whatever the server refused before routing) are
// route="none". `code` is the numeric status: the server only answers with a small fixed set of codes.
//
// Thread-safety: observe() from any thread (the server's workers), concurrently with exposition.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "obs/registry.h"

namespace meshloop::obs {

class HttpMetrics {
 public:
  // Declares the families in `registry`; `routes` are created at zero (code 200) so rate() works from the first
  // scrape. REQUIRES: `registry` outlives this object.
  explicit HttpMetrics(MetricsRegistry& registry, const std::vector<std::string>& routes = {});

  // `route` "" means no route matched.
  void observe(const std::string& route, int status, double seconds);

 private:
  struct RouteSeries {
    prometheus::Histogram* duration;
    std::map<int, prometheus::Counter*> by_code;
  };
  RouteSeries& series(const std::string& route);  // REQUIRES: mu_ held

  CounterFamily requests_;
  HistogramFamily duration_;
  std::mutex mu_;
  std::map<std::string, RouteSeries, std::less<>> routes_;
};

}  // namespace meshloop::obs
