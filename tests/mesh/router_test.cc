#include "mesh/router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>

#include "core/rng.h"

namespace meshloop::mesh {
namespace {

// A random symmetric mesh as a database of LSAs.
std::map<NodeId, Lsa> random_mesh(Rng& rng, int n, double p) {
  std::map<NodeId, Lsa> lsas;
  for (int i = 1; i <= n; ++i) lsas[static_cast<NodeId>(i)] = Lsa{static_cast<NodeId>(i), 1, 0, {}};
  for (int a = 1; a <= n; ++a) {
    for (int b = a + 1; b <= n; ++b) {
      if (!rng.bernoulli(p)) continue;
      lsas[static_cast<NodeId>(a)].links.push_back({static_cast<NodeId>(b), static_cast<Cost>(rng.uniform_int(100, 400))});
      lsas[static_cast<NodeId>(b)].links.push_back({static_cast<NodeId>(a), static_cast<Cost>(rng.uniform_int(100, 400))});
    }
  }
  return lsas;
}

void sort_links(Lsa& lsa) {
  std::sort(lsa.links.begin(), lsa.links.end(),
            [](const LinkAdvert& x, const LinkAdvert& y) { return x.neighbour < y.neighbour; });
}

// Fills `lsdb` with a random symmetric mesh of n nodes (links sorted, as the LSDB keeps them).
void install_random_mesh(Lsdb& lsdb, Rng& rng, int n) {
  for (auto& [id, lsa] : random_mesh(rng, n, 0.3)) {
    sort_links(lsa);
    lsdb.consider(lsa, kTimeZero);
  }
}

// One random change to one origin's links: drop a link, add one, or change a cost (or nothing: a refresh).
Lsa mutate(Rng& rng, Lsa lsa, int n) {
  ++lsa.seq;
  switch (rng.uniform_int(0, 3)) {
    case 0:
      if (!lsa.links.empty()) lsa.links.erase(lsa.links.begin() + rng.uniform_int(0, static_cast<int>(lsa.links.size()) - 1));
      break;
    case 1: {
      const auto v = static_cast<NodeId>(rng.uniform_int(1, n));
      const bool present = std::any_of(lsa.links.begin(), lsa.links.end(), [&](auto& l) { return l.neighbour == v; });
      if (v != lsa.origin && !present) lsa.links.push_back({v, static_cast<Cost>(rng.uniform_int(100, 400))});
      break;
    }
    case 2:
      if (!lsa.links.empty()) {
        lsa.links[static_cast<std::size_t>(rng.uniform_int(0, static_cast<int>(lsa.links.size()) - 1))].cost =
            static_cast<Cost>(rng.uniform_int(100, 400));
      }
      break;
    default:
      break;
  }
  sort_links(lsa);
  return lsa;
}

TEST(RouterTest, SkippingUnaffectedChangesLeavesExactlyTheTreeAFullRecomputeGives) {
  Rng rng(2024);
  int skipped = 0, recomputed = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const int n = 12;
    Lsdb lsdb;
    install_random_mesh(lsdb, rng, n);
    const NodeId self = 1;
    Router incremental(self, lsdb);
    incremental.recompute();
    for (int step = 0; step < 30; ++step) {
      const auto origin = static_cast<NodeId>(rng.uniform_int(2, n));
      const Lsa after = mutate(rng, lsdb.find(origin)->lsa(), n);
      const bool affects = incremental.affects_tree(&lsdb.find(origin)->lsa(), after);
      lsdb.consider(after, kTimeZero);
      if (affects) {
        incremental.recompute();
        ++recomputed;
      } else {
        incremental.mark_stale();
        ++skipped;
      }
      Router full(self, lsdb);
      full.recompute();
      const auto a = incremental.all_routes();
      const auto b = full.all_routes();
      ASSERT_EQ(a.size(), b.size()) << "trial " << trial << " step " << step;
      for (std::size_t i = 0; i < a.size(); ++i) {
        ASSERT_EQ(a[i].first, b[i].first);
        ASSERT_EQ(a[i].second.next_hop, b[i].second.next_hop) << "to " << a[i].first;
        ASSERT_EQ(a[i].second.cost, b[i].second.cost) << "to " << a[i].first;
      }
    }
  }
  // The check must actually save work, or it is only complexity.
  EXPECT_GT(skipped, recomputed / 4);
}

// The two-way edges of a router's graph as (from, to, cost) ids: what SPF sees, whatever the indices.
std::vector<std::tuple<NodeId, NodeId, Cost>> edges_of(Router& r) {
  const Graph& g = r.graph();
  std::vector<std::tuple<NodeId, NodeId, Cost>> out;
  for (Index i = 0; i < g.size(); ++i) {
    for (std::size_t k = 0; k < g.targets(i).size(); ++k) out.emplace_back(g.id(i), g.id(g.targets(i)[k]), g.costs(i)[k]);
  }
  return out;
}

// Routes and whole paths (the parents along them), which must match a fresh router's exactly.
void expect_same_routes(Router& got, Router& want, int n, const std::string& where) {
  const auto a = got.all_routes();
  const auto b = want.all_routes();
  ASSERT_EQ(a.size(), b.size()) << where;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].first, b[i].first) << where;
    ASSERT_EQ(a[i].second.next_hop, b[i].second.next_hop) << where << " to " << a[i].first;
    ASSERT_EQ(a[i].second.cost, b[i].second.cost) << where << " to " << a[i].first;
  }
  for (int d = 1; d <= n; ++d) ASSERT_EQ(got.path(static_cast<NodeId>(d)), want.path(static_cast<NodeId>(d))) << where;
}

TEST(RouterTest, PatchingTheGraphGivesTheGraphAndRoutesARebuildGives) {
  Rng rng(77);
  std::size_t steps = 0, repaired = 0;
  for (int trial = 0; trial < 30; ++trial) {
    const int n = 14;
    Lsdb lsdb;
    install_random_mesh(lsdb, rng, n);
    const NodeId self = 1;
    Router patched(self, lsdb);
    patched.recompute();
    for (int step = 0; step < 40; ++step) {
      // One to three origins change between SPF runs (under the patch limit: every step patches), sometimes our
      // own, sometimes only in flags.
      for (int k = rng.uniform_int(1, 3); k > 0; --k) {
        const auto origin = static_cast<NodeId>(rng.uniform_int(1, n));
        Lsa after = mutate(rng, lsdb.find(origin)->lsa(), n);
        if (rng.bernoulli(0.1)) after.flags ^= kLsaFlagAvoidTransit;
        lsdb.consider(after, kTimeZero);
      }
      patched.recompute();
      Router rebuilt(self, lsdb);
      rebuilt.recompute();
      ASSERT_EQ(edges_of(patched), edges_of(rebuilt)) << "trial " << trial << " step " << step;
      expect_same_routes(patched, rebuilt, n, "trial " + std::to_string(trial) + " step " + std::to_string(step));
      if (HasFatalFailure()) return;
      ++steps;
    }
    repaired += patched.incremental_runs();
  }
  // Every step patches a few origins: the tree must have been repaired, not recomputed, nearly every time.
  EXPECT_GT(repaired, steps * 9 / 10);
}

// A sparser, larger mesh under heavier churn: several origins per step, nodes cut off entirely and coming back,
// transit refused and allowed, our own links changing. The repaired tree must always be the fresh router's.
TEST(RouterTest, RepairedTreeEqualsAFreshRoutersUnderChurn) {
  Rng rng(4242);
  std::size_t steps = 0, repaired = 0;
  for (int trial = 0; trial < 12; ++trial) {
    const int n = 48;
    Lsdb lsdb;
    for (auto& [id, lsa] : random_mesh(rng, n, 0.1)) {
      sort_links(lsa);
      lsdb.consider(lsa, kTimeZero);
    }
    const NodeId self = static_cast<NodeId>(rng.uniform_int(1, n));
    Router router(self, lsdb);
    router.recompute();
    std::map<NodeId, Lsa> cut_off;  // origins whose links were withdrawn, with what they had
    for (int step = 0; step < 60; ++step) {
      for (int k = static_cast<int>(rng.uniform_int(1, 6)); k > 0; --k) {
        const auto origin = static_cast<NodeId>(rng.uniform_int(1, n));
        Lsa after = lsdb.find(origin)->lsa();
        if (auto it = cut_off.find(origin); it != cut_off.end() && rng.bernoulli(0.5)) {
          after.links = it->second.links;  // back again
          cut_off.erase(it);
        } else if (rng.bernoulli(0.1)) {
          cut_off.emplace(origin, after);
          after.links.clear();  // gone: every link withdrawn
        } else {
          after = mutate(rng, after, n);
        }
        ++after.seq;
        if (rng.bernoulli(0.1)) after.flags ^= kLsaFlagAvoidTransit;
        lsdb.consider(after, kTimeZero);
      }
      router.recompute();
      Router fresh(self, lsdb);
      fresh.recompute();
      expect_same_routes(router, fresh, n, "trial " + std::to_string(trial) + " step " + std::to_string(step));
      if (HasFatalFailure()) return;
      ++steps;
    }
    repaired += router.incremental_runs();
  }
  EXPECT_GT(repaired, steps * 9 / 10);
}

TEST(RouterTest, BackupPathAvoidsTheFailedNextHop) {
  // 1-2-4 and 1-3-4, 2 cheaper.
  Lsdb lsdb;
  lsdb.consider(Lsa{1, 1, 0, {{2, 100}, {3, 150}}}, kTimeZero);
  lsdb.consider(Lsa{2, 1, 0, {{1, 100}, {4, 100}}}, kTimeZero);
  lsdb.consider(Lsa{3, 1, 0, {{1, 150}, {4, 100}}}, kTimeZero);
  lsdb.consider(Lsa{4, 1, 0, {{2, 100}, {3, 100}}}, kTimeZero);
  Router r(1, lsdb);
  r.recompute();
  ASSERT_EQ(r.route(4)->next_hop, 2u);
  EXPECT_EQ(r.backup_path(4, 2), (std::vector<NodeId>{3, 4}));
  // To the neighbour itself, the backup avoids only the link.
  EXPECT_EQ(r.backup_path(2, 2), (std::vector<NodeId>{3, 4, 2}));
}

TEST(RouterTest, OneWayLinksAreNotUsed) {
  Lsdb lsdb;
  lsdb.consider(Lsa{1, 1, 0, {{2, 100}}}, kTimeZero);
  lsdb.consider(Lsa{2, 1, 0, {}}, kTimeZero);
  Router r(1, lsdb);
  r.recompute();
  EXPECT_FALSE(r.route(2).has_value());
}

}  // namespace
}  // namespace meshloop::mesh
