// rag::ServedKnowledgeBase reports to obs::RagMetrics: queries through its HTTP routes (on several client threads at
// once, as the server's workers run them) show up in the registry's exposition as retrievals by mode and cache
// outcome, cache counters and entries, and the corpus size, with no value the knowledge base did not produce.
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>
#include <thread>
#include <vector>

#include "api/server.h"
#include "common/exposition_text.h"
#include "obs/exposition.h"
#include "obs/rag_metrics.h"
#include "rag/served_kb.h"

namespace meshloop::rag {
namespace {

using testing::exposition_value;

TEST(ServedKnowledgeBaseMetrics, QueriesShowUpAsRetrievalsCacheCountsAndCorpus) {
  obs::MetricsRegistry registry("7");
  obs::RagMetrics metrics(registry, {"hybrid", "vector", "keyword"});
  ServedKnowledgeBaseOptions o;
  o.runbooks = false;
  o.metrics = &metrics;
  ServedKnowledgeBase kb(o);
  api::Server server(api::ServerOptions{});
  kb.register_routes(server);
  ASSERT_TRUE(server.start().ok());
  kb.start();
  ASSERT_TRUE(kb.wait_ready().ok());

  std::string text = obs::serialize_text({&registry});
  // Before any query: every (mode, cache) series at zero, an empty corpus and cache.
  EXPECT_EQ(exposition_value(text, "meshloop_rag_retrieval_duration_seconds_count",
                             {{"node", "7"}, {"mode", "keyword"}, {"cache", "hit"}}),
            0);
  EXPECT_EQ(exposition_value(text, "meshloop_rag_documents"), 0);
  EXPECT_EQ(exposition_value(text, "meshloop_rag_cache_hits_total"), 0);

  httplib::Client c("127.0.0.1", server.port());
  auto added = c.Post("/api/v1/kb/documents", R"({"documents":[
      {"id":"a","text":"node 12 kept its hellos but silently dropped forwarded data packets: a gray hole"},
      {"id":"b","text":"the link between node 3 and node 4 lost a third of its hellos during the storm"}]})",
                      "application/json");
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 200) << added->body;
  text = obs::serialize_text({&registry});
  EXPECT_EQ(exposition_value(text, "meshloop_rag_documents"), 2);
  EXPECT_GE(exposition_value(text, "meshloop_rag_chunks").value_or(0), 2);

  // Four threads each ask the same hybrid question twice (one of the eight at least misses, the repeats can hit)
  // and one keyword question.
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      httplib::Client tc("127.0.0.1", server.port());
      for (int i = 0; i < 2; ++i) {
        auto r = tc.Post("/api/v1/kb/query", R"({"query":"which node silently drops forwarded packets?"})",
                         "application/json");
        EXPECT_TRUE(r && r->status == 200);
      }
      auto r = tc.Post("/api/v1/kb/query", R"({"query":"hello loss on a link","mode":"keyword"})", "application/json");
      EXPECT_TRUE(r && r->status == 200);
    });
  }
  for (auto& t : clients) t.join();
  auto last =
      c.Post("/api/v1/kb/query", R"({"query":"which node silently drops forwarded packets?"})", "application/json");
  ASSERT_TRUE(last);
  EXPECT_NE(last->body.find("\"cache_hit\":true"), std::string::npos) << last->body;

  text = obs::serialize_text({&registry});
  const auto count = [&](const char* mode, const char* cache) {
    return exposition_value(text, "meshloop_rag_retrieval_duration_seconds_count", {{"mode", mode}, {"cache", cache}})
        .value_or(-1);
  };
  const double hybrid_hit = count("hybrid", "hit"), hybrid_miss = count("hybrid", "miss");
  const double keyword = count("keyword", "hit") + count("keyword", "miss");
  EXPECT_EQ(hybrid_hit + hybrid_miss, 9);
  EXPECT_GE(hybrid_hit, 1);
  EXPECT_GE(hybrid_miss, 1);
  EXPECT_EQ(keyword, 4);
  EXPECT_EQ(count("vector", "hit") + count("vector", "miss"), 0);
  // The cache counters are the cache's own counts: every retrieval was a lookup, a hit or a miss.
  const double hits = exposition_value(text, "meshloop_rag_cache_hits_total").value_or(-1);
  const double misses = exposition_value(text, "meshloop_rag_cache_misses_total").value_or(-1);
  EXPECT_EQ(hits + misses, 13);
  EXPECT_EQ(hits, hybrid_hit + count("keyword", "hit"));
  EXPECT_GE(exposition_value(text, "meshloop_rag_cache_entries").value_or(0), 2);
  EXPECT_EQ(exposition_value(text, "meshloop_rag_cache_evictions_total"), 0);
  EXPECT_GT(exposition_value(text, "meshloop_rag_retrieval_duration_seconds_sum", {{"mode", "hybrid"}}).value_or(0), 0);

  // An add changes the knowledge base: the next lookup drops the cached entries (invalidations).
  added = c.Post("/api/v1/kb/documents", R"({"documents":[{"id":"c","text":"a crashed node stops sending hellos"}]})",
                 "application/json");
  ASSERT_TRUE(added && added->status == 200);
  ASSERT_TRUE(
      c.Post("/api/v1/kb/query", R"({"query":"which node silently drops forwarded packets?"})", "application/json"));
  text = obs::serialize_text({&registry});
  EXPECT_EQ(exposition_value(text, "meshloop_rag_documents"), 3);
  EXPECT_GE(exposition_value(text, "meshloop_rag_cache_invalidations_total").value_or(0), 2);
  server.stop();
}

}  // namespace
}  // namespace meshloop::rag
