#include "rag/http.h"

#include <set>

namespace meshloop::rag {

using nlohmann::json;

namespace {

HttpReply error(int status, const std::string& code, const std::string& message) {
  return HttpReply{status, json{{"error", {{"code", code}, {"message", message}}}}};
}
HttpReply from_status(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument: return error(400, "invalid_argument", s.message());
    case StatusCode::kNotFound: return error(404, "not_found", s.message());
    case StatusCode::kResourceExhausted: return error(429, "resource_exhausted", s.message());
    case StatusCode::kDeadlineExceeded: return error(504, "deadline_exceeded", s.message());
    case StatusCode::kFailedPrecondition: return error(400, "failed_precondition", s.message());
    default: return error(500, status_code_name(s.code()), s.message());
  }
}

// Rejects fields outside `allowed` (a typo must not silently do nothing).
Status only_fields(const json& obj, const std::set<std::string>& allowed, const std::string& where) {
  for (const auto& [k, v] : obj.items()) {
    if (!allowed.count(k)) return Status::InvalidArgument(where + ": unknown field '" + k + "'");
  }
  return Status::Ok();
}
Status get_string(const json& obj, const char* key, std::string& out, const std::string& where, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return required ? Status::InvalidArgument(where + ": '" + key + "' is required") : Status::Ok();
  }
  if (!it->is_string()) return Status::InvalidArgument(where + ": '" + key + "' must be a string");
  out = it->get<std::string>();
  return Status::Ok();
}
Status get_vector(const json& obj, std::optional<std::vector<float>>& out, const std::string& where) {
  auto it = obj.find("vector");
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_array() || it->empty()) return Status::InvalidArgument(where + ": 'vector' must be a non-empty array of numbers");
  std::vector<float> v;
  v.reserve(it->size());
  for (const auto& x : *it) {
    if (!x.is_number()) return Status::InvalidArgument(where + ": 'vector' must hold numbers only");
    v.push_back(x.get<float>());
  }
  out = std::move(v);
  return Status::Ok();
}
Status get_tags(const json& obj, const char* key, std::vector<std::string>& out, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return Status::InvalidArgument(where + ": '" + key + "' must be an array of strings");
  for (const auto& t : *it) {
    if (!t.is_string()) return Status::InvalidArgument(where + ": '" + key + "' must be an array of strings");
    out.push_back(t.get<std::string>());
  }
  return Status::Ok();
}
Status get_int(const json& obj, const char* key, std::optional<std::int64_t>& out, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer()) return Status::InvalidArgument(where + ": '" + key + "' must be an integer");
  out = it->get<std::int64_t>();
  return Status::Ok();
}

Result<json> parse_object(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("request body is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  return j;
}

#define ML_TRY(expr)                              \
  do {                                            \
    if (Status s_ = (expr); !s_.ok()) return s_;  \
  } while (0)

Result<Document> parse_document(const json& j, std::size_t index) {
  const std::string where = "documents[" + std::to_string(index) + "]";
  if (!j.is_object()) return Status::InvalidArgument(where + " must be an object");
  ML_TRY(only_fields(j, {"id", "title", "text", "kind", "node", "time", "tags", "vector"}, where));
  Document d;
  ML_TRY(get_string(j, "id", d.id, where, true));
  ML_TRY(get_string(j, "text", d.text, where, false));
  ML_TRY(get_string(j, "title", d.title, where, false));
  ML_TRY(get_string(j, "kind", d.meta.kind, where, false));
  ML_TRY(get_string(j, "node", d.meta.node, where, false));
  std::optional<std::int64_t> time;
  ML_TRY(get_int(j, "time", time, where));
  d.meta.time = time.value_or(0);
  ML_TRY(get_tags(j, "tags", d.meta.tags, where));
  ML_TRY(get_vector(j, d.vector, where));
  if (d.title.empty()) d.title = d.id;
  return d;
}

Result<Query> parse_query(const json& j) {
  ML_TRY(only_fields(j, {"query", "k", "mode", "filter", "vector"}, "query"));
  Query q;
  ML_TRY(get_string(j, "query", q.text, "query", false));
  if (auto it = j.find("k"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 100) {
      return Status::InvalidArgument("query: 'k' must be an integer from 1 to 100");
    }
    q.k = it->get<std::size_t>();
  }
  std::string mode = "hybrid";
  ML_TRY(get_string(j, "mode", mode, "query", false));
  auto m = parse_search_mode(mode);
  if (!m.ok()) return m.status();
  q.mode = *m;
  ML_TRY(get_vector(j, q.vector, "query"));
  if (auto it = j.find("filter"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Status::InvalidArgument("query: 'filter' must be an object");
    ML_TRY(only_fields(*it, {"kind", "node", "time_from", "time_to", "tags"}, "filter"));
    std::string s;
    if (it->contains("kind")) {
      ML_TRY(get_string(*it, "kind", s, "filter", true));
      q.filter.kind = s;
    }
    if (it->contains("node")) {
      ML_TRY(get_string(*it, "node", s, "filter", true));
      q.filter.node = s;
    }
    ML_TRY(get_int(*it, "time_from", q.filter.time_from, "filter"));
    ML_TRY(get_int(*it, "time_to", q.filter.time_to, "filter"));
    ML_TRY(get_tags(*it, "tags", q.filter.tags_all, "filter"));
  }
  if (q.text.empty() && !q.vector) return Status::InvalidArgument("query: 'query' (text) or 'vector' is required");
  return q;
}

}  // namespace

HttpReply handle_add_documents(KnowledgeBase& kb, const std::string& body) {
  auto j = parse_object(body);
  if (!j.ok()) return from_status(j.status());
  if (auto s = only_fields(*j, {"documents"}, "body"); !s.ok()) return from_status(s);
  auto it = j->find("documents");
  if (it == j->end() || !it->is_array() || it->empty()) {
    return error(400, "invalid_argument", "'documents' must be a non-empty array");
  }
  if (it->size() > kMaxDocumentsPerRequest) {
    return error(413, "too_large", "at most " + std::to_string(kMaxDocumentsPerRequest) + " documents per request");
  }
  std::vector<Document> docs;
  for (std::size_t i = 0; i < it->size(); ++i) {
    auto d = parse_document((*it)[i], i);
    if (!d.ok()) return from_status(d.status());
    docs.push_back(std::move(d).value());
  }
  // Validate all before adding any: a bad document later in the list must not leave half a request applied.
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const auto& d = docs[i];
    const bool ext = kb.options().external_vectors;
    if (ext && (!d.vector || d.vector->size() != static_cast<std::size_t>(kb.options().hnsw.dim))) {
      return error(400, "invalid_argument", "documents[" + std::to_string(i) + "]: this knowledge base needs a 'vector' of " +
                                                std::to_string(kb.options().hnsw.dim) + " numbers");
    }
    if (!ext && d.vector) {
      return error(400, "invalid_argument", "documents[" + std::to_string(i) + "]: this knowledge base embeds text itself; drop 'vector'");
    }
    if (!ext && d.text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return error(400, "invalid_argument", "documents[" + std::to_string(i) + "]: 'text' is required");
    }
  }
  const std::size_t n = docs.size();
  if (auto s = kb.add_all(std::move(docs)); !s.ok()) return from_status(s);
  const auto st = kb.stats();
  return HttpReply{200, json{{"added", n}, {"documents", st.documents}, {"chunks", st.chunks}}};
}

HttpReply handle_query(const CachedRetriever& retriever, const std::string& body) {
  auto j = parse_object(body);
  if (!j.ok()) return from_status(j.status());
  auto q = parse_query(*j);
  if (!q.ok()) return from_status(q.status());
  auto r = retriever.retrieve(*q);
  if (!r.ok()) return from_status(r.status());
  json results = json::array();
  for (const auto& h : r->hits) {
    results.push_back({{"doc_id", h.doc_id}, {"title", h.title}, {"chunk", h.chunk_index}, {"score", h.score},
                       {"vector_score", h.vector_score}, {"keyword_score", h.keyword_score}, {"text", h.text},
                       {"kind", h.meta.kind}, {"node", h.meta.node}, {"time", h.meta.time}, {"tags", h.meta.tags}});
  }
  json out = {{"results", results}, {"cache_hit", r->cache_hit}, {"mode", search_mode_name(q->mode)}};
  if (r->cache_hit) out["cache_similarity"] = r->cache_similarity;
  return HttpReply{200, out};
}

json stats_json(const KnowledgeBase& kb, const SemanticCache* cache) {
  const auto s = kb.stats();
  json j = {{"documents", s.documents}, {"chunks", s.chunks}, {"documents_by_kind", s.documents_by_kind},
            {"index_bytes", s.index_bytes}, {"index_deleted", s.index_deleted}, {"wordnet", s.wordnet},
            {"external_vectors", s.external_vectors}, {"version", s.version},
            {"ef_search", kb.options().hnsw.ef_search}, {"m", kb.options().hnsw.m}};
  if (cache) {
    const auto c = cache->stats();
    j["cache"] = {{"hits", c.hits}, {"misses", c.misses}, {"hit_rate", c.hit_rate()}, {"evictions", c.evictions},
                  {"expirations", c.expirations}, {"invalidations", c.invalidations}, {"inserts", c.inserts},
                  {"entries", c.entries}, {"capacity", c.capacity}};
  }
  return j;
}

}  // namespace meshloop::rag
