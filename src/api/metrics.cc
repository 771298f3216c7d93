#include "api/metrics.h"

#include "obs/process_metrics.h"

namespace meshloop::api {

Response metrics_response(const obs::Exposition& exposition, const Request& request) {
  obs::Rendered rendered = exposition.render(request.header("accept-encoding"));
  Response r;
  r.body = std::move(rendered.body);
  r.content_type = std::move(rendered.content_type);
  if (!rendered.content_encoding.empty()) r.headers["Content-Encoding"] = rendered.content_encoding;
  r.headers["Vary"] = "Accept-Encoding";
  r.verbatim = true;
  return r;
}

void add_metrics_route(Server& server, const obs::Exposition& exposition, const std::string& path) {
  server.route("GET", path, [&exposition](const Request& req) { return metrics_response(exposition, req); });
}

void observe_requests(Server& server, obs::HttpMetrics& metrics) {
  server.set_observer([&metrics](const std::string& route, int status, double seconds) {
    metrics.observe(route, status, seconds);
  });
}

NodeMetrics::NodeMetrics(mesh::NodeId id, Duration detection)
    : registry_(std::to_string(id)),
      exposition_(registry_),
      mesh_(registry_),
      reroute_(obs::RerouteTimer::Options{detection, seconds(30), false}) {
  obs::register_process_metrics(registry_);
  obs::register_build_info(registry_);
}

void NodeMetrics::attach(Server& server) {
  add_metrics_route(server, exposition_);
  http_ = std::make_unique<obs::HttpMetrics>(registry_, server.route_patterns());
  observe_requests(server, *http_);
}

void NodeMetrics::telemetry(const mesh::Telemetry& t) { mesh_.update(t); }

void NodeMetrics::event(const mesh::Event& e, const std::function<TimePoint(mesh::NodeId)>& last_heard) {
  mesh_.observe(e);
  reroute_.event(e, last_heard, done_);
  if (!done_.empty()) flush_reroutes();
}

void NodeMetrics::spf_ran(double wall_seconds) { mesh_.observe_spf_duration(wall_seconds); }

void NodeMetrics::flush_reroutes() {
  for (double s : done_) mesh_.observe_reroute(s);
  done_.clear();
}

}  // namespace meshloop::api
