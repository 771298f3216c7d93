#include "rag/bm25.h"

#include <algorithm>
#include <cmath>

#include "rag/text.h"

namespace meshloop::rag {

Bm25Index::Bm25Index(Normalizer normalize, double k1, double b) : normalize_(std::move(normalize)), k1_(k1), b_(b) {}

std::vector<std::string> Bm25Index::terms(std::string_view text) const {
  std::vector<std::string> out;
  for (auto& tok : tokenize(text)) {
    if (is_stop_word(tok)) continue;
    out.push_back(normalize_ && !has_digit(tok) ? normalize_(tok) : tok);
  }
  return out;
}

void Bm25Index::add(std::uint64_t id, std::string_view text) {
  remove(id);
  auto t = terms(text);
  std::unordered_map<std::string, std::uint32_t> tf;
  for (const auto& term : t) ++tf[term];
  std::vector<std::string> unique;
  unique.reserve(tf.size());
  for (auto& [term, n] : tf) {
    postings_[term][id] = n;
    unique.push_back(term);
  }
  doc_len_[id] = static_cast<std::uint32_t>(t.size());
  total_len_ += t.size();
  doc_terms_[id] = std::move(unique);
}

bool Bm25Index::remove(std::uint64_t id) {
  auto it = doc_terms_.find(id);
  if (it == doc_terms_.end()) return false;
  for (const auto& term : it->second) {
    auto p = postings_.find(term);
    if (p == postings_.end()) continue;
    p->second.erase(id);
    if (p->second.empty()) postings_.erase(p);
  }
  total_len_ -= doc_len_[id];
  doc_len_.erase(id);
  doc_terms_.erase(it);
  return true;
}

std::vector<Hit> Bm25Index::search(std::string_view query, std::size_t k,
                                   const std::function<bool(std::uint64_t)>& allow) const {
  std::vector<Hit> out;
  if (doc_len_.empty() || k == 0) return out;
  const double n = static_cast<double>(doc_len_.size());
  const double avg = static_cast<double>(total_len_) / n;
  std::unordered_map<std::uint64_t, double> score;
  auto q = terms(query);
  std::sort(q.begin(), q.end());
  q.erase(std::unique(q.begin(), q.end()), q.end());
  for (const auto& term : q) {
    auto p = postings_.find(term);
    if (p == postings_.end()) continue;
    const double df = static_cast<double>(p->second.size());
    const double idf = std::log((n - df + 0.5) / (df + 0.5) + 1.0);
    for (const auto& [id, tf] : p->second) {
      const double len = doc_len_.at(id);
      const double f = tf;
      score[id] += idf * f * (k1_ + 1) / (f + k1_ * (1 - b_ + b_ * len / avg));
    }
  }
  out.reserve(score.size());
  for (const auto& [id, s] : score) {
    if (allow && !allow(id)) continue;
    out.push_back(Hit{id, static_cast<float>(s)});
  }
  const std::size_t top = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(top), out.end(),
                    [](const Hit& a, const Hit& b) { return a.score > b.score || (a.score == b.score && a.id < b.id); });
  out.resize(top);
  return out;
}

}  // namespace meshloop::rag
