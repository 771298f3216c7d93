#include "rag/semantic_cache.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/rng.h"
#include "rag/text.h"

namespace meshloop::rag {

TimePoint steady_now() {
  const auto d = std::chrono::steady_clock::now().time_since_epoch();
  return TimePoint{std::chrono::duration_cast<Duration>(d)};
}

CacheKey make_cache_key(const Query& q, std::vector<float> embedding) {
  CacheKey key;
  key.embedding = std::move(embedding);
  key.signature = meaning_signature(q.text);
  std::string p = std::to_string(q.k) + '/' + search_mode_name(q.mode);
  const auto& f = q.filter;
  if (f.kind) p += "/kind=" + *f.kind;
  if (f.node) p += "/node=" + *f.node;
  if (f.time_from) p += "/from=" + std::to_string(*f.time_from);
  if (f.time_to) p += "/to=" + std::to_string(*f.time_to);
  for (const auto& t : f.tags_all) p += "/tag=" + t;
  key.params = fnv1a64(p);
  return key;
}

SemanticCache::SemanticCache(SemanticCacheOptions options) : options_(options) {
  options_.capacity = std::max<std::size_t>(options_.capacity, 1);
  slots_.resize(options_.capacity);
  if (options_.index_dim > 0) {
    std::uint64_t state = 0x5eedc0de;
    sketch_bucket_.resize(static_cast<std::size_t>(options_.dim));
    sketch_sign_.resize(static_cast<std::size_t>(options_.dim));
    for (std::size_t i = 0; i < sketch_bucket_.size(); ++i) {
      const std::uint64_t r = splitmix64(state);
      sketch_bucket_[i] = static_cast<std::uint32_t>((r >> 1) % static_cast<std::uint64_t>(options_.index_dim));
      sketch_sign_[i] = (r & 1) ? 1.0f : -1.0f;
    }
  }
  reset_index_locked();
  stats_.capacity = options_.capacity;
}

SemanticCache::~SemanticCache() = default;

void SemanticCache::reset_index_locked() {
  index_ = std::make_unique<HnswIndex>(
      HnswOptions{key_dim(), 8, 48, std::max<std::size_t>(options_.candidates * 2, 16), options_.capacity, 42});
  free_.clear();
  for (std::size_t i = options_.capacity; i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
  lru_.clear();
  for (auto& e : slots_) e = Entry{};
}

std::vector<float> SemanticCache::key_vector(const CacheKey& key, std::uint64_t group) const {
  // sketch(embedding) + a random +-1/sqrt(dim) unit vector drawn from the group hash, renormalised.
  const auto dim = static_cast<std::size_t>(key_dim());
  std::vector<float> v(dim, 0.0f);
  if (sketch_bucket_.empty()) {
    std::copy_n(key.embedding.begin(), std::min(dim, key.embedding.size()), v.begin());
  } else {
    for (std::size_t i = 0; i < key.embedding.size() && i < sketch_bucket_.size(); ++i) {
      v[sketch_bucket_[i]] += sketch_sign_[i] * key.embedding[i];
    }
  }
  const float g = 1.0f / std::sqrt(static_cast<float>(dim));
  std::uint64_t state = group;
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < dim; ++i) {
    if (i % 64 == 0) bits = splitmix64(state);
    v[i] += (bits >> (i % 64)) & 1 ? g : -g;
  }
  double n = 0;
  for (float x : v) n += static_cast<double>(x) * x;
  const auto inv = static_cast<float>(1.0 / std::sqrt(n));
  for (float& x : v) x *= inv;
  return v;
}

void SemanticCache::drop_locked(std::uint32_t slot) {
  Entry& e = slots_[slot];
  if (!e.live) return;
  (void)index_->remove(slot);
  lru_.erase(e.lru);
  e = Entry{};
  free_.push_back(slot);
}

void SemanticCache::check_version_locked(std::uint64_t kb_version) {
  if (kb_version == kb_version_) return;
  if (kb_version > kb_version_ || kb_version_ == 0) {
    stats_.invalidations += lru_.size();
    reset_index_locked();
    kb_version_ = kb_version;
  }
}

void SemanticCache::invalidate_all() {
  std::lock_guard lock(mu_);
  stats_.invalidations += lru_.size();
  reset_index_locked();
}

std::optional<SemanticCache::Found> SemanticCache::get(const CacheKey& key, std::uint64_t kb_version, TimePoint now) {
  std::lock_guard lock(mu_);
  check_version_locked(kb_version);
  if (key.embedding.size() != static_cast<std::size_t>(options_.dim) || lru_.empty()) {
    ++stats_.misses;
    return std::nullopt;
  }
  const std::uint64_t group = options_.meaning_guard ? fnv1a64(key.signature, key.params) : key.params;
  auto r = index_->search(key_vector(key, group), options_.candidates);
  if (!r.ok()) {
    ++stats_.misses;
    return std::nullopt;
  }
  std::int64_t best = -1;
  float best_sim = -2;
  for (const auto& h : *r) {
    const auto slot = static_cast<std::uint32_t>(h.id);
    Entry& e = slots_[slot];
    if (!e.live || e.group != group) continue;
    if (now >= e.expires) {
      ++stats_.expirations;
      drop_locked(slot);
      continue;
    }
    const float sim = dot(key.embedding, e.embedding);
    if (sim >= options_.similarity_threshold && sim > best_sim) {
      best_sim = sim;
      best = slot;
    }
  }
  if (best < 0) {
    ++stats_.misses;
    return std::nullopt;
  }
  Entry& e = slots_[static_cast<std::size_t>(best)];
  lru_.splice(lru_.begin(), lru_, e.lru);
  ++stats_.hits;
  return Found{e.hits, best_sim, e.query};
}

void SemanticCache::put(const CacheKey& key, const std::string& query, std::vector<CachedHit> hits,
                        std::uint64_t kb_version, TimePoint now) {
  std::lock_guard lock(mu_);
  if (kb_version < kb_version_) return;  // computed against an older knowledge base
  check_version_locked(kb_version);
  if (key.embedding.size() != static_cast<std::size_t>(options_.dim)) return;
  const std::uint64_t group = options_.meaning_guard ? fnv1a64(key.signature, key.params) : key.params;
  const auto kv = key_vector(key, group);
  // The same question again (similarity ~1 within the group) refreshes its entry instead of adding a twin.
  if (auto r = index_->search(kv, 1); r.ok() && !r->empty()) {
    const auto slot = static_cast<std::uint32_t>(r->front().id);
    if (slots_[slot].live && slots_[slot].group == group && dot(key.embedding, slots_[slot].embedding) > 0.9999f) {
      drop_locked(slot);
    }
  }
  if (free_.empty()) {
    const std::uint32_t victim = lru_.back();
    if (now >= slots_[victim].expires) {
      ++stats_.expirations;
    } else {
      ++stats_.evictions;
    }
    drop_locked(victim);
  }
  const std::uint32_t slot = free_.back();
  free_.pop_back();
  if (!index_->add(slot, kv).ok()) {
    free_.push_back(slot);
    return;
  }
  Entry& e = slots_[slot];
  e.live = true;
  e.group = group;
  e.embedding = key.embedding;
  e.query = query;
  e.hits = std::move(hits);
  e.expires = now + options_.ttl;
  lru_.push_front(slot);
  e.lru = lru_.begin();
  ++stats_.inserts;
}

SemanticCacheStats SemanticCache::stats() const {
  std::lock_guard lock(mu_);
  SemanticCacheStats s = stats_;
  s.entries = lru_.size();
  return s;
}

CachedRetriever::CachedRetriever(const KnowledgeBase& kb, SemanticCache* cache, Clock clock)
    : kb_(kb), cache_(cache), clock_(clock ? std::move(clock) : Clock(steady_now)) {}

Result<CachedRetriever::Retrieval> CachedRetriever::retrieve(const Query& q) const {
  if (!observer_) return retrieve_once(q);
  const TimePoint start = clock_();
  auto r = retrieve_once(q);
  if (r.ok()) observer_(q, *r, clock_() - start);
  return r;
}

Result<CachedRetriever::Retrieval> CachedRetriever::retrieve_once(const Query& q) const {
  Retrieval out;
  if (!cache_) {
    auto r = kb_.query(q);
    if (!r.ok()) return r.status();
    out.hits = std::move(r).value();
    return out;
  }
  std::vector<float> embedding;
  if (q.vector) {
    embedding = *q.vector;
    if (auto s = normalize_vector(embedding); !s.ok()) return s;
  } else {
    auto e = kb_.embed(q.text);
    if (!e.ok()) return e.status();
    embedding = std::move(e).value();
  }
  const std::uint64_t version = kb_.version();
  CacheKey key = make_cache_key(q, std::move(embedding));
  if (auto found = cache_->get(key, version, clock_())) {
    auto hits = kb_.materialize(found->hits);
    if (hits.ok()) {
      out.hits = std::move(hits).value();
      out.cache_hit = true;
      out.cache_similarity = found->similarity;
      out.cached_query = std::move(found->cached_query);
      return out;
    }
    // The knowledge base changed between the version check and now: answer fresh.
  }
  auto r = kb_.query(q);
  if (!r.ok()) return r.status();
  std::vector<CachedHit> compact;
  compact.reserve(r->size());
  for (const auto& h : *r) compact.push_back(CachedHit{h.chunk_id, h.score, h.vector_score, h.keyword_score});
  cache_->put(key, q.text, std::move(compact), version, clock_());
  out.hits = std::move(r).value();
  return out;
}

}  // namespace meshloop::rag
