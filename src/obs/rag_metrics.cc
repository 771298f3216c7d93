#include "obs/rag_metrics.h"

namespace meshloop::obs {

namespace {
// Cache hits answer in well under a millisecond; misses embed and search (milliseconds to tens of them).
const std::vector<double> kRetrievalBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                               0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};

void advance(prometheus::Counter& c, std::uint64_t& last, std::uint64_t now) {
  if (now > last) {
    c.Increment(static_cast<double>(now - last));
    last = now;
  }
}
}  // namespace

RagMetrics::RagMetrics(MetricsRegistry& r, const std::vector<std::string>& modes)
    : retrievals_(
          r.histogram("meshloop_rag_retrieval_duration_seconds",
                      "Knowledge-base retrievals (embedding, semantic-cache lookup and, on a miss, the search), "
                      "by search mode (hybrid, vector, keyword) and cache (hit, miss).",
                      kRetrievalBuckets, {"mode", "cache"})),
      hits_(r.counter("meshloop_rag_cache_hits_total", "Retrievals the semantic cache answered.").get()),
      misses_(r.counter("meshloop_rag_cache_misses_total", "Retrievals the semantic cache could not answer.").get()),
      evictions_(r.counter("meshloop_rag_cache_evictions_total",
                           "Semantic-cache entries dropped (least recently used) to make room.")
                     .get()),
      expirations_(r.counter("meshloop_rag_cache_expirations_total",
                             "Semantic-cache entries found past their time to live and dropped.")
                       .get()),
      invalidations_(r.counter("meshloop_rag_cache_invalidations_total",
                               "Semantic-cache entries dropped because the knowledge base changed.")
                         .get()),
      entries_(r.gauge("meshloop_rag_cache_entries", "Entries in the semantic cache.").get()),
      documents_(r.gauge("meshloop_rag_documents", "Documents in the knowledge base.").get()),
      chunks_(r.gauge("meshloop_rag_chunks", "Chunks (indexed passages) in the knowledge base.").get()) {
  for (const auto& m : modes) {
    for (const char* c : {"hit", "miss"}) retrievals_.with({m, c});
  }
}

void RagMetrics::cache(const RagCacheCounts& now) {
  std::lock_guard lock(mu_);
  advance(hits_, last_.hits, now.hits);
  advance(misses_, last_.misses, now.misses);
  advance(evictions_, last_.evictions, now.evictions);
  advance(expirations_, last_.expirations, now.expirations);
  advance(invalidations_, last_.invalidations, now.invalidations);
  entries_.Set(static_cast<double>(now.entries));
}

}  // namespace meshloop::obs
