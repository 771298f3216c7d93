// Okapi BM25 over an inverted index, with incremental add and remove.
// Terms are the tokenizer's tokens minus stop words, reduced by the same lemmatiser as the embedder when one is
// given. Thread-safety: search() is const and safe concurrently; add()/remove() need exclusive access.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rag/vector_index.h"

namespace meshloop::rag {

class Bm25Index {
 public:
  using Normalizer = std::function<std::string(const std::string&)>;
  explicit Bm25Index(Normalizer normalize = nullptr, double k1 = 1.2, double b = 0.75);

  // Replaces any previous text for `id`.
  void add(std::uint64_t id, std::string_view text);
  // False when `id` was not indexed.
  bool remove(std::uint64_t id);
  // The k best ids by BM25 score, best first (ties by id). `allow` filters ids when set.
  std::vector<Hit> search(std::string_view query, std::size_t k,
                          const std::function<bool(std::uint64_t)>& allow = nullptr) const;
  std::size_t size() const { return doc_len_.size(); }

 private:
  std::vector<std::string> terms(std::string_view text) const;

  Normalizer normalize_;
  double k1_, b_;
  std::unordered_map<std::string, std::unordered_map<std::uint64_t, std::uint32_t>> postings_;
  std::unordered_map<std::uint64_t, std::uint32_t> doc_len_;
  std::unordered_map<std::uint64_t, std::vector<std::string>> doc_terms_;  // for remove()
  std::uint64_t total_len_ = 0;
};

}  // namespace meshloop::rag
