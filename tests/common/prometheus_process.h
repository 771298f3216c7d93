// A real Prometheus (Debian's /usr/bin/prometheus) for integration tests: on 127.0.0.1 at a given port, with the
// config the test writes, its own temp storage dir; stopped (SIGTERM, then SIGKILL) and its dir removed on
// destruction. Queries go through its HTTP API.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace meshloop::testing {

class PrometheusProcess {
 public:
  PrometheusProcess() {
    char tmpl[] = "/tmp/meshloop-prom-XXXXXX";
    if (char* d = ::mkdtemp(tmpl)) dir_ = d;
  }
  ~PrometheusProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // Starts it with `config` (prometheus.yml text) listening on 127.0.0.1:listen_port.
  bool start(const std::string& config, int listen_port) {
    port_ = listen_port;
    std::ofstream(dir_ / "prometheus.yml") << config;
    const std::vector<std::string> args = {"/usr/bin/prometheus",
                                           "--config.file=" + (dir_ / "prometheus.yml").string(),
                                           "--storage.tsdb.path=" + (dir_ / "data").string(),
                                           "--web.listen-address=127.0.0.1:" + std::to_string(listen_port),
                                           "--log.level=warn"};
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = (dir_ / "prometheus.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0;
  }

  std::string log() const {
    std::ifstream in(dir_ / "prometheus.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // GET on Prometheus's API; null JSON on any failure.
  nlohmann::json get(const std::string& path) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(1, 0);
    c.set_read_timeout(2, 0);
    auto res = c.Get(path.c_str());
    if (!res || res->status != 200) return nullptr;
    return nlohmann::json::parse(res->body, nullptr, false);
  }
  // An instant query's result vector (empty on any failure).
  nlohmann::json query(const std::string& promql) const {
    nlohmann::json j = get("/api/v1/query?query=" + httplib::detail::encode_query_param(promql));
    if (j.is_null() || j.is_discarded() || j.value("status", "") != "success") return nlohmann::json::array();
    return j["data"]["result"];
  }
  // The value of a query that yields one sample; `fallback` when it yields none.
  double scalar(const std::string& promql, double fallback = -1) const {
    nlohmann::json r = query(promql);
    if (r.size() != 1) return fallback;
    return std::stod(r[0]["value"][1].get<std::string>());
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace meshloop::testing
