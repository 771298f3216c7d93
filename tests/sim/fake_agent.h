// Hand-written fake protocols for testing the simulator without mesh::Node.
//
// StaticRouteAgent forwards data along shortest paths of the *true* topology computed once (it never learns of
// failures, so it never recovers from one before the fault heals). With flood = true it floods data instead (with
// duplicate suppression), so it delivers whenever any path exists: an instant "healer". Both send a 10-byte
// control beacon on every port each second so control accounting can be checked.
#pragma once

#include <cstring>
#include <deque>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "sim/agent.h"
#include "sim/topology.h"

namespace meshloop::sim::testing {

// All-pairs next hops by BFS (ties: lowest neighbour id), shared by all agents of a run.
struct NextHopTable {
  std::size_t n = 0;
  std::vector<NodeId> hop;  // hop[(src-1)*n + (dst-1)]
  explicit NextHopTable(const Topology& topo) : n(topo.n), hop(topo.n * topo.n, mesh::kNoNode) {
    const Adjacency adj(topo);
    for (NodeId dst = 1; dst <= n; ++dst) {
      std::vector<bool> seen(n + 1, false);
      std::deque<NodeId> q{dst};
      seen[dst] = true;
      while (!q.empty()) {
        const NodeId u = q.front();
        q.pop_front();
        for (PortId p = 0; p < adj.degree(u); ++p) {
          const NodeId v = adj.port(u, p).peer;
          if (seen[v]) continue;
          seen[v] = true;
          hop[(v - 1) * n + (dst - 1)] = u;
          q.push_back(v);
        }
      }
    }
  }
  NodeId get(NodeId src, NodeId dst) const { return hop[(src - 1) * n + (dst - 1)]; }
};

class StaticRouteAgent final : public Agent {
 public:
  StaticRouteAgent(std::shared_ptr<const NextHopTable> table, std::shared_ptr<const Adjacency> adj, NodeId self,
                   bool flood)
      : table_(std::move(table)), adj_(std::move(adj)), self_(self), flood_(flood) {}

  void add_port(PortId port, TimePoint now) override {
    ports_.push_back(port);
    next_beacon_ = now;
  }
  void receive(PortId port, std::span<const std::uint8_t> bytes, TimePoint now) override {
    (void)now;
    if (bytes.size() < 12 || bytes[0] != 'D') return;  // beacons and junk are ignored
    NodeId dst, origin;
    std::uint32_t id;
    std::memcpy(&dst, bytes.data() + 1, 4);
    std::memcpy(&origin, bytes.data() + 5, 4);
    std::memcpy(&id, bytes.data() + 9, 3);
    id &= 0xFFFFFF;
    if (flood_ && !seen_.insert({origin, id}).second) return;
    if (dst == self_) {
      outputs_.emplace_back(mesh::DeliverOutput{origin, std::vector<std::uint8_t>(bytes.begin() + 12, bytes.end()), {}});
      return;
    }
    forward(std::vector<std::uint8_t>(bytes.begin(), bytes.end()), dst, port);
  }
  void send_data(NodeId destination, std::span<const std::uint8_t> payload, TimePoint now) override {
    (void)now;
    std::vector<std::uint8_t> pkt(12 + payload.size());
    pkt[0] = 'D';
    std::memcpy(pkt.data() + 1, &destination, 4);
    std::memcpy(pkt.data() + 5, &self_, 4);
    const std::uint32_t id = next_id_++;
    std::memcpy(pkt.data() + 9, &id, 3);
    std::memcpy(pkt.data() + 12, payload.data(), payload.size());
    if (flood_) seen_.insert({self_, id & 0xFFFFFF});
    forward(std::move(pkt), destination, mesh::kNoPort);
  }
  void tick(TimePoint now) override {
    if (now < next_beacon_) return;
    for (PortId p : ports_) outputs_.emplace_back(mesh::SendOutput{p, std::vector<std::uint8_t>(10, 'B'), true});
    next_beacon_ = now + seconds(1);
    ++beacons_;
  }
  void drain_outputs(std::vector<mesh::Output>& out) override {
    for (auto& o : outputs_) out.push_back(std::move(o));
    outputs_.clear();
  }
  TimePoint next_deadline() const override { return next_beacon_; }
  NodeId next_hop(NodeId destination) const override {
    return destination == self_ ? mesh::kNoNode : table_->get(self_, destination);
  }
  std::size_t route_count(TimePoint now) const override {
    // Pretend routes appear after two beacons, to exercise the convergence measurement.
    (void)now;
    return beacons_ >= 2 ? table_->n - 1 : 0;
  }

 private:
  void forward(std::vector<std::uint8_t> pkt, NodeId dst, PortId in_port) {
    if (flood_) {
      for (PortId p : ports_) {
        if (p != in_port) outputs_.emplace_back(mesh::SendOutput{p, pkt, false});
      }
      return;
    }
    const NodeId nh = table_->get(self_, dst);
    for (PortId p = 0; p < adj_->degree(self_); ++p) {
      if (adj_->port(self_, p).peer == nh) {
        outputs_.emplace_back(mesh::SendOutput{p, std::move(pkt), false});
        return;
      }
    }
  }

  std::shared_ptr<const NextHopTable> table_;
  std::shared_ptr<const Adjacency> adj_;
  NodeId self_;
  bool flood_;
  std::vector<PortId> ports_;
  std::vector<mesh::Output> outputs_;
  TimePoint next_beacon_ = kTimeNever;
  std::uint32_t next_id_ = 0;
  int beacons_ = 0;
  std::set<std::pair<NodeId, std::uint32_t>> seen_;
};

inline Protocol static_protocol(const Topology& topo, bool flood) {
  auto table = std::make_shared<const NextHopTable>(topo);
  auto adj = std::make_shared<const Adjacency>(topo);
  return Protocol{flood ? "flood" : "static", [table, adj, flood](NodeId id, std::uint32_t, std::uint64_t) {
                    return std::unique_ptr<Agent>(std::make_unique<StaticRouteAgent>(table, adj, id, flood));
                  }};
}

}  // namespace meshloop::sim::testing
