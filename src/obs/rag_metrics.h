// obs::RagMetrics: the knowledge base a `meshloop node` serves (rag::ServedKnowledgeBase), as the "Knowledge base"
// dashboard reads it:
//
//   meshloop_rag_retrieval_duration_seconds{mode,cache}  retrievals (POST /api/v1/kb/query): embedding, cache lookup
//                                                        and, on a miss, the search; by search mode (hybrid, vector,
//                                                        keyword) and cache (hit, miss)
//   meshloop_rag_cache_{hits,misses,evictions,expirations,invalidations}_total   the semantic cache's counts
//   meshloop_rag_cache_entries                           entries in the semantic cache
//   meshloop_rag_documents, meshloop_rag_chunks          what the knowledge base holds
//
// obs knows nothing of rag: the caller passes the search-mode names (rag's fixed vocabulary: bounded labels) and the
// cache's cumulative counts, of which cache() adds the increase since the last call. Every (mode, cache) series
// is created at zero, so queries see a knowledge base that has not been queried yet.
// Not exported: a batch retriever's queue and workers (a node serves queries on its HTTP workers, without a pool).
// Thread-safety: all methods are safe concurrently (the HTTP server's worker threads call them).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "obs/registry.h"

namespace meshloop::obs {

// The semantic cache's cumulative counts and its current size.
struct RagCacheCounts {
  std::uint64_t hits = 0, misses = 0, evictions = 0, expirations = 0, invalidations = 0;
  std::size_t entries = 0;
};

class RagMetrics {
 public:
  // REQUIRES: `registry` outlives this object; one RagMetrics per registry.
  RagMetrics(MetricsRegistry& registry, const std::vector<std::string>& modes);

  // One retrieval that answered, how long it took, and whether the cache answered it.
  void retrieved(const std::string& mode, bool cache_hit, double seconds) {
    retrievals_.with({mode, cache_hit ? "hit" : "miss"}).Observe(seconds);
  }
  // The cache's counts now: counters advance by the increase since the last call (a count never goes back).
  void cache(const RagCacheCounts& now);
  void corpus(std::size_t documents, std::size_t chunks) {
    documents_.Set(static_cast<double>(documents));
    chunks_.Set(static_cast<double>(chunks));
  }

 private:
  HistogramFamily retrievals_;
  prometheus::Counter &hits_, &misses_, &evictions_, &expirations_, &invalidations_;
  prometheus::Gauge &entries_, &documents_, &chunks_;
  std::mutex mu_;
  RagCacheCounts last_;  // guarded by mu_
};

}  // namespace meshloop::obs
