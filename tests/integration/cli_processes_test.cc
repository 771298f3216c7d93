// The meshloop binary's node and demo commands as a user runs them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "api/client.h"
#include "transport/local_mesh.h"
#include "transport/process.h"

namespace meshloop::transport {
namespace {

struct CliRun {
  int status = -1;
  std::string output;
};

class CliProcessesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("MESHLOOP_BIN");
    ASSERT_NE(bin, nullptr) << "MESHLOOP_BIN must name the meshloop binary (ctest sets it)";
    bin_ = bin;
    dir_ = make_temp_dir("meshloop-cli-it").value();
  }
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }
  CliRun run(std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(10),
             std::vector<std::string> env = {}) {
    args.insert(args.begin(), bin_);
    const std::string out = dir_ + "/out-" + std::to_string(++runs_) + ".txt";
    auto child = ChildProcess::spawn({args, out, env});
    EXPECT_TRUE(child.ok());
    CliRun r;
    if (!child.ok()) return r;
    auto st = child->wait_for(timeout);
    EXPECT_TRUE(st.has_value()) << "meshloop did not exit within " << timeout.count() << " s";
    if (!st) child->terminate();
    r.status = st ? *st : -1;
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    r.output = ss.str();
    return r;
  }
  std::string bin_, dir_;
  int runs_ = 0;
};

int exit_code(const CliRun& r) { return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1; }

TEST_F(CliProcessesTest, NodeRejectsBadInputWithExitCode2AndAPreciseMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"node"}, "node id is required"},
      {{"node", "--id", "x"}, "node.id"},
      {{"node", "--id", "1", "--peer", "127.0.0.1"}, "missing ':port'"},
      {{"node", "--id", "1", "--listen", "1.2.3.4.5:9"}, "node.listen"},
      {{"node", "--id", "1", "--traffic", "2"}, "DST_ID:RATE"},
      {{"node", "--id", "1", "--hello-interval", "soon"}, "mesh.hello_interval"},
      {{"node", "--id", "1", "--dead-multiplier", "1"}, "dead_multiplier"},
      {{"node", "--id", "1", "--log-level", "loud"}, "log level"},
      {{"node", "--id", "1", "--http-listen", "127.0.0.1:99999"}, "http.listen"},
  };
  for (const auto& c : cases) {
    CliRun r = run(c.args);
    EXPECT_EQ(exit_code(r), 2) << r.output;
    EXPECT_NE(r.output.find(c.says), std::string::npos) << "expected '" << c.says << "' in: " << r.output;
  }
  CliRun env = run({"node"}, std::chrono::seconds(10), {"MESHLOOP_NODE_ID=0"});
  EXPECT_EQ(exit_code(env), 2);
  std::ofstream(dir_ + "/bad.yaml") << "node:\n  idd: 3\n";
  CliRun yaml = run({"node", "--config", dir_ + "/bad.yaml"});
  EXPECT_EQ(exit_code(yaml), 2);
  EXPECT_NE(yaml.output.find("node.idd"), std::string::npos) << yaml.output;
}

// Calibration windows must be held out from training and from validation: an overlapping seed is refused before
// anything is simulated or written.
TEST_F(CliProcessesTest, TrainRefusesACalibrationSeedItTrainsOrValidatesOn) {
  const std::string model = dir_ + "/model.bin";
  for (const auto& [seeds, says] : {std::pair{"3,101", "calibration seed 101 is also a validation seed"},
                                    std::pair{"1", "calibration seed 1 is also a training seed"}}) {
    CliRun r = run({"train", "--quiet", "--out", model, "--train-seeds", "1,2", "--val-seeds", "101",
                    "--calibration-seeds", seeds});
    EXPECT_EQ(exit_code(r), 2) << r.output;
    EXPECT_NE(r.output.find(says), std::string::npos) << "expected '" << says << "' in: " << r.output;
  }
  EXPECT_FALSE(std::filesystem::exists(model));
}

// A tiny end-to-end run: the calibration runs are simulated on the training topologies, listed in the report as
// their own set, and the thresholds come from them.
TEST_F(CliProcessesTest, TrainCalibratesOnItsHeldOutCalibrationRuns) {
  const std::string model = dir_ + "/model.bin", report = dir_ + "/report.json";
  CliRun r = run({"train",
                  "--quiet",
                  "--out",
                  model,
                  "--report",
                  report,
                  "--nodes",
                  "8",
                  "--duration",
                  "80s",
                  "--faults",
                  "2",
                  "--epochs",
                  "1",
                  "--train-topologies",
                  "rgg",
                  "--val-topologies",
                  "rgg",
                  "--train-seeds",
                  "1",
                  "--calibration-seeds",
                  "2",
                  "--val-seeds",
                  "101"},
                 std::chrono::seconds(50));
  ASSERT_EQ(exit_code(r), 0) << r.output;
  std::ifstream in(report);
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["calibration"]["set"], "calibration");
  std::size_t calibration_windows = 0;
  std::vector<std::string> sets;
  for (const auto& run : j["runs"]) {
    sets.push_back(run["set"].get<std::string>());
    if (run["set"] == "calibration") {
      EXPECT_EQ(run["seed"], 2);
      calibration_windows += run["windows"].get<std::size_t>();
    }
  }
  EXPECT_EQ(sets, (std::vector<std::string>{"train", "calibration", "validation"}));
  EXPECT_GT(calibration_windows, 0u);
  EXPECT_EQ(j["calibration"]["windows"], calibration_windows);
  EXPECT_TRUE(std::filesystem::exists(model));
}

TEST_F(CliProcessesTest, NodeStopsCleanlyOnSigterm) {
  const auto port = free_udp_port().value();
  const std::string out = dir_ + "/node.txt";
  auto child = ChildProcess::spawn(
      {{bin_, "node", "--id", "5", "--listen", "127.0.0.1:" + std::to_string(port), "--http-listen", "127.0.0.1:0"},
       out,
       {}});
  ASSERT_TRUE(child.ok());
  std::string log;
  for (int i = 0; i < 100 && log.find("listening on udp") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    log = ss.str();
  }
  EXPECT_NE(log.find("http api on http://127.0.0.1:"), std::string::npos) << log;  // port 0: the bound port is logged
  EXPECT_NE(log.find("default mesh key"), std::string::npos) << log;
  child->signal(SIGTERM);
  auto st = child->wait_for(std::chrono::seconds(5));
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(describe_wait_status(*st), "exit 0");
}

TEST_F(CliProcessesTest, DemoReportsRecoveriesAndLeavesNoProcessBehind) {
  CliRun r = run({"demo", "--nodes", "4", "--duration", "9s", "--fault-interval", "3s", "--work-dir", dir_ + "/demo",
                  "--seed", "3", "--prometheus", "off"},
                 std::chrono::seconds(40));
  EXPECT_EQ(exit_code(r), 0) << r.output;
  EXPECT_NE(r.output.find("converged"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("fault #1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("summary after"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("NOT recovered"), std::string::npos) << r.output;
  // Every node log ends with a clean stop or belongs to a node that was killed and restarted.
  for (int id = 1; id <= 4; ++id) {
    std::ifstream in(dir_ + "/demo/node-" + std::to_string(id) + ".log");
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_NE(ss.str().find("stopped"), std::string::npos) << "node " << id << " did not stop cleanly:\n" << ss.str();
  }
}

// The demo's Prometheus scrapes every node (up == 1 for each) and loads the alert rules it is given; Ctrl-C stops
// the demo, the nodes and Prometheus.
TEST_F(CliProcessesTest, DemoRunsAPrometheusThatScrapesEveryNodeAndStopsWithIt) {
  const std::string rules = dir_ + "/rules.yml";
  std::ofstream(rules) << "groups:\n  - name: demo-test\n    rules:\n      - alert: MeshNodeDown\n"
                          "        expr: up{job=\"meshloop\"} == 0\n        for: 10s\n";
  const std::string out = dir_ + "/demo-prom.txt";
  SpawnOptions spawn;
  // clang-format off
  spawn.argv = {bin_, "demo", "--nodes", "4", "--fault-interval", "60s", "--prometheus-port", "0",
                "--alert-rules", rules, "--work-dir", dir_ + "/demo"};
  // clang-format on
  spawn.output_path = out;
  auto child = ChildProcess::spawn(spawn);
  ASSERT_TRUE(child.ok());
  auto output = [&out] {
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  int port = 0;
  std::size_t up = 0;
  std::size_t rule_groups = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline && up < 4) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const std::string text = output();
    const auto at = text.find("Prometheus: http://127.0.0.1:");
    if (at == std::string::npos) continue;
    port = std::stoi(text.substr(at + 29));
    auto r = api::http_get("127.0.0.1", port, "/api/v1/query?query=up%3D%3D1", std::chrono::milliseconds(1000));
    if (!r.ok() || r->status != 200) continue;
    up = nlohmann::json::parse(r->body)["data"]["result"].size();
    auto rr = api::http_get("127.0.0.1", port, "/api/v1/rules", std::chrono::milliseconds(1000));
    if (rr.ok() && rr->status == 200) rule_groups = nlohmann::json::parse(rr->body)["data"]["groups"].size();
  }
  EXPECT_EQ(up, 4u) << output();
  EXPECT_EQ(rule_groups, 1u) << output();
  child->signal(SIGINT);
  auto st = child->wait_for(std::chrono::seconds(15));
  ASSERT_TRUE(st.has_value()) << output();
  EXPECT_EQ(describe_wait_status(*st), "exit 0") << output();
  ASSERT_NE(port, 0);
  EXPECT_FALSE(api::http_get("127.0.0.1", port, "/-/ready", std::chrono::milliseconds(500)).ok())
      << "Prometheus still answers after the demo stopped";
}

}  // namespace
}  // namespace meshloop::transport
