#include "cli/demo_prometheus.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "api/client.h"

namespace meshloop::cli {
namespace {

std::string tail_of(const std::string& path, std::size_t max_bytes = 600) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

// True when 127.0.0.1:port can be bound now (what Prometheus will try), whatever else might listen there.
bool port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string DemoPrometheus::config_text(const DemoPrometheusOptions& o) {
  std::string c = fmt::format("global:\n  scrape_interval: {0}\n  evaluation_interval: {0}\n", o.scrape_interval);
  if (!o.alert_rules.empty()) {
    c += fmt::format("rule_files:\n  - '{}'\n", std::filesystem::absolute(o.alert_rules).string());
  }
  c += "scrape_configs:\n  - job_name: meshloop\n    static_configs:\n      - targets:\n";
  for (int port : o.targets) c += fmt::format("          - '127.0.0.1:{}'\n", port);
  return c;
}

Result<DemoPrometheus> DemoPrometheus::start(const DemoPrometheusOptions& o) {
  if (!std::filesystem::exists(o.binary)) {
    return Status::FailedPrecondition(o.binary + " is missing (scripts/setup installs Debian's prometheus)");
  }
  if (!o.alert_rules.empty() && !std::filesystem::exists(o.alert_rules)) {
    return Status::NotFound("alert rules " + o.alert_rules + " do not exist");
  }
  int port = o.port;
  if (port == 0 || !port_free(port)) {
    auto free = transport::free_tcp_port();
    if (!free.ok()) return free.status();
    port = *free;
  }
  const std::filesystem::path dir = std::filesystem::path(o.work_dir) / "prometheus";
  std::error_code ec;
  std::filesystem::create_directories(dir / "data", ec);
  if (ec) return Status::Unavailable("cannot create " + dir.string() + ": " + ec.message());
  {
    std::ofstream out(dir / "prometheus.yml");
    out << config_text(o);
    if (!out) return Status::Unavailable("cannot write " + (dir / "prometheus.yml").string());
  }
  const std::string log = (dir / "prometheus.log").string();
  transport::SpawnOptions spawn;
  spawn.argv = {o.binary, "--config.file=" + (dir / "prometheus.yml").string(),
                "--storage.tsdb.path=" + (dir / "data").string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"};
  spawn.output_path = log;
  spawn.own_process_group = true;  // Ctrl-C reaches the demo, which stops Prometheus after the nodes
  auto child = transport::ChildProcess::spawn(spawn);
  if (!child.ok()) return child.status();
  DemoPrometheus p;
  p.process_ = std::move(child).value();
  p.port_ = port;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!p.process_.running()) {
      return Status::Unavailable("prometheus exited at start: " + tail_of(log));
    }
    auto r = api::http_get("127.0.0.1", port, "/-/ready", std::chrono::milliseconds(500));
    if (r.ok() && r->status == 200) return p;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  p.process_.terminate();
  return Status::Unavailable("prometheus was not ready within 15 s: " + tail_of(log));
}

}  // namespace meshloop::cli
