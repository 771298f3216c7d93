// HnswIndex against its oracle (brute force) on seeded data, and its failure values.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/rng.h"
#include "rag/knowledge_base.h"
#include "rag/vector_index.h"

namespace meshloop::rag {
namespace {

std::vector<std::vector<float>> clustered(std::size_t n, int dim, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::vector<float>> centres(20, std::vector<float>(static_cast<std::size_t>(dim)));
  for (auto& c : centres)
    for (auto& x : c) x = static_cast<float>(rng.normal(0, 1));
  std::vector<std::vector<float>> out(n);
  for (auto& v : out) {
    const auto& c = centres[static_cast<std::size_t>(rng.uniform_int(0, 19))];
    v.resize(static_cast<std::size_t>(dim));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = c[i] + static_cast<float>(rng.normal(0, 0.8));
    EXPECT_TRUE(normalize_vector(v).ok());
  }
  return out;
}

TEST(HnswIndex, RecallAtTenAgainstBruteForceOnSeededClusters) {
  const int dim = 32;
  auto data = clustered(3000, dim, 7);
  auto queries = clustered(100, dim, 8);
  HnswIndex hnsw(HnswOptions{dim, 16, 100, 64, 64, 1});  // small capacity: exercises growth
  ExactIndex exact(dim);
  for (std::size_t i = 0; i < data.size(); ++i) {
    ASSERT_TRUE(hnsw.add(i, data[i]).ok());
    ASSERT_TRUE(exact.add(i, data[i]).ok());
  }
  std::size_t found = 0;
  for (const auto& q : queries) {
    auto a = hnsw.search(q, 10);
    auto b = exact.search(q, 10);
    ASSERT_TRUE(a.ok() && b.ok());
    std::set<std::uint64_t> truth;
    for (const auto& h : *b) truth.insert(h.id);
    for (const auto& h : *a) found += truth.count(h.id);
  }
  EXPECT_GE(static_cast<double>(found) / (10.0 * queries.size()), 0.95);
}

TEST(HnswIndex, RemovedIdsNeverComeBackAndReAddRestoresThem) {
  const int dim = 16;
  auto data = clustered(200, dim, 3);
  HnswIndex hnsw(HnswOptions{dim, 8, 50, 50, 256, 1});
  for (std::size_t i = 0; i < data.size(); ++i) ASSERT_TRUE(hnsw.add(i, data[i]).ok());
  ASSERT_TRUE(hnsw.remove(5).ok());
  EXPECT_EQ(hnsw.remove(5).code(), StatusCode::kNotFound);
  auto r = hnsw.search(data[5], 10);
  ASSERT_TRUE(r.ok());
  for (const auto& h : *r) EXPECT_NE(h.id, 5u);
  EXPECT_EQ(hnsw.size(), 199u);
  ASSERT_TRUE(hnsw.add(5, data[5]).ok());
  r = hnsw.search(data[5], 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->at(0).id, 5u);
  EXPECT_NEAR(r->at(0).score, 1.0f, 1e-5);
}

TEST(HnswIndex, RejectsWrongDimensionAndNonFiniteValues) {
  HnswIndex hnsw(HnswOptions{8, 8, 50, 50, 16, 1});
  std::vector<float> short_v(7, 0.1f), nan_v(8, NAN);
  EXPECT_EQ(hnsw.add(1, short_v).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(hnsw.add(1, nan_v).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(hnsw.search(short_v, 3).status().code(), StatusCode::kInvalidArgument);
}

TEST(HnswIndex, SerializeRoundTripGivesIdenticalResults) {
  const int dim = 24;
  auto data = clustered(500, dim, 11);
  HnswOptions opt{dim, 12, 80, 40, 600, 9};
  HnswIndex hnsw(opt);
  for (std::size_t i = 0; i < data.size(); ++i) ASSERT_TRUE(hnsw.add(i * 3, data[i]).ok());
  ASSERT_TRUE(hnsw.remove(9).ok());
  auto bytes = hnsw.serialize();
  ASSERT_TRUE(bytes.ok());
  auto back = HnswIndex::deserialize(opt, *bytes);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ((*back)->size(), hnsw.size());
  for (std::size_t i = 0; i < 50; ++i) {
    auto a = hnsw.search(data[i], 10);
    auto b = (*back)->search(data[i], 10);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), b->size());
    for (std::size_t j = 0; j < a->size(); ++j) {
      EXPECT_EQ(a->at(j).id, b->at(j).id);
      EXPECT_FLOAT_EQ(a->at(j).score, b->at(j).score);
    }
  }
  // Options that do not match the stored graph are refused, not trusted.
  HnswOptions other = opt;
  other.dim = 32;
  EXPECT_EQ(HnswIndex::deserialize(other, *bytes).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(HnswIndex::deserialize(opt, bytes->substr(0, 40)).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace meshloop::rag
