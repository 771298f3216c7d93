#include "mesh/router.h"

#include <gtest/gtest.h>

#include <algorithm>
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
      const Lsa after = mutate(rng, lsdb.find(origin)->lsa, n);
      const bool affects = incremental.affects_tree(&lsdb.find(origin)->lsa, after);
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

TEST(RouterTest, PatchingTheGraphGivesTheGraphAndRoutesARebuildGives) {
  Rng rng(77);
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
        Lsa after = mutate(rng, lsdb.find(origin)->lsa, n);
        if (rng.bernoulli(0.1)) after.flags ^= kLsaFlagAvoidTransit;
        lsdb.consider(after, kTimeZero);
      }
      patched.recompute();
      Router rebuilt(self, lsdb);
      rebuilt.recompute();
      ASSERT_EQ(edges_of(patched), edges_of(rebuilt)) << "trial " << trial << " step " << step;
      const auto a = patched.all_routes();
      const auto b = rebuilt.all_routes();
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        ASSERT_EQ(a[i].first, b[i].first);
        ASSERT_EQ(a[i].second.next_hop, b[i].second.next_hop);
        ASSERT_EQ(a[i].second.cost, b[i].second.cost);
      }
    }
  }
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
