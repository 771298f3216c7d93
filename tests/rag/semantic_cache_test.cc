// The semantic cache: threshold, meaning guard, TTL, LRU, invalidation; and the cached retriever end to end.
#include "rag/semantic_cache.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.h"
#include "rag/text.h"

namespace meshloop::rag {
namespace {

std::vector<float> unit(std::uint64_t seed, int dim = 32) {
  Rng rng(seed);
  std::vector<float> v(static_cast<std::size_t>(dim));
  for (auto& x : v) x = static_cast<float>(rng.normal(0, 1));
  EXPECT_TRUE(normalize_vector(v).ok());
  return v;
}
// A vector at cosine `c` from `v` (roughly), mixing in an independent direction.
std::vector<float> near(const std::vector<float>& v, float c, std::uint64_t seed) {
  auto w = unit(seed, static_cast<int>(v.size()));
  std::vector<float> out(v.size());
  const float s = std::sqrt(1 - c * c);
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = c * v[i] + s * w[i];
  EXPECT_TRUE(normalize_vector(out).ok());
  return out;
}
CacheKey key(const std::string& text, std::vector<float> e, std::size_t k = 5) {
  Query q{text, {}, k, SearchMode::kHybrid, {}};
  return make_cache_key(q, std::move(e));
}
std::vector<CachedHit> hits(std::uint64_t id) { return {CachedHit{id, 1, 1, 0}}; }

SemanticCacheOptions opts(std::size_t capacity = 100) {
  SemanticCacheOptions o;
  o.dim = 32;
  o.capacity = capacity;
  o.similarity_threshold = 0.9f;
  o.ttl = seconds(60);
  return o;
}

TEST(SemanticCache, HitsAboveThresholdAndMissesBelow) {
  SemanticCache cache(opts());
  const auto v = unit(1);
  cache.put(key("why is node 3 slow", v), "why is node 3 slow", hits(7), 1, at(seconds(0)));
  auto found = cache.get(key("node 3 is slow why", near(v, 0.95f, 2)), 1, at(seconds(1)));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->hits.at(0).chunk_id, 7u);
  EXPECT_EQ(found->cached_query, "why is node 3 slow");
  EXPECT_FALSE(cache.get(key("node 3 is slow why", near(v, 0.6f, 3)), 1, at(seconds(1))));
  const auto s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
}

TEST(SemanticCache, NeverAnswersAnotherNodeNegationOrDirectionEvenWithIdenticalEmbedding) {
  SemanticCache cache(opts());
  const auto v = unit(4);
  cache.put(key("traffic from node 3 to node 7 is slow", v), "q", hits(1), 1, at(seconds(0)));
  cache.put(key("is node 9 reachable", v), "q", hits(2), 1, at(seconds(0)));
  for (const char* other : {"traffic from node 7 to node 3 is slow", "traffic from node 3 to node 8 is slow",
                            "is node 9 not reachable", "is node 10 reachable"}) {
    EXPECT_FALSE(cache.get(key(other, v), 1, at(seconds(1)))) << other;
  }
  // Different k is a different request.
  EXPECT_FALSE(cache.get(key("is node 9 reachable", v, 10), 1, at(seconds(1))));
  EXPECT_TRUE(cache.get(key("is node 9 reachable", v), 1, at(seconds(1))));
}

TEST(SemanticCache, EntriesExpireAfterTheirTtl) {
  SemanticCache cache(opts());
  const auto v = unit(5);
  cache.put(key("q", v), "q", hits(1), 1, at(seconds(0)));
  EXPECT_TRUE(cache.get(key("q", v), 1, at(seconds(59))));
  EXPECT_FALSE(cache.get(key("q", v), 1, at(seconds(60))));
  EXPECT_EQ(cache.stats().expirations, 1u);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(SemanticCache, EvictsTheLeastRecentlyUsedAtCapacity) {
  SemanticCache cache(opts(3));
  std::vector<std::vector<float>> v;
  for (int i = 0; i < 4; ++i) v.push_back(unit(100 + static_cast<std::uint64_t>(i)));
  for (int i = 0; i < 3; ++i)
    cache.put(key("q", v[static_cast<std::size_t>(i)]), "q", hits(static_cast<std::uint64_t>(i)), 1, at(seconds(i)));
  ASSERT_TRUE(cache.get(key("q", v[0]), 1, at(seconds(3))));  // 0 is now the most recent; 1 is the LRU
  cache.put(key("q", v[3]), "q", hits(3), 1, at(seconds(4)));
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_FALSE(cache.get(key("q", v[1]), 1, at(seconds(5))));
  EXPECT_TRUE(cache.get(key("q", v[0]), 1, at(seconds(5))));
  EXPECT_TRUE(cache.get(key("q", v[2]), 1, at(seconds(5))));
  EXPECT_TRUE(cache.get(key("q", v[3]), 1, at(seconds(5))));
  // Slots are reused many times over without growing.
  for (int i = 0; i < 200; ++i)
    cache.put(key("q", unit(1000 + static_cast<std::uint64_t>(i))), "q", hits(9), 1, at(seconds(6)));
  EXPECT_EQ(cache.stats().entries, 3u);
}

TEST(SemanticCache, AKnowledgeBaseChangeDropsEveryEntry) {
  SemanticCache cache(opts());
  const auto v = unit(6);
  cache.put(key("q", v), "q", hits(1), 1, at(seconds(0)));
  EXPECT_TRUE(cache.get(key("q", v), 1, at(seconds(1))));
  EXPECT_FALSE(cache.get(key("q", v), 2, at(seconds(1))));
  EXPECT_EQ(cache.stats().invalidations, 1u);
  // A result computed against the old version is not stored.
  cache.put(key("q", v), "q", hits(1), 1, at(seconds(2)));
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(CachedRetriever, ServesRepeatsFromTheCacheAndRecomputesAfterAChange) {
  KnowledgeBaseOptions ko;
  ko.hnsw.initial_capacity = 16;
  KnowledgeBase kb(ko, nullptr);
  ASSERT_TRUE(kb.add(Document{"a", "Loss burst", "packet loss burst on a link, raise its cost", {}, {}}).ok());
  ASSERT_TRUE(kb.add(Document{"b", "Crash", "node crash, restart the daemon", {}, {}}).ok());
  SemanticCacheOptions co;
  co.similarity_threshold = 0.8f;
  SemanticCache cache(co);
  TimePoint now = at(seconds(0));
  CachedRetriever retriever(kb, &cache, [&] { return now; });
  Query q{"how to handle a packet loss burst", {}, 2, SearchMode::kHybrid, {}};
  auto first = retriever.retrieve(q);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->cache_hit);
  auto second = retriever.retrieve(q);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->cache_hit);
  ASSERT_EQ(second->hits.size(), first->hits.size());
  EXPECT_EQ(second->hits[0].doc_id, first->hits[0].doc_id);
  EXPECT_EQ(second->hits[0].text, first->hits[0].text);
  ASSERT_TRUE(kb.remove("a").ok());
  auto third = retriever.retrieve(q);
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->cache_hit);
  for (const auto& h : third->hits) EXPECT_NE(h.doc_id, "a");
}

// The graph indexes a count sketch of each embedding; the exact check uses the full one. Among thousands of entries
// (each its own meaning group, as queries naming different nodes are), a paraphrase must still find its entry at
// least as often as with full-dimension key vectors (seeded: 299 and 280 of 300 when written).
TEST(SemanticCache, SketchedKeysFindParaphrasesAmongThousandsOfEntries) {
  constexpr int kDim = 384;
  constexpr std::size_t kEntries = 3000;
  auto found_with = [&](int index_dim) {
    SemanticCacheOptions o = opts(kEntries);
    o.dim = kDim;
    o.index_dim = index_dim;
    SemanticCache cache(o);
    for (std::size_t i = 0; i < kEntries; ++i) {
      const std::string q = "why is node " + std::to_string(i) + " slow";
      cache.put(key(q, unit(1000 + i, kDim)), q, hits(i), 1, at(seconds(0)));
    }
    std::size_t found = 0;
    for (std::size_t i = 0; i < kEntries; i += 10) {
      auto f = cache.get(key("node " + std::to_string(i) + " slow why", near(unit(1000 + i, kDim), 0.95f, 7 + i)), 1,
                         at(seconds(1)));
      found += f && f->hits.at(0).chunk_id == i;
    }
    return found;
  };
  const std::size_t full = found_with(0);
  const std::size_t sketched = found_with(96);
  EXPECT_GE(sketched, full);
  EXPECT_GE(sketched, kEntries / 10 * 95 / 100);
}

}  // namespace
}  // namespace meshloop::rag
