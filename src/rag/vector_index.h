// Nearest-neighbour search on unit vectors by inner product (= cosine similarity).
//
// HnswIndex wraps hnswlib's HierarchicalNSW behind a narrow typed interface: ids are uint64, vectors are spans of
// floats, failures are values (hnswlib throws; nothing here lets an exception out). ExactIndex is the brute-force
// oracle with the same surface, used by tests and by the benchmark's recall measurement.
// hnswlib is included by vector_index.cc only: its header defines non-inline functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace meshloop::rag {

struct Hit {
  std::uint64_t id = 0;
  float score = 0;  // inner product; cosine similarity for unit vectors
};

struct HnswOptions {
  int dim = 384;
  std::size_t m = 16;                 // graph degree (2*m on the bottom layer)
  std::size_t ef_construction = 200;  // build-time beam width
  std::size_t ef_search = 64;         // query-time beam width (raised to k when smaller)
  std::size_t initial_capacity = 1024;
  std::uint64_t seed = 100;  // level assignment; same seed and insertion order give the same graph
};

// Thread-safety: search(), vector(), contains() and size() may run concurrently with each other. add() may run
// concurrently with other add() calls only when reserve() has made room beforehand; remove(), reserve(),
// set_ef_search() and serialize() need exclusive access (the knowledge base holds a writer lock for them).
class HnswIndex {
 public:
  explicit HnswIndex(HnswOptions options);
  ~HnswIndex();
  HnswIndex(const HnswIndex&) = delete;
  HnswIndex& operator=(const HnswIndex&) = delete;

  const HnswOptions& options() const { return options_; }
  // Inserts or replaces the vector for `id`. InvalidArgument on a wrong dimension or a non-finite value.
  Status add(std::uint64_t id, std::span<const float> vector);
  // Makes room for `capacity` vectors in total.
  Status reserve(std::size_t capacity);
  // Hides `id` from searches (hnswlib marks it deleted; add() of the same id brings it back). NotFound if absent.
  Status remove(std::uint64_t id);
  bool contains(std::uint64_t id) const;
  // The k best live ids, best first. InvalidArgument on a wrong dimension.
  Result<std::vector<Hit>> search(std::span<const float> query, std::size_t k) const;
  void set_ef_search(std::size_t ef);
  std::size_t ef_search() const { return options_.ef_search; }
  // A copy of the stored vector, or NotFound.
  Result<std::vector<float>> vector(std::uint64_t id) const;
  std::size_t size() const;  // live vectors
  std::size_t deleted() const;
  std::size_t capacity() const;
  // Bytes held by the graph and vectors (hnswlib's allocations, approximately).
  std::size_t memory_bytes() const;

  // hnswlib's own format, as bytes. deserialize() checks the sizes against `options` and refuses a mismatch.
  Result<std::string> serialize() const;
  static Result<std::unique_ptr<HnswIndex>> deserialize(HnswOptions options, std::string_view bytes);

 private:
  struct Impl;
  HnswOptions options_;
  std::unique_ptr<Impl> impl_;
  mutable std::mutex grow_mu_;
};

// Brute force over every stored vector: the oracle. Thread-safety: const methods concurrently; others exclusive.
class ExactIndex {
 public:
  explicit ExactIndex(int dim) : dim_(dim) {}
  Status add(std::uint64_t id, std::span<const float> vector);
  Status remove(std::uint64_t id);
  Result<std::vector<Hit>> search(std::span<const float> query, std::size_t k) const;
  std::size_t size() const { return ids_.size(); }

 private:
  int dim_;
  std::vector<std::uint64_t> ids_;
  std::vector<float> data_;
};

// Raw hnswlib, used the way its README shows, for the benchmark's same-run comparison. Not for production use.
class RawHnswlibBaseline {
 public:
  RawHnswlibBaseline(int dim, std::size_t capacity, std::size_t m, std::size_t ef_construction, std::uint64_t seed);
  ~RawHnswlibBaseline();
  // REQUIRES: fewer than `capacity` points in total; safe from several threads at once (hnswlib's own locking).
  void add(const float* vector, std::uint64_t label);
  void set_ef(std::size_t ef);
  // Writes up to k labels, best first, into `out`; returns how many.
  std::size_t search(const float* query, std::size_t k, std::uint64_t* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Inner product of two equally long spans.
float dot(std::span<const float> a, std::span<const float> b);

}  // namespace meshloop::rag
