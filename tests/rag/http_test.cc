// The HTTP handlers as pure functions: good requests, and malformed ones answered with a 4xx and a message.
#include <gtest/gtest.h>

#include "rag/http.h"

namespace meshloop::rag {
namespace {

class KbHttp : public ::testing::Test {
 protected:
  KbHttp() : kb_(options(), nullptr), retriever_(kb_, nullptr, nullptr) {}
  static KnowledgeBaseOptions options() {
    KnowledgeBaseOptions o;
    o.hnsw.initial_capacity = 16;
    return o;
  }
  KnowledgeBase kb_;
  CachedRetriever retriever_;
};

TEST_F(KbHttp, AddsDocumentsAndQueriesThemWithFilters) {
  auto r = handle_add_documents(kb_, R"({"documents":[
      {"id":"a","title":"Loss burst","text":"packet loss burst on link 3-7","kind":"incident","node":"node-3",
       "time":100,"tags":["loss"]},
      {"id":"b","text":"node crash runbook: restart the process","kind":"runbook"}]})");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["added"], 2);
  auto q = handle_query(retriever_, R"({"query":"packet loss on link 3-7","k":2,"filter":{"kind":"incident"}})");
  ASSERT_EQ(q.status, 200) << q.body.dump();
  ASSERT_EQ(q.body["results"].size(), 1u);
  EXPECT_EQ(q.body["results"][0]["doc_id"], "a");
  EXPECT_EQ(q.body["results"][0]["node"], "node-3");
  EXPECT_EQ(q.body["cache_hit"], false);
}

TEST_F(KbHttp, MalformedRequestsGetA4xxWithAMessage) {
  const std::pair<const char*, int> add_cases[] = {
      {"not json", 400},
      {"[1,2]", 400},
      {R"({"documents":[]})", 400},
      {R"({"documents":[{"text":"no id"}]})", 400},
      {R"({"documents":[{"id":"x","text":"t","tags":"notalist"}]})", 400},
      {R"({"documents":[{"id":"x","text":"t","time":"yesterday"}]})", 400},
      {R"({"documents":[{"id":"x","text":"t","colour":"blue"}]})", 400},
      {R"({"documents":[{"id":"x","text":"t","vector":[1,2,3]}]})", 400},
      {R"({"documents":[{"id":"x","text":"   "}]})", 400},
      {R"({"docs":[{"id":"x","text":"t"}]})", 400},
  };
  for (const auto& [body, status] : add_cases) {
    auto r = handle_add_documents(kb_, body);
    EXPECT_EQ(r.status, status) << body;
    ASSERT_TRUE(r.body.contains("error")) << body;
    EXPECT_FALSE(r.body["error"]["message"].get<std::string>().empty()) << body;
  }
  // A bad document later in a request leaves nothing of that request applied.
  auto r = handle_add_documents(kb_, R"({"documents":[{"id":"ok","text":"fine"},{"id":"bad"}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(kb_.contains("ok"));

  ASSERT_EQ(handle_add_documents(kb_, R"({"documents":[{"id":"a","text":"some text"}]})").status, 200);
  const char* query_cases[] = {
      "{", R"({"k":5})", R"({"query":"x","k":0})", R"({"query":"x","k":101})", R"({"query":"x","k":"5"})",
      R"({"query":"x","mode":"fuzzy"})", R"({"query":"x","filter":[]})", R"({"query":"x","filter":{"kind":3}})",
      R"({"query":"x","filter":{"colour":"x"}})", R"({"query":7})", R"({"query":"x","vector":[1,2]})",
      R"({"query":"x","top_k":3})",
  };
  for (const char* body : query_cases) {
    auto q = handle_query(retriever_, body);
    EXPECT_EQ(q.status, 400) << body << " -> " << q.body.dump();
    EXPECT_TRUE(q.body.contains("error")) << body;
  }
}

TEST_F(KbHttp, TooManyDocumentsIs413) {
  std::string body = R"({"documents":[)";
  for (std::size_t i = 0; i <= kMaxDocumentsPerRequest; ++i) {
    body += (i ? "," : "") + std::string(R"({"id":"d)") + std::to_string(i) + R"(","text":"t"})";
  }
  body += "]}";
  EXPECT_EQ(handle_add_documents(kb_, body).status, 413);
}

}  // namespace
}  // namespace meshloop::rag
