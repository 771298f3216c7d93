// mapek::Knowledge: outcome counts, the persisted round trip, and refusal of damaged files.
#include "mapek/knowledge.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace meshloop::mapek {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/mapek_knowledge_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

Knowledge sample() {
  Knowledge k;
  Incident a;
  a.reporter = 3;
  a.detected_s = 41.5;
  a.element = Element::link(3, 8);
  a.diagnosis = Diagnosis::kDegradingLink;
  a.action = ActionKind::kRaiseLinkCost;
  a.outcome = Outcome::kPending;
  a.score = 0.93;
  a.harm_before = 0.012;
  a.reason = "degrading_link link 3-8: loss 0.31; chose raise_link_cost";
  const auto id = k.add(a);
  Incident done = *k.find(id);
  done.outcome = Outcome::kRecovered;
  done.harm_after = 0.0;
  done.time_to_recover_s = 5;
  k.update(done);
  Incident b;
  b.reporter = 9;
  b.element = Element::node(4);
  b.diagnosis = Diagnosis::kDroppingNode;
  b.action = ActionKind::kAvoidNode;
  b.outcome = Outcome::kRolledBack;
  b.explored = true;
  k.add(b);
  return k;
}

TEST(Knowledge, CountsVerifiedOutcomesOnce) {
  Knowledge k = sample();
  EXPECT_EQ(k.counts(Diagnosis::kDegradingLink, ActionKind::kRaiseLinkCost).trials, 1u);
  EXPECT_EQ(k.counts(Diagnosis::kDegradingLink, ActionKind::kRaiseLinkCost).successes, 1u);
  EXPECT_EQ(k.counts(Diagnosis::kDroppingNode, ActionKind::kAvoidNode).trials, 1u);
  EXPECT_EQ(k.counts(Diagnosis::kDroppingNode, ActionKind::kAvoidNode).successes, 0u);
  // Releasing a recovered action later does not count it again.
  Incident again = k.incidents().front();
  again.outcome = Outcome::kReleased;
  k.update(again);
  EXPECT_EQ(k.counts(Diagnosis::kDegradingLink, ActionKind::kRaiseLinkCost).trials, 1u);
}

TEST(Knowledge, SurvivesASaveAndLoadRoundTrip) {
  TempDir dir;
  const std::string path = dir.file("knowledge.bin");
  const Knowledge k = sample();
  ASSERT_TRUE(save_knowledge(k, path).ok());
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  auto loaded = load_knowledge(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->serialize(), k.serialize());
  ASSERT_EQ(loaded->incidents().size(), 2u);
  const Incident& a = loaded->incidents().front();
  EXPECT_EQ(a.element, Element::link(3, 8));
  EXPECT_EQ(a.outcome, Outcome::kRecovered);
  EXPECT_DOUBLE_EQ(a.time_to_recover_s, 5);
  EXPECT_EQ(loaded->counts(Diagnosis::kDroppingNode, ActionKind::kAvoidNode).trials, 1u);
  // New incidents continue the id sequence.
  Knowledge more = std::move(loaded).value();
  EXPECT_GT(more.add(Incident{}), 2u);
}

TEST(Knowledge, ASecondSaveReplacesTheFirstWhole) {
  TempDir dir;
  const std::string path = dir.file("k");
  ASSERT_TRUE(save_knowledge(Knowledge{}, path).ok());
  ASSERT_TRUE(save_knowledge(sample(), path).ok());
  auto loaded = load_knowledge(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->incidents().size(), 2u);
}

TEST(Knowledge, RefusesDamagedFilesAndSaysWhy) {
  TempDir dir;
  const std::string path = dir.file("k");
  ASSERT_TRUE(save_knowledge(sample(), path).ok());
  const std::string good = read(path);

  EXPECT_EQ(load_knowledge(dir.file("absent")).status().code(), StatusCode::kNotFound);

  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x20;
  write(path, flipped);
  auto r = load_knowledge(path);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos) << r.status().message();

  write(path, good.substr(0, good.size() - 10));
  r = load_knowledge(path);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("header says"), std::string::npos) << r.status().message();

  write(path, good.substr(0, 10));
  EXPECT_EQ(load_knowledge(path).status().code(), StatusCode::kCorruption);

  std::string magic = good;
  magic[0] = 'X';
  write(path, magic);
  EXPECT_NE(load_knowledge(path).status().message().find("bad magic"), std::string::npos);

  std::string version = good;
  version[8] = 2;
  write(path, version);
  EXPECT_EQ(load_knowledge(path).status().code(), StatusCode::kFailedPrecondition);
}

TEST(Knowledge, RefusesAWellChecksummedButInconsistentDocument) {
  EXPECT_EQ(Knowledge::parse("{}").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(Knowledge::parse("not json").status().code(), StatusCode::kCorruption);
  const std::string bad_counts =
      R"({"version":1,"next_id":1,"counts":[{"diagnosis":"degrading_link","action":"drain_link","trials":1,"successes":2}],"incidents":[]})";
  EXPECT_EQ(Knowledge::parse(bad_counts).status().code(), StatusCode::kCorruption);
  const std::string bad_ids =
      R"({"version":1,"next_id":1,"counts":[],"incidents":[{"id":5,"reporter":1,"detected_s":0,"element":"node 1","diagnosis":"down_node","action":"none","outcome":"proposed","explored":false,"score":0,"harm_before":0,"harm_after":-1,"time_to_recover_s":-1,"reason":""}]})";
  EXPECT_EQ(Knowledge::parse(bad_ids).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace meshloop::mapek
