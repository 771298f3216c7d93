// rag::ServedKnowledgeBase: the knowledge base of a long-running process (every `meshloop node`), served on its
// api::Server.
//
// The store is opened, or created with the operator runbooks as `meshloop kb` does, on a background thread, so the
// process serves everything else (the mesh, /metrics, status) at once and its start-up never waits on WordNet and
// embedding; the knowledge-base routes answer 503 until the store is ready, and 503 with the reason when it could not
// be opened (a damaged file is reported, never used or replaced: the mesh node keeps running without its KB).
// With a path, the store is loaded from it and saved to it (atomically) after every successful add; without one it
// lives in memory for the life of the process.
//
// Thread-safety: construct, register_routes() and start() on one thread before the server starts; the routes are
// then safe on the server's worker threads. The destructor joins the loader. REQUIRES: destroyed after the server
// stops serving its routes.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api/server.h"
#include "core/result.h"
#include "obs/rag_metrics.h"
#include "rag/knowledge_base.h"
#include "rag/semantic_cache.h"

namespace meshloop::rag {

struct ServedKnowledgeBaseOptions {
  std::string path;          // the store's file; "" keeps it in memory
  bool runbooks = true;      // a new store starts with the runbooks
  std::string runbook_dir;   // "" -> default_runbook_dir()
  // Where retrievals, the cache and the corpus are reported (may be null); must outlive the ServedKnowledgeBase.
  obs::RagMetrics* metrics = nullptr;
};

class ServedKnowledgeBase {
 public:
  explicit ServedKnowledgeBase(ServedKnowledgeBaseOptions options);
  ~ServedKnowledgeBase();
  ServedKnowledgeBase(const ServedKnowledgeBase&) = delete;
  ServedKnowledgeBase& operator=(const ServedKnowledgeBase&) = delete;

  // POST /api/v1/kb/documents (write route), POST /api/v1/kb/query, GET /api/v1/kb/stats. REQUIRES: before
  // server.start().
  void register_routes(api::Server& server);
  // Starts opening the store on a background thread. Call once.
  void start();
  // Blocks until the store is open or has failed; Ok when ready, else why it is not.
  Status wait_ready();

 private:
  struct Ready {
    std::unique_ptr<KnowledgeBase> kb;
    std::unique_ptr<SemanticCache> cache;
    std::unique_ptr<CachedRetriever> retriever;
  };
  Status open();
  void report_corpus(const KnowledgeBase& kb) const;
  // The ready store, or a 503 response.
  const Ready* ready(api::Response* unavailable) const;

  ServedKnowledgeBaseOptions options_;
  std::thread loader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;             // guarded by mu_
  Status status_;                 // guarded by mu_; meaningful once done_
  std::unique_ptr<Ready> ready_;  // written once by the loader before done_, read-only after
  std::mutex save_mu_;            // one save at a time
};

}  // namespace meshloop::rag
