// WordNet 3.0 (Debian's wordnet-base, plain files) as the embedder needs it: a word's base form (morphy: exception
// lists, then suffix rules) and the synset of its most frequent sense in each part of speech. Two words that share
// a most-frequent-sense synset are synonyms in their usual meaning ("error" and "mistake" do; "drop" and "loss" not),
// so folding words to those synsets lets paraphrases that use different words meet.
// Thread-safety: immutable after load(); concurrent lookups are safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace meshloop::rag {

class WordNet {
 public:
  // Reads index.{noun,verb,adj,adv} and {noun,verb,adj,adv}.exc from `dir`. Fails with NotFound when the directory
  // or an index file is missing (the embedder then works without synonyms, and says so in its stats).
  static Result<std::shared_ptr<const WordNet>> load(const std::string& dir = "/usr/share/wordnet");
  // The process-wide instance from the default directory, loaded once; nullptr when WordNet is not installed.
  static std::shared_ptr<const WordNet> shared_default();

  // The base form of a lower-cased word ("dropped" -> "drop", "nodes" -> "node", "went" -> "go"); the word
  // itself when WordNet does not know it.
  std::string lemma(std::string_view word) const;
  // Synset ids (pos letter in the top byte, data-file offset below) of the lemma's first sense in each part of
  // speech that has one; empty when unknown.
  std::vector<std::uint64_t> first_senses(std::string_view lemma) const;
  std::size_t lemma_count() const { return senses_.size(); }

 private:
  WordNet() = default;
  // Per lemma: first-sense offset in noun, verb, adj, adv order (0 = none).
  std::unordered_map<std::string, std::array<std::uint32_t, 4>> senses_;
  // Irregular forms -> base form, all parts of speech.
  std::unordered_map<std::string, std::string> exceptions_;
};

}  // namespace meshloop::rag
