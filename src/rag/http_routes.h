// Registers the knowledge base's routes on the process's api::Server (see http.h for the request and response
// bodies): POST /api/v1/kb/documents (a write route), POST /api/v1/kb/query, GET /api/v1/kb/stats.
// Lives in its own target, meshloop::rag_http, so the knowledge base itself does not link the HTTP server.
#pragma once

#include "api/server.h"
#include "rag/knowledge_base.h"
#include "rag/semantic_cache.h"

namespace meshloop::rag {

// REQUIRES: before server.start(); kb, retriever and cache (may be null) outlive the server's use of the routes.
// `retriever` should wrap `kb` (with or without `cache`).
void register_http_routes(api::Server& server, KnowledgeBase& kb, const CachedRetriever& retriever,
                          const SemanticCache* cache);

}  // namespace meshloop::rag
