#include "sim/topology.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace meshloop::sim {
namespace {

TEST(Grid, HasFourNeighbourLinksAndIsConnected) {
  const Topology t = make_grid(16);
  EXPECT_EQ(t.n, 16u);
  EXPECT_EQ(t.edges.size(), 24u);  // 4x4: 2 * 4 * 3
  EXPECT_TRUE(is_connected(t));
  EXPECT_GE(t.find_edge(1, 2), 0);
  EXPECT_GE(t.find_edge(1, 5), 0);
  EXPECT_LT(t.find_edge(4, 5), 0);  // no wrap-around
}

TEST(Grid, PartialLastRowStaysConnected) {
  for (std::size_t n : {2u, 3u, 7u, 10u, 50u}) EXPECT_TRUE(is_connected(make_grid(n))) << n;
}

TEST(RandomGeometric, IsConnectedWithTheRequestedMeanDegree) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const Topology t = make_rgg(1000, 8, seed);
    EXPECT_TRUE(is_connected(t)) << seed;
    EXPECT_NEAR(t.mean_degree(), 8.0, 0.8) << seed;
    EXPECT_EQ(t.bridged_components, 0) << seed;
  }
}

TEST(RandomGeometric, IsAFunctionOfItsSeed) {
  EXPECT_EQ(make_rgg(200, 6, 7).edges, make_rgg(200, 6, 7).edges);
  EXPECT_NE(make_rgg(200, 6, 7).edges, make_rgg(200, 6, 8).edges);
}

TEST(RandomGeometric, SparseRequestsAreBridgedIntoOneComponent) {
  const Topology t = make_rgg(300, 2.0, 1);  // far below the connectivity threshold
  EXPECT_TRUE(is_connected(t));
  EXPECT_GT(t.bridged_components, 0);
}

// Ground truth (which flows a fault's link lies on) looks links up with find_edge: every generator must yield the
// sorted (u < v) edge list it searches, in both directions.
TEST(Topology, EveryLinkOfEveryGeneratorIsFoundFromBothEnds) {
  for (const Topology& t : {make_grid(50), make_rgg(1000, 8, 1), make_rgg(300, 2.0, 1), make_ba(300, 6, 2)}) {
    EXPECT_TRUE(std::is_sorted(t.edges.begin(), t.edges.end())) << t.kind;
    for (std::size_t e = 0; e < t.edges.size(); ++e) {
      const auto [u, v] = t.edges[e];
      ASSERT_LT(u, v) << t.kind;
      ASSERT_EQ(t.find_edge(u, v), static_cast<std::int64_t>(e)) << t.kind << " " << u << "-" << v;
      ASSERT_EQ(t.find_edge(v, u), static_cast<std::int64_t>(e)) << t.kind << " " << v << "-" << u;
    }
  }
}

TEST(BarabasiAlbert, HasMeanDegreeTwoMAndAHeavyTail) {
  const Topology t = make_ba(1000, 8, 3);
  EXPECT_TRUE(is_connected(t));
  EXPECT_NEAR(t.mean_degree(), 8.0, 0.2);
  std::vector<int> deg(t.n + 1, 0);
  for (const auto& [u, v] : t.edges) {
    ++deg[u];
    ++deg[v];
  }
  const int min_deg = *std::min_element(deg.begin() + 1, deg.end());
  const int max_deg = *std::max_element(deg.begin() + 1, deg.end());
  EXPECT_GE(min_deg, 4);       // every node brought m = 4 links
  EXPECT_GT(max_deg, 5 * 8);   // hubs: far above the mean (a power law, not a Poisson tail)
  // Most nodes have a degree below the mean.
  const auto below = std::count_if(deg.begin() + 1, deg.end(), [](int d) { return d < 8; });
  EXPECT_GT(below, 500);
}

TEST(EdgeList, ParsesPairsCommentsAndBlankLines) {
  auto t = parse_edge_list("# a triangle\n1 2\n\n2 3  # second\n3 1\n", "t.txt");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->n, 3u);
  EXPECT_EQ(t->edges.size(), 3u);
  EXPECT_TRUE(is_connected(*t));
}

TEST(EdgeList, ErrorsNameTheFileAndLine) {
  auto expect_error = [](const char* text, const char* needle) {
    auto t = parse_edge_list(text, "topo.txt");
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_NE(t.status().message().find(needle), std::string::npos) << t.status().message();
  };
  expect_error("1 2\n2 x\n", "topo.txt:2: 'x' is not a node id");
  expect_error("1 2\n0 3\n", "topo.txt:2: '0' is not a node id");
  expect_error("1 2 3\n", "topo.txt:1: expected two node ids");
  expect_error("1 2\n\n3 3\n", "topo.txt:3: self-loop");
  expect_error("1 2\n2 1\n", "topo.txt:2: duplicate link 2-1 (first listed on line 1)");
  expect_error("# nothing\n", "no edges");
  expect_error("-1 2\n", "'-1' is not a node id");
}

TEST(Adjacency, PortsAreSymmetric) {
  const Topology t = make_rgg(100, 6, 5);
  const Adjacency adj(t);
  for (NodeId u = 1; u <= t.n; ++u) {
    for (PortId p = 0; p < adj.degree(u); ++p) {
      const auto& port = adj.port(u, p);
      const auto& back = adj.port(port.peer, port.peer_port);
      EXPECT_EQ(back.peer, u);
      EXPECT_EQ(back.peer_port, p);
      EXPECT_EQ(back.edge, port.edge);
      if (p > 0) {
        EXPECT_LT(adj.port(u, p - 1).peer, port.peer);
      }
    }
  }
}

TEST(Components, FollowEdgeAndNodeFilters) {
  const Topology t = make_grid(9);  // 3x3
  std::vector<bool> node_up(9, true);
  node_up[4] = false;  // the centre
  auto comp = components(t, {}, node_up);
  EXPECT_EQ(comp[0], comp[8]);  // still connected around the ring
  std::vector<bool> edge_up(t.edges.size(), true);
  edge_up[static_cast<std::size_t>(t.find_edge(1, 2))] = false;
  edge_up[static_cast<std::size_t>(t.find_edge(1, 4))] = false;
  comp = components(t, edge_up);
  EXPECT_NE(comp[0], comp[1]);
}

}  // namespace
}  // namespace meshloop::sim
