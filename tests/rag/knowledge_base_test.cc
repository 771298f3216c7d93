// The knowledge base: chunking, hybrid retrieval, filters, incremental change, and persistence that refuses
// damaged files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/rng.h"
#include "rag/durable_file.h"
#include "rag/knowledge_base.h"

namespace meshloop::rag {
namespace {

std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("meshloop-kb-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::vector<Document> corpus() {
  return {
      {"rb-link-cut", "Link cut", "A link between two nodes stops carrying hellos. Neighbours time out and routes "
       "fail over to the backup path. Check the interface and the cable.", {"runbook", "", 0, {"link"}}, {}},
      {"rb-crash", "Node crash", "A node stops responding entirely. All of its links go down at once and its "
       "neighbours withdraw it from the link-state database. Restart the node process.", {"runbook", "", 0, {"node"}},
       {}},
      {"rb-auth", "Authentication failures", "Packets are rejected because their HMAC tag does not verify. The mesh "
       "pre-shared key differs between nodes. Rotate the key on every node.", {"runbook", "", 0, {"security"}}, {}},
      {"inc-1", "Incident 1", "Loss burst on link 3-7, raised link cost, traffic moved to 3-5-7.",
       {"incident", "node-3", 1000, {"loss"}}, {}},
      {"inc-2", "Incident 2", "Node 12 crashed; routes reconverged in 1.2 seconds.",
       {"incident", "node-12", 2000, {"crash"}}, {}},
  };
}

KnowledgeBaseOptions small_options() {
  KnowledgeBaseOptions o;
  o.hnsw.initial_capacity = 16;
  return o;
}

TEST(KnowledgeBase, FindsTheRunbookForAParaphrasedQuestion) {
  KnowledgeBase kb(small_options(), WordNet::shared_default());
  ASSERT_TRUE(kb.add_all(corpus()).ok());
  for (auto mode : {SearchMode::kVector, SearchMode::kKeyword, SearchMode::kHybrid}) {
    auto r = kb.query(Query{"the shared key does not match and HMAC tags are rejected", {}, 3, mode, {}});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    ASSERT_FALSE(r->empty());
    EXPECT_EQ(r->at(0).doc_id, "rb-auth") << search_mode_name(mode);
  }
}

TEST(KnowledgeBase, FiltersByKindNodeTimeAndTags) {
  KnowledgeBase kb(small_options(), WordNet::shared_default());
  ASSERT_TRUE(kb.add_all(corpus()).ok());
  Query q{"node crashed and routes failed over", {}, 5, SearchMode::kHybrid, {}};
  q.filter.kind = "incident";
  auto r = kb.query(q);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  for (const auto& h : *r) EXPECT_EQ(h.meta.kind, "incident");
  q.filter.node = "node-12";
  r = kb.query(q);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->at(0).doc_id, "inc-2");
  q.filter = Filter{};
  q.filter.time_from = 1500;
  q.filter.tags_all = {"crash"};
  r = kb.query(q);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->at(0).doc_id, "inc-2");
}

TEST(KnowledgeBase, RemoveAndReplaceChangeResultsAndVersion) {
  KnowledgeBase kb(small_options(), WordNet::shared_default());
  ASSERT_TRUE(kb.add_all(corpus()).ok());
  const auto v0 = kb.version();
  ASSERT_TRUE(kb.remove("rb-auth").ok());
  EXPECT_GT(kb.version(), v0);
  EXPECT_EQ(kb.remove("rb-auth").code(), StatusCode::kNotFound);
  auto r = kb.query(Query{"HMAC key rejected", {}, 5, SearchMode::kHybrid, {}});
  ASSERT_TRUE(r.ok());
  for (const auto& h : *r) EXPECT_NE(h.doc_id, "rb-auth");
  Document replaced = corpus()[0];
  replaced.text = "Completely different text about radio interference and channel noise.";
  ASSERT_TRUE(kb.add(replaced).ok());
  EXPECT_EQ(kb.stats().documents, 4u);
  r = kb.query(Query{"radio interference", {}, 1, SearchMode::kKeyword, {}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->at(0).doc_id, "rb-link-cut");
}

TEST(KnowledgeBase, ChunksLongDocumentsWithOverlap) {
  KnowledgeBaseOptions o = small_options();
  o.chunk_chars = 200;
  o.chunk_overlap = 40;
  KnowledgeBase kb(o, nullptr);
  std::string text;
  for (int i = 0; i < 40; ++i) text += "Sentence number " + std::to_string(i) + " talks about topic " + std::to_string(i) + ". ";
  ASSERT_TRUE(kb.add(Document{"long", "Long", text, {}, {}}).ok());
  EXPECT_GT(kb.stats().chunks, 5u);
  auto r = kb.query(Query{"sentence number 33", {}, 1, SearchMode::kKeyword, {}});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->at(0).text.find("33"), std::string::npos);
}

TEST(KnowledgeBase, RejectsMalformedInput) {
  KnowledgeBase kb(small_options(), nullptr);
  EXPECT_EQ(kb.add(Document{"", "t", "x", {}, {}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(kb.add(Document{"a", "t", "   ", {}, {}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(kb.add(Document{"a", "t", "x", {}, std::vector<float>(384, 1.0f)}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(kb.query(Query{"", {}, 5, SearchMode::kHybrid, {}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(kb.query(Query{"x", {}, 0, SearchMode::kHybrid, {}}).status().code(), StatusCode::kInvalidArgument);
  KnowledgeBaseOptions ext = small_options();
  ext.external_vectors = true;
  ext.hnsw.dim = 4;
  KnowledgeBase kbx(ext, nullptr);
  EXPECT_EQ(kbx.add(Document{"a", "t", "x", {}, {}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(kbx.add(Document{"a", "t", "x", {}, std::vector<float>{1, 2}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(kbx.add(Document{"a", "t", "x", {}, std::vector<float>{0, 0, 0, 0}}).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(kbx.add(Document{"a", "t", "x", {}, std::vector<float>{1, 0, 0, 0}}).ok());
  ASSERT_TRUE(kbx.add(Document{"b", "t", "y", {}, std::vector<float>{0, 1, 0, 0}}).ok());
  auto r = kbx.query(Query{"", std::vector<float>{0.1f, 0.9f, 0, 0}, 1, SearchMode::kVector, {}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->at(0).doc_id, "b");
  EXPECT_EQ(kbx.query(Query{"y", {}, 1, SearchMode::kVector, {}}).status().code(), StatusCode::kInvalidArgument);
}

TEST(KnowledgeBase, SaveLoadRoundTripGivesIdenticalResults) {
  KnowledgeBase kb(small_options(), WordNet::shared_default());
  ASSERT_TRUE(kb.add_all(corpus()).ok());
  ASSERT_TRUE(kb.remove("inc-1").ok());
  const auto path = temp_path("kb.mlkb");
  ASSERT_TRUE(kb.save(path).ok());
  auto back = KnowledgeBase::load(path, WordNet::shared_default());
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ((*back)->stats().documents, kb.stats().documents);
  EXPECT_EQ((*back)->version(), kb.version());
  for (const char* text : {"link failure backup path", "restart the crashed node", "key rotation", "routes"}) {
    for (auto mode : {SearchMode::kVector, SearchMode::kKeyword, SearchMode::kHybrid}) {
      auto a = kb.query(Query{text, {}, 5, mode, {}});
      auto b = (*back)->query(Query{text, {}, 5, mode, {}});
      ASSERT_TRUE(a.ok() && b.ok());
      ASSERT_EQ(a->size(), b->size());
      for (std::size_t i = 0; i < a->size(); ++i) {
        EXPECT_EQ(a->at(i).chunk_id, b->at(i).chunk_id);
        EXPECT_FLOAT_EQ(a->at(i).score, b->at(i).score);
      }
    }
  }
  // Adding after a load keeps working (ids do not collide).
  ASSERT_TRUE((*back)->add(Document{"new", "New", "brand new runbook about flapping links", {}, {}}).ok());
  EXPECT_EQ((*back)->stats().documents, kb.stats().documents + 1);
}

TEST(KnowledgeBase, TruncatedOrCorruptedFilesAreRefusedWithAClearError) {
  KnowledgeBase kb(small_options(), WordNet::shared_default());
  ASSERT_TRUE(kb.add_all(corpus()).ok());
  const auto path = temp_path("kb.mlkb");
  ASSERT_TRUE(kb.save(path).ok());
  auto good = read_file(path);
  ASSERT_TRUE(good.ok());
  const std::string& bytes = *good;
  // A crash while writing leaves a prefix of the new file (in the temp file; rename is atomic). Every prefix of
  // the file is refused.
  for (std::size_t len = 0; len < bytes.size(); len += std::max<std::size_t>(1, bytes.size() / 37)) {
    ASSERT_TRUE(write_file_atomically(path, std::string_view(bytes).substr(0, len)).ok());
    auto r = KnowledgeBase::load(path, WordNet::shared_default());
    ASSERT_FALSE(r.ok()) << "prefix of " << len << " bytes was accepted";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().to_string();
  }
  // One flipped bit anywhere is refused.
  for (std::size_t pos = 0; pos < bytes.size(); pos += std::max<std::size_t>(1, bytes.size() / 29)) {
    std::string bad = bytes;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x10);
    ASSERT_TRUE(write_file_atomically(path, bad).ok());
    auto r = KnowledgeBase::load(path, WordNet::shared_default());
    ASSERT_FALSE(r.ok()) << "flip at " << pos << " was accepted";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find(path), std::string::npos);
  }
  EXPECT_EQ(KnowledgeBase::load(path + ".missing", nullptr).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace meshloop::rag
