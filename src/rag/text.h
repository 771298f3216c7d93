// Text handling shared by the embedder, BM25 and the semantic cache: tokenising, stop words, and the "meaning
// signature" that keeps the cache from answering a query with the cached result of a near-identical query that means
// something else (another node or link, a reversed direction, a negation, another number or percentile).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace meshloop::rag {

// Lower-cased runs of [a-z0-9]; "n't" becomes a separate "not"; everything else separates tokens.
// "Link 3-7 isn't UP" -> {"link", "3", "7", "is", "not", "up"}.
std::vector<std::string> tokenize(std::string_view text);

// English function words that carry no topic (negations and direction words are NOT in this list).
bool is_stop_word(std::string_view token);

// True when the token contains a digit.
bool has_digit(std::string_view token);

// The parts of a query that an embedding similarity cannot be trusted to tell apart: numbers with their kind, in
// order of appearance ("node:3", "link:7", "p:95" for a percentile, "#:50" otherwise), then "|" and the sorted
// classes of negation and polarity words ("not", "up"/"down", "in"/"out", "min"/"max", "before"/"after", ...).
// Two queries may share a cached answer only if their signatures are equal. Paraphrases that keep the entities and
// the polarity keep the signature; "from 3 to 7" and "from 7 to 3" do not.
std::string meaning_signature(std::string_view text);

// FNV-1a 64-bit: stable across runs and machines (feature hashing, cache keys).
std::uint64_t fnv1a64(std::string_view s, std::uint64_t seed = 1469598103934665603ull);

}  // namespace meshloop::rag
