// mapek::node_window and mapek::NodeMapek: what a real node's loop observes from its own telemetry, and the
// operator controls the daemon exposes (mode, overrides with ids and expiry, incidents, the knowledge file).
#include "mapek/node_mapek.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace meshloop::mapek {
namespace {

namespace fs = std::filesystem;
using ml::EdgeFeature;
using ml::NodeFeature;

mesh::NeighbourInfo neighbour(NodeId id, mesh::PortId port, bool up, double in, double out, TimePoint since) {
  return mesh::NeighbourInfo{id, port, up, in, out, 1.0 / std::max(in * out, 0.05), 0.002, 100, since};
}

NodeSample sample(TimePoint at, std::vector<mesh::NeighbourInfo> nbs, std::vector<std::uint64_t> bytes, double cpu_s) {
  NodeSample s;
  s.telemetry.self = 5;
  s.telemetry.at = at;
  s.telemetry.neighbours = std::move(nbs);
  s.data_tx_bytes = std::move(bytes);
  s.cpu_seconds = cpu_s;
  return s;
}

float edge_of(const ml::Graph& g, NodeId from, NodeId to, EdgeFeature f) {
  for (std::size_t v = 0; v < g.num_nodes(); ++v) {
    if (g.node_id(v) != from) continue;
    for (std::int32_t e = g.offsets[v]; e < g.offsets[v + 1]; ++e) {
      if (g.node_id(static_cast<std::size_t>(g.targets[static_cast<std::size_t>(e)])) == to) {
        return g.edge_features(e, static_cast<Eigen::Index>(ml::index(f)));
      }
    }
  }
  ADD_FAILURE() << "no entry " << from << "->" << to;
  return std::nanf("");
}

float node_of(const ml::Graph& g, NodeId id, NodeFeature f) {
  for (std::size_t v = 0; v < g.num_nodes(); ++v) {
    if (g.node_id(v) == id)
      return g.node_features(static_cast<Eigen::Index>(v), static_cast<Eigen::Index>(ml::index(f)));
  }
  ADD_FAILURE() << "no node " << id;
  return std::nanf("");
}

TEST(NodeWindow, IsAStarOfTheNodeAndItsNeighboursWithWhatItMeasured) {
  const TimePoint t0 = kTimeZero + seconds(100);
  const TimePoint t1 = t0 + seconds(5);
  // Neighbour 9 on port 0 loses 20 % of its hellos towards us; neighbour 2 on port 1 went down 3 s ago.
  auto start =
      sample(t0, {neighbour(9, 0, true, 0.8, 1.0, t0 - seconds(60)), neighbour(2, 1, true, 1, 1, t0)}, {1000, 0}, 10.0);
  auto end =
      sample(t1, {neighbour(9, 0, true, 0.8, 1.0, t0 - seconds(60)), neighbour(2, 1, false, 0, 0, t1 - seconds(3))},
             {1000 + 625000, 0}, 11.0);
  const ml::Graph g = node_window(start, end, 3);
  ASSERT_TRUE(g.validate().ok()) << g.validate().message();
  ASSERT_EQ(g.num_nodes(), 3u);
  EXPECT_EQ(g.node_id(0), 2u);  // ascending ids
  EXPECT_EQ(g.node_id(1), 5u);
  EXPECT_EQ(g.node_id(2), 9u);
  EXPECT_EQ(g.num_edges(), 4u);  // one entry each way per neighbour

  EXPECT_NEAR(edge_of(g, 5, 9, EdgeFeature::kLossIn), 0.2, 1e-6);
  EXPECT_NEAR(edge_of(g, 5, 9, EdgeFeature::kLossOut), 0.0, 1e-6);
  EXPECT_NEAR(edge_of(g, 9, 5, EdgeFeature::kLossOut), 0.2, 1e-6);  // the same link from the other end
  EXPECT_NEAR(edge_of(g, 5, 9, EdgeFeature::kThroughputMbps), 625000 * 8 / 1e6 / 5, 1e-4);  // 1 Mbit/s
  EXPECT_TRUE(std::isnan(edge_of(g, 9, 5, EdgeFeature::kThroughputMbps)));
  EXPECT_NEAR(edge_of(g, 5, 9, EdgeFeature::kLinkAgeS), 65, 1e-3);
  EXPECT_EQ(edge_of(g, 5, 2, EdgeFeature::kUp), 0.0f);
  EXPECT_NEAR(edge_of(g, 5, 2, EdgeFeature::kLinkAgeS), 3, 1e-3);
  EXPECT_NEAR(edge_of(g, 5, 9, EdgeFeature::kRttMs), 2, 1e-4);

  EXPECT_NEAR(node_of(g, 5, NodeFeature::kCpu), 0.2, 1e-6);  // 1 CPU second over 5 s
  EXPECT_NEAR(node_of(g, 5, NodeFeature::kUpNeighbourRatio), 1.0 / 3, 1e-6);
  EXPECT_EQ(node_of(g, 9, NodeFeature::kTelemetryAgeS), 0.0f);
  EXPECT_NEAR(node_of(g, 2, NodeFeature::kTelemetryAgeS), 3, 1e-3);        // silent since it went down
  EXPECT_TRUE(std::isnan(node_of(g, 5, NodeFeature::kForwardLossRatio)));  // not measured on a real node
  EXPECT_TRUE(std::isnan(node_of(g, 9, NodeFeature::kCpu)));
}

TEST(NodeWindow, ANodeAloneIsOneNodeWithoutEdges) {
  const TimePoint t0 = kTimeZero + seconds(1);
  const ml::Graph g = node_window(sample(t0, {}, {}, 0), sample(t0 + seconds(5), {}, {}, 0), 0);
  ASSERT_TRUE(g.validate().ok());
  EXPECT_EQ(g.num_nodes(), 1u);
  EXPECT_EQ(g.num_edges(), 0u);
  EXPECT_TRUE(std::isnan(node_of(g, 5, NodeFeature::kUpNeighbourRatio)));
}

class NodeMapekTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/node_mapek_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  NodeMapekOptions options(const std::string& knowledge = "") {
    NodeMapekOptions o;
    o.self = 5;
    o.configured_links = 2;
    o.knowledge_path = knowledge;
    o.unix_offset_us = 1'700'000'000'000'000;  // the loop runs on Unix time
    return o;
  }
  NodeSample at(TimePoint t) {
    return sample(t, {neighbour(9, 0, true, 1, 1, kTimeZero), neighbour(2, 1, true, 1, 1, kTimeZero)}, {0, 0}, 0);
  }
  static bool has_cost(const std::vector<mesh::Command>& cmds, NodeId nb, double factor) {
    for (const auto& c : cmds) {
      auto* r = std::get_if<mesh::command::RaiseLinkCost>(&c);
      if (r && r->neighbour == nb && r->factor == factor) return true;
    }
    return false;
  }
  std::string dir_;
};

TEST_F(NodeMapekTest, APinIsAppliedListedAndUndoneWhenItExpires) {
  NodeMapek m(options());
  std::vector<mesh::Command> out;
  const TimePoint t0 = kTimeZero + seconds(10);
  m.tick(at(t0), nullptr, out);
  auto id = m.add_override(Element::link(5, 9), ActionKind::kRaiseLinkCost, seconds(3), t0, out);
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_TRUE(has_cost(out, 9, 4.0));
  auto state = m.state_json(t0);
  ASSERT_EQ(state["overrides"].size(), 1u);
  EXPECT_EQ(state["overrides"][0]["id"], *id);
  EXPECT_EQ(state["overrides"][0]["element"], "link 5-9");
  EXPECT_EQ(state["overrides"][0]["action"], "raise_link_cost");
  EXPECT_NEAR(state["overrides"][0]["expires_in_s"].get<double>(), 3.0, 1e-6);

  out.clear();
  m.tick(at(t0 + seconds(2)), nullptr, out);
  EXPECT_FALSE(has_cost(out, 9, 1.0)) << "undone before its expiry";
  m.tick(at(t0 + seconds(3)), nullptr, out);
  EXPECT_TRUE(has_cost(out, 9, 1.0)) << "not undone at its expiry";
  EXPECT_TRUE(m.state_json(t0 + seconds(3))["overrides"].empty());
  EXPECT_EQ(m.remove_override(*id, t0 + seconds(3), out).code(), StatusCode::kNotFound);
}

TEST_F(NodeMapekTest, RemovingAnOverrideByIdUndoesItsPin) {
  NodeMapek m(options());
  std::vector<mesh::Command> out;
  const TimePoint t0 = kTimeZero + seconds(10);
  auto id = m.add_override(Element::link(5, 2), ActionKind::kRaiseLinkCost, std::nullopt, t0, out);
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(m.state_json(t0)["overrides"][0]["expires_in_s"].is_null());
  out.clear();
  ASSERT_TRUE(m.remove_override(*id, t0 + seconds(1), out).ok());
  EXPECT_TRUE(has_cost(out, 2, 1.0));
  EXPECT_TRUE(m.state_json(t0)["overrides"].empty());
  EXPECT_EQ(m.remove_override(*id, t0 + seconds(1), out).code(), StatusCode::kNotFound);
}

TEST_F(NodeMapekTest, ObserveModeUndoesPinsAndRefusesNewOnes) {
  NodeMapek m(options());
  std::vector<mesh::Command> out;
  const TimePoint t0 = kTimeZero + seconds(10);
  ASSERT_TRUE(m.add_override(Element::link(5, 9), ActionKind::kRaiseLinkCost, std::nullopt, t0, out).ok());
  out.clear();
  m.set_mode(Mode::kObserve, t0, out);
  EXPECT_EQ(m.mode(), Mode::kObserve);
  EXPECT_TRUE(has_cost(out, 9, 1.0)) << "switching to observe must undo what is applied";
  EXPECT_TRUE(m.state_json(t0)["active_actions"].empty());
  out.clear();
  auto refused = m.add_override(Element::link(5, 2), ActionKind::kDrainLink, std::nullopt, t0, out);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(out.empty());
  // Forbidding actions changes nothing, so it is allowed in any mode.
  EXPECT_TRUE(m.add_override(Element::link(5, 2), std::nullopt, seconds(5), t0, out).ok());
}

TEST_F(NodeMapekTest, AnOverrideOnAnElementThisNodeCannotCommandIsRefused) {
  NodeMapek m(options());
  std::vector<mesh::Command> out;
  auto r = m.add_override(Element::link(7, 8), ActionKind::kRaiseLinkCost, std::nullopt, kTimeZero, out);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  r = m.add_override(Element::node(5), ActionKind::kDrainLink, std::nullopt, kTimeZero, out);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(out.empty());
}

TEST_F(NodeMapekTest, IncidentsComeFromTheKnowledgeFileNewestFirstInTheApiVocabulary) {
  Knowledge k;
  const Outcome outcomes[] = {Outcome::kRolledBack, Outcome::kReleased, Outcome::kProposed, Outcome::kPending};
  for (int i = 0; i < 4; ++i) {
    Incident inc;
    inc.reporter = 5;
    inc.detected_s = 1000 + i;
    inc.element = Element::link(5, 9);
    inc.diagnosis = Diagnosis::kDegradingLink;
    inc.action = ActionKind::kRaiseLinkCost;
    inc.outcome = outcomes[i];
    inc.reason = "reason " + std::to_string(i);
    k.add(inc);
  }
  const std::string path = dir_ + "/k.mlknow";
  ASSERT_TRUE(save_knowledge(k, path).ok());
  NodeMapek m(options(path));
  auto j = m.incidents_json(3)["incidents"];
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["id"], 4);
  EXPECT_EQ(j[0]["outcome"], "pending");
  EXPECT_EQ(j[1]["outcome"], "observed");
  EXPECT_EQ(j[1]["mode"], "observe");
  EXPECT_EQ(j[2]["outcome"], "recovered");  // released after a verified recovery
  EXPECT_EQ(j[2]["mode"], "act");
  EXPECT_EQ(j[2]["element"], "link 5-9");
  EXPECT_EQ(j[2]["diagnosis"], "degrading_link");
  EXPECT_EQ(j[2]["reason"], "reason 1");
  EXPECT_EQ(j[2]["time_s"], 1001.0);
  EXPECT_EQ(m.incidents_json(10)["incidents"][3]["outcome"], "rolled_back");
  EXPECT_EQ(m.state_json(kTimeZero)["knowledge"]["status"], "loaded");
}

TEST_F(NodeMapekTest, ADamagedKnowledgeFileIsMovedAsideAndNotUsed) {
  const std::string path = dir_ + "/k.mlknow";
  { std::ofstream(path) << "MLKNOW1\ngarbage"; }
  NodeMapek m(options(path));
  EXPECT_TRUE(m.incidents_json(10)["incidents"].empty());
  EXPECT_NE(m.state_json(kTimeZero)["knowledge"]["status"].get<std::string>().find("refused"), std::string::npos);
  EXPECT_TRUE(fs::exists(path + ".corrupt"));
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(NodeMapekTest, AnUnreadableModelFallsBackToThresholds) {
  const std::string path = dir_ + "/model.bin";
  { std::ofstream(path) << "not a model"; }
  auto o = options();
  o.model_path = path;
  NodeMapek m(o);
  EXPECT_EQ(m.loop().detector_name(), "thresholds");
  EXPECT_NE(m.state_json(kTimeZero)["model"].get<std::string>().find("refused"), std::string::npos);
}

TEST_F(NodeMapekTest, KnowledgeChangesAreSavedCrashSafelyAndReadBack) {
  const std::string path = dir_ + "/k.mlknow";
  {
    NodeMapek m(options(path));
    std::vector<mesh::Command> out;
    // A pin records a decision; observe mode then records nothing new but the knowledge must be written at flush.
    ASSERT_TRUE(m.add_override(Element::link(5, 9), ActionKind::kRaiseLinkCost, std::nullopt, kTimeZero, out).ok());
    m.flush();
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_TRUE(load_knowledge(path).ok());
}

}  // namespace
}  // namespace meshloop::mapek
