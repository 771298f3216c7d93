// Protocol behaviour as scenario scripts with golden transcripts (STYLE.md, after etcd's raft).
//
// Each tests/mesh/scenarios/NAME.scenario is a script; running it prints a transcript of what the nodes did
// (neighbours, route changes, failovers) and what the script asked to see. The transcript must equal NAME.golden.
// To accept a behaviour change, rewrite the goldens and review the diff:
//   MESHLOOP_UPDATE_GOLDEN=1 ./build/tests/mesh/mesh_scenario_tests
//
// Script commands (one per line, '#' starts a comment):
//   nodes N                      nodes 1..N
//   link A B [A B ...]           point-to-point links
//   run DURATION                 advance virtual time (e.g. 2s, 500ms)
//   cut A B | heal A B           drop / restore a link's packets both ways
//   crash N | restart N          destroy a node / start it again with a new boot epoch
//   flow A B INTERVAL            A sends to B every INTERVAL
//   routes N                     print N's routing table (next hop, cost, backup path, pinned)
//   delivery A B                 print packets sent and delivered from A to B
//   next-hop A D                 print A's next hop towards D
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/mini_mesh.h"
#include "core/config.h"

namespace meshloop::mesh {
namespace {

namespace fs = std::filesystem;

fs::path scenario_dir() {
  if (const char* src = std::getenv("MESHLOOP_SOURCE_DIR")) return fs::path(src) / "tests/mesh/scenarios";
  return fs::path(MESHLOOP_TEST_SOURCE_DIR) / "tests/mesh/scenarios";
}

std::string format_time(TimePoint t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%8.3f", to_seconds(t));
  return buf;
}

std::string run_script(const std::string& script) {
  NodeConfig config;
  config.hello_interval = milliseconds(100);
  config.dead_multiplier = 3;
  testing::MiniMesh mesh(config);
  std::ostringstream out;
  mesh.on_event = [&](NodeId id, const Event& e) {
    switch (e.kind) {
      case EventKind::kNeighbourUp:
      case EventKind::kNeighbourDown:
        out << format_time(e.at) << "  node " << id << ": " << event_kind_name(e.kind) << " " << e.peer << "\n";
        break;
      case EventKind::kRouteChanged:
        out << format_time(e.at) << "  node " << id << ": route to " << e.destination << " via "
            << (e.next_hop == kNoNode ? std::string("(unreachable)") : std::to_string(e.next_hop)) << "\n";
        break;
      case EventKind::kFailover:
        out << format_time(e.at) << "  node " << id << ": failover to " << e.destination << " (lost " << e.peer
            << ") pinned via " << e.next_hop << "\n";
        break;
      default:
        break;
    }
  };

  std::istringstream in(script);
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string cmd;
    if (!(words >> cmd)) continue;
    out << "> " << line.substr(line.find_first_not_of(' ')) << "\n";
    auto bad = [&](const std::string& why) {
      ADD_FAILURE() << "line " << line_no << ": " << why;
      out << "!! " << why << "\n";
    };
    if (cmd == "nodes") {
      int n = 0;
      words >> n;
      for (int i = 1; i <= n; ++i) mesh.add_node(static_cast<NodeId>(i));
    } else if (cmd == "link") {
      NodeId a = 0, b = 0;
      while (words >> a >> b) mesh.link(a, b);
    } else if (cmd == "run") {
      std::string d;
      words >> d;
      auto dur = parse_duration(d);
      if (!dur.ok()) {
        bad(dur.status().to_string());
        continue;
      }
      mesh.run_for(*dur);
    } else if (cmd == "cut" || cmd == "heal") {
      NodeId a = 0, b = 0;
      words >> a >> b;
      cmd == "cut" ? mesh.cut(a, b) : mesh.heal(a, b);
    } else if (cmd == "crash" || cmd == "restart") {
      NodeId n = 0;
      words >> n;
      cmd == "crash" ? mesh.crash(n) : mesh.restart(n);
    } else if (cmd == "flow") {
      NodeId a = 0, b = 0;
      std::string d;
      words >> a >> b >> d;
      mesh.flow(a, b, parse_duration(d).value());
    } else if (cmd == "routes") {
      NodeId n = 0;
      words >> n;
      for (const auto& r : mesh.node(n)->routes()) {
        out << "    " << r.destination << " via " << r.next_hop << " cost " << r.cost << " backup [";
        for (std::size_t i = 0; i < r.backup_path.size(); ++i) out << (i ? " " : "") << r.backup_path[i];
        out << "]" << (r.pinned ? " pinned" : "") << "\n";
      }
    } else if (cmd == "delivery") {
      NodeId a = 0, b = 0;
      words >> a >> b;
      out << "    sent " << mesh.sent(a, b) << " delivered " << mesh.delivered(a, b) << "\n";
    } else if (cmd == "next-hop") {
      NodeId a = 0, d = 0;
      words >> a >> d;
      out << "    " << mesh.node(a)->next_hop(d) << "\n";
    } else {
      bad("unknown command '" + cmd + "'");
    }
  }
  return out.str();
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, TranscriptMatchesGolden) {
  const fs::path script_path = scenario_dir() / (GetParam() + ".scenario");
  const fs::path golden_path = scenario_dir() / (GetParam() + ".golden");
  std::ifstream script_in(script_path);
  ASSERT_TRUE(script_in) << "cannot read " << script_path;
  std::stringstream script;
  script << script_in.rdbuf();
  const std::string transcript = run_script(script.str());
  // Same script, same transcript: the node is deterministic.
  EXPECT_EQ(transcript, run_script(script.str()));

  if (std::getenv("MESHLOOP_UPDATE_GOLDEN")) {
    std::ofstream(golden_path) << transcript;
    GTEST_SKIP() << "rewrote " << golden_path;
  }
  std::ifstream golden_in(golden_path);
  ASSERT_TRUE(golden_in) << "no golden " << golden_path << " (run with MESHLOOP_UPDATE_GOLDEN=1 to create it)";
  std::stringstream golden;
  golden << golden_in.rdbuf();
  EXPECT_EQ(transcript, golden.str()) << "transcript of " << script_path << " differs from its golden";
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ScenarioTest,
                         ::testing::Values("discovery", "failover", "partition_and_heal", "link_cut_and_flap"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace meshloop::mesh
