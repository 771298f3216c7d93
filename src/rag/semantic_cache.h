// The semantic cache: answers a query with the stored results of an earlier query that means the same.
//
// A hit needs all of: (1) the same retrieval parameters (k, mode, filter), (2) the same meaning signature (numbers
// with their kind, negation and polarity words: see text.h), so "node 3" never answers "node 4" and "not reachable"
// never answers "reachable", (3) cosine similarity of the query embeddings at or above the threshold, (4) an entry
// within its TTL, (5) the knowledge base unchanged since the entry was stored (any add or remove drops every entry).
// Capacity is bounded with LRU eviction. Lookups use a small HNSW over "key vectors": a count sketch of the
// embedding to index_dim dimensions (an unbiased estimate of its inner products, at a quarter of the distance cost)
// plus a random unit vector derived from (parameters, signature), which puts entries of the same key far ahead of all
// others, so a lookup costs a graph search, not a scan; the exact checks above then run on a few candidates with the
// full embeddings, so the sketch can only cost a hit, never make a wrong one.
// Thread-safety: all methods are safe concurrently (one mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "rag/knowledge_base.h"
#include "rag/vector_index.h"

namespace meshloop::rag {

struct SemanticCacheOptions {
  int dim = 384;
  std::size_t capacity = 1000;
  float similarity_threshold = 0.90f;  // 0.80 let a third of paraphrase hits change the top-1
  Duration ttl = seconds(3600);
  std::size_t candidates = 8;  // graph neighbours checked per lookup
  bool meaning_guard = true;   // false only to measure what the guard prevents (benchmark ablation)
  int index_dim = 96;          // key vector dimensions in the graph (0: the embedding's own); 384 -> 96 cut lookups 3x
};

struct SemanticCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t evictions = 0;      // dropped by LRU to make room
  std::uint64_t expirations = 0;    // found past their TTL
  std::uint64_t invalidations = 0;  // entries dropped because the knowledge base changed
  std::uint64_t inserts = 0;
  std::size_t entries = 0;
  std::size_t capacity = 0;
  double hit_rate() const { return hits + misses ? static_cast<double>(hits) / static_cast<double>(hits + misses) : 0; }
};

struct CacheKey {
  std::vector<float> embedding;  // unit vector, dim floats
  std::string signature;         // meaning_signature(query text)
  std::uint64_t params = 0;      // hash of k, mode and filter
};

// Builds the key for `q` from its embedding (the caller computes it: built-in or external).
CacheKey make_cache_key(const Query& q, std::vector<float> embedding);

class SemanticCache {
 public:
  explicit SemanticCache(SemanticCacheOptions options);
  ~SemanticCache();

  struct Found {
    std::vector<CachedHit> hits;
    float similarity = 0;
    std::string cached_query;
  };
  // `kb_version` is the knowledge base's version now; a different version than the entries' drops them all.
  std::optional<Found> get(const CacheKey& key, std::uint64_t kb_version, TimePoint now);
  // Stores (or refreshes) an entry; ignored when `kb_version` is older than what the cache has seen.
  void put(const CacheKey& key, const std::string& query, std::vector<CachedHit> hits, std::uint64_t kb_version,
           TimePoint now);
  // Drops everything (counted as invalidations).
  void invalidate_all();
  SemanticCacheStats stats() const;
  const SemanticCacheOptions& options() const { return options_; }

 private:
  struct Entry {
    bool live = false;
    std::uint64_t group = 0;
    std::vector<float> embedding;
    std::string query;
    std::vector<CachedHit> hits;
    TimePoint expires;
    std::list<std::uint32_t>::iterator lru;
  };
  int key_dim() const { return options_.index_dim > 0 ? options_.index_dim : options_.dim; }
  std::vector<float> key_vector(const CacheKey& key, std::uint64_t group) const;
  void drop_locked(std::uint32_t slot);
  void reset_index_locked();
  void check_version_locked(std::uint64_t kb_version);

  SemanticCacheOptions options_;
  mutable std::mutex mu_;
  std::unique_ptr<HnswIndex> index_;
  std::vector<std::uint32_t> sketch_bucket_;  // per embedding dimension: its key dimension ...
  std::vector<float> sketch_sign_;            // ... and sign (a fixed, seeded count sketch)
  std::vector<Entry> slots_;
  std::vector<std::uint32_t> free_;
  std::list<std::uint32_t> lru_;  // front = most recently used
  std::uint64_t kb_version_ = 0;
  SemanticCacheStats stats_;
};

// The knowledge base behind the cache. retrieve() is what the planner, the CLI, HTTP and the batch retriever call.
// Thread-safety: safe concurrently (both parts are).
class CachedRetriever {
 public:
  using Clock = std::function<TimePoint()>;
  // `cache` may be null (no caching). REQUIRES: kb and cache outlive this object.
  CachedRetriever(const KnowledgeBase& kb, SemanticCache* cache, Clock clock);

  struct Retrieval {
    std::vector<QueryHit> hits;
    bool cache_hit = false;
    float cache_similarity = 0;
    std::string cached_query;  // on a hit: the query whose results were reused
  };
  Result<Retrieval> retrieve(const Query& q) const;

  // Called after every retrieval that answered, with the time it took on `clock` (metrics). REQUIRES: set before
  // the retriever is used concurrently; the observer is then called concurrently and must be thread-safe.
  using Observer = std::function<void(const Query&, const Retrieval&, Duration took)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  Result<Retrieval> retrieve_once(const Query& q) const;

  const KnowledgeBase& kb_;
  SemanticCache* cache_;
  Clock clock_;
  Observer observer_;
};

// A monotonic clock as a TimePoint, for the shells (CLI, HTTP, bench). The core never calls it.
TimePoint steady_now();

}  // namespace meshloop::rag
