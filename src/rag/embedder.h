// The built-in text embedder: no model download. A text becomes a sparse bag of features (word lemmas, their
// WordNet first-sense synsets, word bigrams, character 3-grams), weighted by sublinear TF times IDF learned from the
// documents observed so far, then hashed with random signs into `dim` dimensions (a sparse random projection) and
// L2-normalised. Inner product of two embeddings approximates the cosine of their TF-IDF vectors.
//
// IDF drifts as documents are observed; a stored vector keeps the weights of its time. This is the usual trade of
// online TF-IDF and is why the semantic cache is invalidated on every knowledge-base change.
// Thread-safety: embed() is const and safe concurrently; observe() needs exclusive access.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "rag/wordnet.h"

namespace meshloop::rag {

struct EmbedderOptions {
  int dim = 384;
  float synset_weight = 0.6f;
  float bigram_weight = 0.5f;
  float char_ngram_weight = 0.25f;
};

class Embedder {
 public:
  // `wordnet` may be null: no synonym folding, and a plain suffix stripper instead of morphy.
  Embedder(EmbedderOptions options, std::shared_ptr<const WordNet> wordnet);

  int dim() const { return options_.dim; }
  bool has_wordnet() const { return wordnet_ != nullptr; }
  // Counts the features of one document for IDF.
  void observe(std::string_view text);
  std::uint64_t documents_observed() const { return documents_; }
  // A unit vector of dim() floats; the zero vector only for text with no features at all.
  std::vector<float> embed(std::string_view text) const;

  // IDF state as bytes (little-endian) and back; the options and WordNet are supplied again on restore.
  std::string serialize_state() const;
  Status restore_state(std::string_view bytes);

 private:
  struct Feature {
    std::uint64_t hash;
    float weight;
  };
  std::vector<Feature> features(std::string_view text) const;
  std::string lemma(const std::string& token) const;

  EmbedderOptions options_;
  std::shared_ptr<const WordNet> wordnet_;
  std::uint64_t documents_ = 0;
  std::unordered_map<std::uint64_t, std::uint32_t> df_;
};

}  // namespace meshloop::rag
