#include "rag/served_kb.h"

#include <spdlog/spdlog.h>

#include "rag/corpus.h"
#include "rag/http.h"

namespace meshloop::rag {

ServedKnowledgeBase::ServedKnowledgeBase(ServedKnowledgeBaseOptions options) : options_(std::move(options)) {}

ServedKnowledgeBase::~ServedKnowledgeBase() {
  if (loader_.joinable()) loader_.join();
}

void ServedKnowledgeBase::start() {
  loader_ = std::thread([this] {
    Status s = open();
    if (s.ok()) {
      spdlog::info("knowledge base ready: {} documents ({})", ready_->kb->stats().documents,
                   options_.path.empty() ? "in memory" : options_.path);
    } else {
      spdlog::error("knowledge base unavailable: {}", s.to_string());
    }
    std::lock_guard lock(mu_);
    status_ = s;
    done_ = true;
    cv_.notify_all();
  });
}

Status ServedKnowledgeBase::wait_ready() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return done_; });
  return status_;
}

Status ServedKnowledgeBase::open() {
  auto wordnet = WordNet::shared_default();
  auto r = std::make_unique<Ready>();
  bool loaded = false;
  if (!options_.path.empty()) {
    auto kb = KnowledgeBase::load(options_.path, wordnet);
    if (kb.ok()) {
      r->kb = std::move(kb).value();
      loaded = true;
    } else if (kb.status().code() != StatusCode::kNotFound) {
      return kb.status();
    }
  }
  if (!loaded) {
    r->kb = std::make_unique<KnowledgeBase>(KnowledgeBaseOptions{}, wordnet);
    if (options_.runbooks) {
      auto docs = load_runbooks(options_.runbook_dir.empty() ? default_runbook_dir() : options_.runbook_dir);
      if (!docs.ok()) return docs.status();
      if (Status s = r->kb->add_all(std::move(docs).value()); !s.ok()) return s;
    }
  }
  r->cache = std::make_unique<SemanticCache>(SemanticCacheOptions{});
  r->retriever = std::make_unique<CachedRetriever>(*r->kb, r->cache.get(), steady_now);
  if (obs::RagMetrics* m = options_.metrics) {
    const SemanticCache* cache = r->cache.get();
    r->retriever->set_observer([m, cache](const Query& q, const CachedRetriever::Retrieval& got, Duration took) {
      m->retrieved(search_mode_name(q.mode), got.cache_hit, to_seconds(took));
      const SemanticCacheStats c = cache->stats();
      m->cache(obs::RagCacheCounts{c.hits, c.misses, c.evictions, c.expirations, c.invalidations, c.entries});
    });
    report_corpus(*r->kb);
  }
  ready_ = std::move(r);
  return Status::Ok();
}

void ServedKnowledgeBase::report_corpus(const KnowledgeBase& kb) const {
  if (options_.metrics == nullptr) return;
  const auto s = kb.stats();
  options_.metrics->corpus(s.documents, s.chunks);
}

const ServedKnowledgeBase::Ready* ServedKnowledgeBase::ready(api::Response* unavailable) const {
  std::lock_guard lock(mu_);
  if (done_ && status_.ok()) return ready_.get();
  *unavailable = api::Response::error(
      503, "unavailable", done_ ? "knowledge base unavailable: " + status_.to_string() : "knowledge base loading");
  unavailable->headers["Retry-After"] = "1";
  return nullptr;
}

void ServedKnowledgeBase::register_routes(api::Server& server) {
  server.route(
      "POST", "/api/v1/kb/documents",
      [this](const api::Request& req) {
        api::Response res;
        const Ready* r = ready(&res);
        if (r == nullptr) return res;
        HttpReply reply = handle_add_documents(*r->kb, req.body);
        report_corpus(*r->kb);
        if (reply.status == 200 && !options_.path.empty()) {
          std::lock_guard lock(save_mu_);
          if (Status s = r->kb->save(options_.path); !s.ok()) {
            return api::Response::error(500, "not_saved", "added in memory but not saved: " + s.to_string());
          }
        }
        return api::Response::json(reply.body, reply.status);
      },
      api::Access::kWrite);
  server.route("POST", "/api/v1/kb/query", [this](const api::Request& req) {
    api::Response res;
    const Ready* r = ready(&res);
    if (r == nullptr) return res;
    HttpReply reply = handle_query(*r->retriever, req.body);
    return api::Response::json(reply.body, reply.status);
  });
  server.route("GET", "/api/v1/kb/stats", [this](const api::Request&) {
    api::Response res;
    const Ready* r = ready(&res);
    if (r == nullptr) return res;
    return api::Response::json(stats_json(*r->kb, r->cache.get()));
  });
}

}  // namespace meshloop::rag
