// The demo's Prometheus: a real Prometheus server (Debian's /usr/bin/prometheus, installed by scripts/setup)
// scraping every demo node's /metrics and evaluating our alert rules, so an operator can watch the healing in
// PromQL (and point Grafana at it with dashboards/provisioning).
//
// Its configuration and data live in the demo's work directory; it stops with the demo (SIGTERM, then SIGKILL).
// Thread-safety: not thread-safe; start and stop from the demo's main thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "transport/process.h"

namespace meshloop::cli {

struct DemoPrometheusOptions {
  std::string binary = "/usr/bin/prometheus";
  std::string work_dir;      // prometheus.yml, prometheus.log and data/ go here
  int port = 9090;           // 0, or taken: any free port
  std::string alert_rules;   // a rules file to load (checked by Prometheus at start); empty: none
  std::vector<int> targets;  // the nodes' HTTP ports on 127.0.0.1
  std::string scrape_interval = "2s";
};

class DemoPrometheus {
 public:
  // Starts it and waits up to 15 s for /-/ready. FailedPrecondition when the binary is missing, Unavailable when
  // it exits or never becomes ready (with the tail of its log).
  static Result<DemoPrometheus> start(const DemoPrometheusOptions& options);

  // prometheus.yml for `options` (exposed for the test).
  static std::string config_text(const DemoPrometheusOptions& options);

  int port() const { return port_; }
  void stop() { process_.terminate(); }

 private:
  transport::ChildProcess process_;
  int port_ = 0;
};

}  // namespace meshloop::cli
