// A real OTLP/HTTP receiver for integration tests: tests/peers/otlp/otlp_peer.js, which starts the npm package
// @elastic/mockotlpserver through its library API on 127.0.0.1 at the port the test gives, and appends every trace
// request it decodes (http/protobuf or http/json) to a file as one JSON line {"contentType", "trace"}. The package
// comes from tests/peers/otlp/package-lock.json (scripts/setup runs `npm ci` there). Stopped on destruction.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "transport/process.h"

namespace meshloop::testing {

class OtlpPeer {
 public:
  // The peer's folder in the source tree (node_modules installed by scripts/setup). REQUIRES: the test target
  // defines MESHLOOP_TEST_SOURCE_DIR.
  static std::filesystem::path folder() {
    return std::filesystem::path(MESHLOOP_TEST_SOURCE_DIR) / "tests" / "peers" / "otlp";
  }
  // Why the peer cannot run here, or "" when it can.
  static std::string missing() {
    if (!std::filesystem::exists(folder() / "node_modules" / "@elastic" / "mockotlpserver")) {
      return "tests/peers/otlp/node_modules is missing: run scripts/setup (npm ci in tests/peers/otlp)";
    }
    if (!std::filesystem::exists("/usr/bin/node") && !std::filesystem::exists("/usr/local/bin/node")) {
      return "node (Node.js) is not installed";
    }
    return "";
  }

  OtlpPeer(std::filesystem::path dir, int port) : dir_(std::move(dir)), port_(port) {}
  ~OtlpPeer() { stop(); }
  OtlpPeer(const OtlpPeer&) = delete;
  OtlpPeer& operator=(const OtlpPeer&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  std::filesystem::path output() const { return dir_ / ("otlp-" + std::to_string(port_) + ".jsonl"); }
  std::filesystem::path log() const { return dir_ / ("otlp-peer-" + std::to_string(port_) + ".log"); }

  // Starts it and waits until it listens (up to 10 s).
  bool start() {
    transport::SpawnOptions o;
    const std::string node = std::filesystem::exists("/usr/bin/node") ? "/usr/bin/node" : "/usr/local/bin/node";
    o.argv = {node, (folder() / "otlp_peer.js").string(), std::to_string(port_), output().string()};
    o.output_path = log().string();
    auto child = transport::ChildProcess::spawn(o);
    if (!child.ok()) return false;
    process_ = std::move(child).value();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(log());
      std::string text((std::istreambuf_iterator<char>(in)), {});
      if (text.find("listening") != std::string::npos) return true;
      if (!process_.running()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  void stop() {
    if (process_.pid() > 0 && process_.running()) process_.terminate(std::chrono::milliseconds(3000));
  }

  // Every request received so far, parsed.
  std::vector<nlohmann::json> requests() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(output());
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(std::move(j));
    }
    return out;
  }

 private:
  std::filesystem::path dir_;
  int port_;
  transport::ChildProcess process_;
};

}  // namespace meshloop::testing
