#include "rag/http_routes.h"

#include "rag/http.h"

namespace meshloop::rag {

namespace {
api::Response to_response(const HttpReply& r) { return api::Response::json(r.body, r.status); }
}  // namespace

void register_http_routes(api::Server& server, KnowledgeBase& kb, const CachedRetriever& retriever,
                          const SemanticCache* cache) {
  server.route(
      "POST", "/api/v1/kb/documents",
      [&kb](const api::Request& req) { return to_response(handle_add_documents(kb, req.body)); }, api::Access::kWrite);
  server.route("POST", "/api/v1/kb/query",
               [&retriever](const api::Request& req) { return to_response(handle_query(retriever, req.body)); });
  server.route("GET", "/api/v1/kb/stats",
               [&kb, cache](const api::Request&) { return api::Response::json(stats_json(kb, cache)); });
}

}  // namespace meshloop::rag
