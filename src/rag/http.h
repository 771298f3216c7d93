// The knowledge base's HTTP API as pure functions (JSON text in, status + JSON out), so they are tested without a
// server; http_routes.h registers them on api::Server.
//
//   POST /api/v1/kb/documents  {"documents":[{"id","text","title"?,"kind"?,"node"?,"time"?,"tags"?,"vector"?}]}
//                              -> 200 {"added":n,"documents":N,"chunks":C}
//   POST /api/v1/kb/query      {"query":"...","k"?:5,"mode"?:"hybrid","filter"?:{"kind","node","time_from",
//                               "time_to","tags"},"vector"?:[...]}
//                              -> 200 {"results":[{"doc_id","title","chunk","score","vector_score","keyword_score",
//                                      "text","kind","node","time","tags"}],"cache_hit":bool}
// Errors: 400 for malformed JSON, unknown or mistyped fields and invalid values; 413 for too many documents;
// 404 for a missing document; 500 otherwise; body {"error":{"code","message"}} like every api::Server error.
// Thread-safety: as the knowledge base and retriever they are given (both are thread-safe).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "rag/knowledge_base.h"
#include "rag/semantic_cache.h"

namespace meshloop::rag {

struct HttpReply {
  int status = 200;
  nlohmann::json body;
};

constexpr std::size_t kMaxDocumentsPerRequest = 1000;

HttpReply handle_add_documents(KnowledgeBase& kb, const std::string& body);
HttpReply handle_query(const CachedRetriever& retriever, const std::string& body);
// Knowledge-base and cache statistics (`kb stats`, GET /api/v1/kb/stats). `cache` may be null.
nlohmann::json stats_json(const KnowledgeBase& kb, const SemanticCache* cache);

}  // namespace meshloop::rag
