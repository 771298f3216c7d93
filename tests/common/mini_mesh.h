// MiniMesh: a few mesh::Nodes wired by perfect point-to-point links with a fixed delay, driven in explicit time.
//
// A test double for node and scenario tests: small, exact and deterministic (the simulator in src/sim is the
// full-featured driver). A node's port towards peer P is numbered P, so transcripts read naturally.
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "mesh/node.h"

namespace meshloop::testing {

class MiniMesh {
 public:
  explicit MiniMesh(mesh::NodeConfig config = {}, Duration link_delay = milliseconds(1))
      : config_(std::move(config)), delay_(link_delay) {}

  void add_node(mesh::NodeId id) {
    nodes_[id] = make_node(id, 1);
    epochs_[id] = 1;
  }
  void link(mesh::NodeId a, mesh::NodeId b) {
    links_.insert(key(a, b));
    if (nodes_[a]) nodes_[a]->add_port(b, now_);
    if (nodes_[b]) nodes_[b]->add_port(a, now_);
  }
  void cut(mesh::NodeId a, mesh::NodeId b) { cut_.insert(key(a, b)); }
  void heal(mesh::NodeId a, mesh::NodeId b) { cut_.erase(key(a, b)); }
  void crash(mesh::NodeId id) { nodes_[id].reset(); }
  void restart(mesh::NodeId id) {
    nodes_[id] = make_node(id, ++epochs_[id]);
    for (auto [a, b] : links_) {
      if (a == id) nodes_[id]->add_port(b, now_);
      if (b == id) nodes_[id]->add_port(a, now_);
    }
  }
  // Injects raw bytes as if `from` had sent them to `to`.
  void inject(mesh::NodeId from, mesh::NodeId to, std::vector<std::uint8_t> bytes) {
    queue_.push(InFlight{now_ + delay_, seq_++, from, to, std::move(bytes)});
  }
  void send(mesh::NodeId from, mesh::NodeId to, std::vector<std::uint8_t> payload = {0}) {
    if (nodes_[from]) {
      nodes_[from]->send_data(to, payload, now_);
      pump(from);
    }
  }
  // Sends one packet from `from` to `to` every `interval` while running.
  void flow(mesh::NodeId from, mesh::NodeId to, Duration interval) { flows_.push_back({from, to, interval, now_}); }

  void run_for(Duration d) { run_until(now_ + d); }
  void run_until(TimePoint end) {
    while (true) {
      TimePoint next = end;
      mesh::NodeId who = mesh::kNoNode;
      for (auto& [id, n] : nodes_) {
        if (n && n->next_deadline() < next) {
          next = n->next_deadline();
          who = id;
        }
      }
      for (auto& f : flows_) next = std::min(next, f.next);
      const bool packet_first = !queue_.empty() && queue_.top().at <= next;
      if (packet_first) next = queue_.top().at;
      if (next >= end && !(packet_first && next == end)) break;
      now_ = std::max(now_, next);
      if (packet_first) {
        InFlight p = queue_.top();
        queue_.pop();
        auto& n = nodes_[p.to];
        if (n && !cut_.count(key(p.from, p.to))) {
          n->receive(p.from, p.bytes, now_);
          pump(p.to);
        }
        continue;
      }
      bool flowed = false;
      for (auto& f : flows_) {
        if (f.next <= now_) {
          f.next = now_ + f.interval;
          ++sent_[{f.from, f.to}];
          send(f.from, f.to, {1});
          flowed = true;
        }
      }
      if (flowed) continue;
      if (who != mesh::kNoNode) {
        nodes_[who]->tick(now_);
        pump(who);
      }
    }
    now_ = end;
  }

  mesh::Node* node(mesh::NodeId id) { return nodes_[id].get(); }
  TimePoint now() const { return now_; }
  const std::vector<mesh::Event>& events() const { return events_; }
  std::uint64_t delivered(mesh::NodeId from, mesh::NodeId to) const {
    auto it = delivered_.find({from, to});
    return it == delivered_.end() ? 0 : it->second;
  }
  std::uint64_t sent(mesh::NodeId from, mesh::NodeId to) const {
    auto it = sent_.find({from, to});
    return it == sent_.end() ? 0 : it->second;
  }
  // Called for every event of every node, with the node's id.
  std::function<void(mesh::NodeId, const mesh::Event&)> on_event;
  // Called for every packet a node hands to a port, with the node's id and the time (before the link sees it).
  std::function<void(mesh::NodeId, const mesh::SendOutput&, TimePoint)> on_send;
  // When set and true for a packet (after on_send saw it), the link loses it.
  std::function<bool(mesh::NodeId, const mesh::SendOutput&)> drop;

 private:
  struct InFlight {
    TimePoint at;
    std::uint64_t seq;
    mesh::NodeId from, to;
    std::vector<std::uint8_t> bytes;
    bool operator>(const InFlight& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  struct Flow {
    mesh::NodeId from, to;
    Duration interval;
    TimePoint next;
  };
  static std::pair<mesh::NodeId, mesh::NodeId> key(mesh::NodeId a, mesh::NodeId b) {
    return a < b ? std::pair{a, b} : std::pair{b, a};
  }
  std::unique_ptr<mesh::Node> make_node(mesh::NodeId id, std::uint32_t epoch) {
    mesh::NodeConfig c = config_;
    c.boot_epoch = epoch;
    return std::make_unique<mesh::Node>(c, id, 1000 + id);
  }
  void pump(mesh::NodeId id) {
    std::vector<mesh::Output> out;
    nodes_[id]->drain_outputs(out);
    for (auto& o : out) {
      if (auto* s = std::get_if<mesh::SendOutput>(&o)) {
        if (on_send) on_send(id, *s, now_);
        if (drop && drop(id, *s)) continue;
        if (links_.count(key(id, s->port))) queue_.push(InFlight{now_ + delay_, seq_++, id, s->port, std::move(s->bytes)});
      } else if (auto* d = std::get_if<mesh::DeliverOutput>(&o)) {
        ++delivered_[{d->origin, id}];
      } else if (auto* e = std::get_if<mesh::Event>(&o)) {
        if (on_event) on_event(id, *e);
        events_.push_back(*e);
      }
    }
  }

  mesh::NodeConfig config_;
  Duration delay_;
  TimePoint now_ = kTimeZero;
  std::uint64_t seq_ = 0;
  std::map<mesh::NodeId, std::unique_ptr<mesh::Node>> nodes_;
  std::map<mesh::NodeId, std::uint32_t> epochs_;
  std::set<std::pair<mesh::NodeId, mesh::NodeId>> links_, cut_;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> queue_;
  std::vector<Flow> flows_;
  std::map<std::pair<mesh::NodeId, mesh::NodeId>, std::uint64_t> delivered_, sent_;
  std::vector<mesh::Event> events_;
};

}  // namespace meshloop::testing
