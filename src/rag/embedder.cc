#include "rag/embedder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "rag/text.h"

namespace meshloop::rag {

namespace {
enum FeatureKind : std::uint64_t { kWord = 1, kSynset = 2, kBigram = 3, kChar = 4 };
std::uint64_t feature_hash(FeatureKind kind, std::string_view s) {
  return fnv1a64(s, 1469598103934665603ull ^ (kind * 0x9E3779B97F4A7C15ull));
}
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}
}  // namespace

Embedder::Embedder(EmbedderOptions options, std::shared_ptr<const WordNet> wordnet)
    : options_(options), wordnet_(std::move(wordnet)) {}

std::string Embedder::lemma(const std::string& token) const {
  if (wordnet_) return wordnet_->lemma(token);
  std::string w = token;
  for (const char* sfx : {"ing", "ed", "es", "s"}) {
    std::size_t n = std::strlen(sfx);
    if (w.size() > n + 2 && w.compare(w.size() - n, n, sfx) == 0) {
      w.resize(w.size() - n);
      break;
    }
  }
  return w;
}

std::vector<Embedder::Feature> Embedder::features(std::string_view text) const {
  std::vector<Feature> out;
  std::string prev;
  for (const auto& tok : tokenize(text)) {
    if (is_stop_word(tok)) continue;
    if (has_digit(tok)) {
      out.push_back({feature_hash(kWord, tok), 1.0f});
      prev = tok;
      continue;
    }
    std::string lem = lemma(tok);
    out.push_back({feature_hash(kWord, lem), 1.0f});
    if (wordnet_) {
      for (std::uint64_t syn : wordnet_->first_senses(lem)) {
        out.push_back({mix(syn ^ (kSynset << 60)), options_.synset_weight});
      }
    }
    if (!prev.empty()) out.push_back({feature_hash(kBigram, prev + " " + lem), options_.bigram_weight});
    prev = lem;
    const std::string padded = "^" + lem + "$";
    for (std::size_t i = 0; i + 3 <= padded.size(); ++i) {
      out.push_back({feature_hash(kChar, std::string_view(padded).substr(i, 3)), options_.char_ngram_weight});
    }
  }
  return out;
}

void Embedder::observe(std::string_view text) {
  auto feats = features(text);
  std::sort(feats.begin(), feats.end(), [](const Feature& a, const Feature& b) { return a.hash < b.hash; });
  for (std::size_t i = 0; i < feats.size(); ++i) {
    if (i == 0 || feats[i].hash != feats[i - 1].hash) ++df_[feats[i].hash];
  }
  ++documents_;
}

std::vector<float> Embedder::embed(std::string_view text) const {
  auto feats = features(text);
  std::sort(feats.begin(), feats.end(), [](const Feature& a, const Feature& b) { return a.hash < b.hash; });
  std::vector<float> v(static_cast<std::size_t>(options_.dim), 0.0f);
  const double n = static_cast<double>(documents_);
  for (std::size_t i = 0; i < feats.size();) {
    std::size_t j = i;
    while (j < feats.size() && feats[j].hash == feats[i].hash) ++j;
    const double tf = 1.0 + std::log(static_cast<double>(j - i));
    std::uint32_t df = 0;
    if (auto it = df_.find(feats[i].hash); it != df_.end()) df = it->second;
    const double idf = std::log((n + 1.0) / (df + 1.0)) + 1.0;
    const double w = tf * idf * feats[i].weight;
    // Two hashed positions per feature halve the variance that collisions add.
    for (int rep = 0; rep < 2; ++rep) {
      std::uint64_t h = mix(feats[i].hash + static_cast<std::uint64_t>(rep) * 0x9E3779B97F4A7C15ull);
      auto idx = static_cast<std::size_t>(h % static_cast<std::uint64_t>(options_.dim));
      v[idx] += static_cast<float>(((h >> 63) ? -w : w) * M_SQRT1_2);
    }
    i = j;
  }
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  if (norm > 0) {
    const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : v) x *= inv;
  }
  return v;
}

std::string Embedder::serialize_state() const {
  std::vector<std::pair<std::uint64_t, std::uint32_t>> entries(df_.begin(), df_.end());
  std::sort(entries.begin(), entries.end());
  std::string out;
  auto put = [&out](const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); };
  const std::uint64_t count = entries.size();
  put(&documents_, 8);
  put(&count, 8);
  for (const auto& [h, c] : entries) {
    put(&h, 8);
    put(&c, 4);
  }
  return out;
}

Status Embedder::restore_state(std::string_view bytes) {
  if (bytes.size() < 16) return Status::Corruption("embedder state: truncated header");
  std::uint64_t docs = 0, count = 0;
  std::memcpy(&docs, bytes.data(), 8);
  std::memcpy(&count, bytes.data() + 8, 8);
  if (count > (bytes.size() - 16) / 12 || bytes.size() != 16 + count * 12) {
    return Status::Corruption("embedder state: size does not match its entry count");
  }
  std::unordered_map<std::uint64_t, std::uint32_t> df;
  df.reserve(count);
  const char* p = bytes.data() + 16;
  for (std::uint64_t i = 0; i < count; ++i, p += 12) {
    std::uint64_t h = 0;
    std::uint32_t c = 0;
    std::memcpy(&h, p, 8);
    std::memcpy(&c, p + 8, 4);
    df.emplace(h, c);
  }
  documents_ = docs;
  df_ = std::move(df);
  return Status::Ok();
}

}  // namespace meshloop::rag
