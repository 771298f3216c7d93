// rag::KnowledgeBase: documents with metadata, chunked and indexed twice, by meaning (HNSW over embeddings, built
// in or brought by the caller) and by words (BM25), queried by either or both fused by reciprocal rank, with
// metadata filters, incremental add and remove, and crash-safe persistence.
//
// Thread-safety: all methods are safe to call concurrently; queries share a reader lock, add/remove/save take the
// writer lock. version() changes on every successful add or remove (the semantic cache keys on it).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "rag/bm25.h"
#include "rag/embedder.h"
#include "rag/vector_index.h"

namespace meshloop::rag {

struct DocumentMeta {
  std::string kind;   // "runbook", "incident", ...
  std::string node;   // the mesh node it concerns, if any
  std::int64_t time = 0;  // seconds since the Unix epoch (or simulated seconds); 0 = unknown
  std::vector<std::string> tags;
};

struct Document {
  std::string id;  // REQUIRES: non-empty; adding an existing id replaces that document
  std::string title;
  std::string text;
  DocumentMeta meta;
  // Only in external-vector mode: the caller's embedding of the whole document (one chunk), dim floats.
  std::optional<std::vector<float>> vector;
};

// Every set field must match; tags_all: the document carries all of them.
struct Filter {
  std::optional<std::string> kind;
  std::optional<std::string> node;
  std::optional<std::int64_t> time_from;  // inclusive
  std::optional<std::int64_t> time_to;    // inclusive
  std::vector<std::string> tags_all;
  bool empty() const { return !kind && !node && !time_from && !time_to && tags_all.empty(); }
  bool matches(const DocumentMeta& m) const;
};

enum class SearchMode { kVector, kKeyword, kHybrid };
const char* search_mode_name(SearchMode mode);
Result<SearchMode> parse_search_mode(const std::string& name);

struct Query {
  std::string text;                         // built-in mode: required; external mode: used by BM25 only
  std::optional<std::vector<float>> vector;  // external mode: required for vector and hybrid search
  std::size_t k = 5;
  SearchMode mode = SearchMode::kHybrid;
  Filter filter;
};

struct QueryHit {
  std::string doc_id;
  std::string title;
  std::uint64_t chunk_id = 0;
  std::uint32_t chunk_index = 0;
  float score = 0;          // the ranking score: cosine (vector), BM25 (keyword) or fused RRF (hybrid)
  float vector_score = 0;   // cosine similarity when the vector side saw it, else 0
  float keyword_score = 0;  // BM25 when the keyword side saw it, else 0
  std::string text;         // the chunk
  DocumentMeta meta;
};

// What the semantic cache keeps of a hit: enough to rebuild it from the (unchanged) knowledge base.
struct CachedHit {
  std::uint64_t chunk_id;
  float score, vector_score, keyword_score;
};

struct KnowledgeBaseOptions {
  HnswOptions hnsw;
  EmbedderOptions embedder;
  bool external_vectors = false;  // documents and queries bring their own vectors of hnsw.dim floats
  std::size_t chunk_chars = 700;
  std::size_t chunk_overlap = 100;
  std::size_t rrf_k = 60;
  std::size_t candidates_per_result = 4;  // hybrid/filtered searches fetch k * this from each side
  std::size_t exact_filter_limit = 4096;  // a filter matching at most this many chunks is scored exactly
};

struct KnowledgeBaseStats {
  std::size_t documents = 0;
  std::size_t chunks = 0;
  std::size_t index_deleted = 0;
  std::size_t index_bytes = 0;
  bool wordnet = false;
  bool external_vectors = false;
  std::uint64_t version = 0;
  std::map<std::string, std::size_t> documents_by_kind;
};

class KnowledgeBase {
 public:
  // `wordnet` may be null (no synonym folding).
  KnowledgeBase(KnowledgeBaseOptions options, std::shared_ptr<const WordNet> wordnet);

  const KnowledgeBaseOptions& options() const { return options_; }
  // Validates, chunks, embeds and indexes `doc`, replacing a document with the same id.
  // InvalidArgument: empty id or text, a vector in built-in mode, a missing or wrong-sized vector in external mode.
  Status add(Document doc);
  // Adds many documents; stops at the first failure and returns it (earlier ones stay added).
  Status add_all(std::vector<Document> docs);
  // Bulk load: validates every document first (nothing is added if one is bad), then embeds and inserts into the
  // graph on `threads` threads (hnswlib's concurrent insertion). Ids must be new and distinct (InvalidArgument).
  Status add_bulk(std::vector<Document> docs, int threads);
  // NotFound when no document has this id.
  Status remove(const std::string& doc_id);
  // InvalidArgument for an empty query, k of 0 or above 1000, or a vector missing/mis-sized.
  Result<std::vector<QueryHit>> query(const Query& q) const;
  // Rebuilds hits from their chunk ids and scores. NotFound when a chunk is gone (the knowledge base changed).
  Result<std::vector<QueryHit>> materialize(const std::vector<CachedHit>& hits) const;
  // The built-in embedding of `text` (the semantic cache's key). FailedPrecondition in external-vector mode.
  Result<std::vector<float>> embed(const std::string& text) const;
  void set_ef_search(std::size_t ef);

  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }
  KnowledgeBaseStats stats() const;
  bool contains(const std::string& doc_id) const;

  // Crash-safe: the file at `path` is either the old or the new state. IoError on failure.
  Status save(const std::string& path) const;
  // Corruption (with the reason) for a truncated or altered file; NotFound when absent.
  static Result<std::unique_ptr<KnowledgeBase>> load(const std::string& path, std::shared_ptr<const WordNet> wordnet);

 private:
  struct ChunkRecord {
    std::string doc_id;
    std::uint32_t index = 0;
    std::string text;
  };
  struct DocRecord {
    std::string title;
    DocumentMeta meta;
    std::vector<std::uint64_t> chunks;
  };

  std::vector<std::string> chunk_text(const std::string& text) const;
  Status remove_locked(const std::string& doc_id);
  Result<std::vector<Hit>> vector_side(std::span<const float> q, std::size_t want, const Filter& f) const;
  bool chunk_allowed(std::uint64_t chunk_id, const Filter& f) const;
  QueryHit make_hit(std::uint64_t chunk_id) const;

  KnowledgeBaseOptions options_;
  std::shared_ptr<const WordNet> wordnet_;
  mutable std::shared_mutex mu_;
  Embedder embedder_;
  std::unique_ptr<HnswIndex> index_;
  Bm25Index bm25_;
  std::unordered_map<std::string, DocRecord> docs_;
  std::unordered_map<std::uint64_t, ChunkRecord> chunks_;
  std::uint64_t next_chunk_id_ = 1;
  std::atomic<std::uint64_t> version_{0};
};

// Normalises a vector in place to unit length; InvalidArgument for a zero or non-finite vector.
Status normalize_vector(std::vector<float>& v);

}  // namespace meshloop::rag
