#include "sim/world.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>

#include "core/rng.h"
#include "sim/scheduler.h"

namespace meshloop::sim {
namespace {

enum EventKind : std::uint32_t {
  kWake,         // a = node, b = generation
  kArrive,       // a = packet slot, b = link direction
  kFlowSend,     // a = flow
  kFaultStart,   // a = fault
  kFaultEnd,     // a = fault
  kFlap,         // a = fault
  kConvergence,  //
  kObserve,      // RunOptions::observe
  kTelemetry,    // RunOptions::on_telemetry, at the end of each window
};

class World {
 public:
  World(const Scenario& sc, const Protocol& proto, const RunOptions& opts)
      : sc_(sc), proto_(proto), opts_(opts), n_(sc.topo.n), faults_(sc.faults) {
    stats_.protocol = proto.name;
    agents_.resize(n_);
    alive_.assign(n_, true);
    crashes_.assign(n_, 0);
    epoch_.assign(n_, 1);
    wake_gen_.assign(n_, 0);
    wake_at_.assign(n_, kTimeNever);
    const std::size_t m = sc.topo.edges.size();
    edges_.resize(m);
    dirs_.reserve(2 * m);
    dir_to_.resize(2 * m);
    dir_port_.resize(2 * m);
    for (std::uint32_t e = 0; e < m; ++e) {
      const auto [u, v] = sc.topo.edges[e];
      dirs_.emplace_back(sc.params.seed, u, v);
      dirs_.emplace_back(sc.params.seed, v, u);
      dir_to_[2 * e] = v;
      dir_to_[2 * e + 1] = u;
    }
    port_dir_.resize(sc.adj.ports.size());
    for (NodeId u = 1; u <= n_; ++u) {
      for (PortId p = 0; p < sc.adj.degree(u); ++p) {
        const auto& port = sc.adj.port(u, p);
        // Direction u -> peer: 2e when u is the edge's smaller end.
        const std::uint32_t dir = 2 * port.edge + (u < port.peer ? 0 : 1);
        port_dir_[sc.adj.offsets[u - 1] + p] = dir;
        dir_port_[dir] = port.peer_port;
      }
    }
    logs_.resize(sc.flows.size());
    for (std::size_t i = 0; i < sc.flows.size(); ++i) {
      logs_[i].flow = sc.flows[i];
      const Duration active = sc.end() - sc.flows[i].start;
      logs_[i].packets.reserve(static_cast<std::size_t>(to_seconds(active) * sc.flows[i].rate) + 2);
    }
    next_seq_.assign(sc.flows.size(), 0);
    flap_down_.assign(faults_.size(), false);
    truths_.resize(faults_.size());
    payload_.assign(sc.params.payload_bytes, 0);
    comp_dirty_ = true;
    queue_.reserve(4 * n_ + 1024);
    if (std::any_of(faults_.begin(), faults_.end(),
                    [](const Fault& f) { return f.kind == FaultKind::kGrayHole || f.kind == FaultKind::kOverload; })) {
      init_node_drops();
    }
    if (opts.on_telemetry || opts.on_control) init_telemetry();
  }

  // The per-node drop state of gray holes and overloads: sized only when such a fault is scheduled or injected.
  void init_node_drops() {
    if (!gray_.empty()) return;
    gray_.assign(n_, 0);
    overload_.assign(n_, 0);
    drop_draws_.reserve(n_);
    for (NodeId u = 1; u <= n_; ++u) drop_draws_.emplace_back(sc_.params.seed, 0x64726F7000000000ULL | u);
  }

  RunStats run() {
    const TimePoint end = sc_.end();
    for (NodeId u = 1; u <= n_; ++u) boot(u, kTimeZero);
    for (std::uint32_t i = 0; i < sc_.flows.size(); ++i) queue_.push(sc_.flows[i].send_time(0), kFlowSend, i);
    for (std::uint32_t i = 0; i < faults_.size(); ++i) queue_.push(faults_[i].start, kFaultStart, i);
    queue_.push(kTimeZero + opts_.convergence_check, kConvergence);
    if (opts_.observe) queue_.push(kTimeZero, kObserve);
    if (tel_) queue_.push(tel_->next - kTelemetryLead, kTelemetry);
    const std::uint64_t progress_mask = (1u << 15) - 1;
    while (!queue_.empty() && queue_.top().at < end && !stopped_) {
      const SimEvent ev = queue_.pop();
      ++stats_.events;
      dispatch(ev);
      if (opts_.progress && (stats_.events & progress_mask) == 0) {
        opts_.progress(to_seconds(ev.at) / to_seconds(end));
      }
    }
    if (opts_.progress) opts_.progress(1.0);
    finish();
    return std::move(stats_);
  }

 private:
  void dispatch(const SimEvent& ev) {
    switch (ev.kind) {
      case kWake: on_wake(ev); break;
      case kArrive: on_arrive(ev); break;
      case kFlowSend: on_flow_send(ev); break;
      case kFaultStart: on_fault_start(ev); break;
      case kFaultEnd: on_fault_end(ev); break;
      case kFlap: on_flap(ev); break;
      case kConvergence: on_convergence(ev); break;
      case kObserve: on_observe(ev); break;
      case kTelemetry: on_telemetry(ev); break;
      default: break;
    }
  }

  // --- nodes -------------------------------------------------------------------------------------------------

  void boot(NodeId u, TimePoint now) {
    const std::uint32_t epoch = epoch_[u - 1];
    agents_[u - 1] = proto_.factory(u, epoch, node_seed(sc_.params.seed, u, epoch));
    alive_[u - 1] = true;
    for (PortId p = 0; p < sc_.adj.degree(u); ++p) agents_[u - 1]->add_port(p, now);
    after(u, now, false);
  }

  // Performs a node's outputs, then re-arms its wake-up.
  void after(NodeId u, TimePoint now, bool from_tick) {
    Agent& agent = *agents_[u - 1];
    agent.drain_outputs(out_);
    for (mesh::Output& o : out_) {
      if (auto* s = std::get_if<mesh::SendOutput>(&o)) {
        transmit(u, *s, now);
      } else if (auto* d = std::get_if<mesh::DeliverOutput>(&o)) {
        deliver(u, *d, now);
      } else if (auto* e = std::get_if<mesh::Event>(&o)) {
        ++stats_.agent_events[mesh::event_kind_name(e->kind)];
        if (opts_.on_event) opts_.on_event(u, *e);
      }
    }
    out_.clear();
    TimePoint d = agent.next_deadline();
    if (d == kTimeNever) {
      wake_at_[u - 1] = kTimeNever;
      return;
    }
    // A tick that leaves its own deadline in the past would spin; move it on by the clock's resolution.
    if (d < now || (from_tick && d == now)) d = now + (from_tick ? microseconds(1) : Duration{0});
    if (d == wake_at_[u - 1]) return;  // the pending wake already covers it
    wake_at_[u - 1] = d;
    queue_.push(d, kWake, u, ++wake_gen_[u - 1]);
  }

  void on_wake(const SimEvent& ev) {
    const NodeId u = ev.a;
    if (!alive_[u - 1] || ev.b != wake_gen_[u - 1]) return;  // stale
    wake_at_[u - 1] = kTimeNever;
    agents_[u - 1]->tick(ev.at);
    after(u, ev.at, true);
  }

  // --- links -------------------------------------------------------------------------------------------------

  double extra_loss(std::uint32_t edge, TimePoint now) const {
    const auto& faults = edges_[edge].loss_faults;
    if (faults.empty()) return regime_loss_;
    double keep = 1.0 - regime_loss_;
    for (std::uint32_t fi : faults) {
      const Fault& f = faults_[fi];
      double loss = sc_.params.fault.burst_loss;
      if (f.kind == FaultKind::kDegradation) {
        const double frac = to_seconds(now - f.start) / std::max(1e-9, to_seconds(f.end - f.start));
        loss = sc_.params.fault.degradation_max_loss * std::clamp(frac, 0.0, 1.0);
      }
      keep *= 1.0 - loss;
    }
    return 1.0 - keep;
  }

  void transmit(NodeId u, mesh::SendOutput& s, TimePoint now) {
    if (s.port >= sc_.adj.degree(u)) return;  // not a port of ours: a protocol bug, nothing to send on
    const std::size_t size = s.bytes.size();
    const std::uint32_t dir = port_dir_[sc_.adj.offsets[u - 1] + s.port];
    if (s.control) {
      stats_.control_bytes += size + kIpUdpOverhead;
      ++stats_.control_packets;
      if (tel_) ++tel_->ctrl_sent[dir], ++tel_->sent[u - 1];
    } else {
      if (tel_) {
        ++tel_->sent[u - 1];
        if (!originating_) ++tel_->transit[u - 1];
      }
      if (node_drop_faults_ > 0 && dropped_by_node(u, now)) return;
      ++stats_.data_transmissions;
    }
    const std::uint32_t edge = dir / 2;
    if (edges_[edge].down > 0) {
      ++stats_.lost_link_down;
      return;
    }
    const auto tr = dirs_[dir].transmit(sc_.params.link, extra_loss(edge, now), now, size);
    if (tr.outcome == LinkDirection::Outcome::kLost) {
      ++stats_.lost_on_link;
      return;
    }
    if (tr.outcome == LinkDirection::Outcome::kQueueFull) {
      ++stats_.lost_queue_full;
      if (tel_) ++tel_->queue_dropped[u - 1];
      return;
    }
    if (tel_) count_delivery(dir, s.control, size, tr.arrival - now);
    std::uint32_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(pool_.size());
      pool_.emplace_back();
    }
    pool_[slot] = std::move(s.bytes);
    queue_.push(tr.arrival, kArrive, slot, dir);
  }

  // A gray hole drops data it forwards (not its own), an overloaded node's queues drop any data it sends. Draws are
  // keyed by (seed, node, send time, index at that instant) like the links' (link_model.h), so a packet the node
  // sends at the same time in two runs meets the same drop whatever other traffic the node carried.
  bool dropped_by_node(NodeId u, TimePoint now) {
    if (gray_[u - 1] == 0 && overload_[u - 1] == 0) return false;
    const FaultParams& fp = sc_.params.fault;
    KeyedDraws& draws = drop_draws_[u - 1];
    draws.next_event(now);
    if (gray_[u - 1] > 0 && !originating_ && draws.draw(0) < fp.gray_hole_drop) {
      ++stats_.lost_gray_hole;
      if (tel_) ++tel_->transit_dropped[u - 1];
      return true;
    }
    if (overload_[u - 1] > 0 && draws.draw(1) < fp.overload_drop) {
      ++stats_.lost_overload;
      if (tel_) ++tel_->queue_dropped[u - 1];
      return true;
    }
    return false;
  }

  void on_arrive(const SimEvent& ev) {
    const std::uint32_t slot = ev.a, dir = ev.b;
    const NodeId v = dir_to_[dir];
    if (edges_[dir / 2].down > 0) {
      ++stats_.lost_link_down;  // cut while the packet was on the wire
    } else if (!alive_[v - 1]) {
      ++stats_.lost_node_down;
    } else {
      if (tel_) ++tel_->received[v - 1];
      agents_[v - 1]->receive(dir_port_[dir], pool_[slot], ev.at);
      free_slots_.push_back(slot);
      after(v, ev.at, false);
      return;
    }
    free_slots_.push_back(slot);
  }

  // --- traffic -----------------------------------------------------------------------------------------------

  void on_flow_send(const SimEvent& ev) {
    const std::uint32_t i = ev.a;
    const Flow& f = sc_.flows[i];
    const std::uint32_t seq = next_seq_[i]++;
    logs_[i].packets.push_back(PacketRecord{ev.at.time_since_epoch().count(), -1, connected(f.src, f.dst)});
    if (alive_[f.src - 1]) {
      encode_payload(PayloadHeader{i, seq, ev.at}, payload_);
      agents_[f.src - 1]->send_data(f.dst, payload_, ev.at);
      originating_ = true;  // data the source sends now is its own, not transit
      after(f.src, ev.at, false);
      originating_ = false;
    }
    const TimePoint next = f.send_time(seq + 1);
    if (next < sc_.end()) queue_.push(next, kFlowSend, i);
  }

  void deliver(NodeId v, const mesh::DeliverOutput& d, TimePoint now) {
    const auto h = decode_payload(d.payload);
    if (!h || h->flow >= logs_.size() || sc_.flows[h->flow].dst != v || h->seq >= logs_[h->flow].packets.size()) {
      ++stats_.misdelivered;
      return;
    }
    PacketRecord& r = logs_[h->flow].packets[h->seq];
    if (r.delivered()) {
      ++logs_[h->flow].duplicates;
      return;
    }
    r.delay_us = static_cast<std::int32_t>(std::min<std::int64_t>((now - h->sent).count(), INT32_MAX));
  }

  // --- ground truth --------------------------------------------------------------------------------------------

  bool connected(NodeId a, NodeId b) {
    if (!alive_[a - 1] || !alive_[b - 1]) return false;
    if (comp_dirty_) {
      edge_up_.resize(edges_.size());
      for (std::size_t e = 0; e < edges_.size(); ++e) edge_up_[e] = edges_[e].down == 0;
      comp_ = components(sc_.topo, edge_up_, alive_);
      comp_dirty_ = false;
    }
    return comp_[a - 1] == comp_[b - 1];
  }

  // Does flow i's current path (following next_hop from its source) use fault f's element?
  bool on_path(const Flow& flow, const Fault& f) {
    if (f.kind == FaultKind::kRegimeChange) return false;      // mesh-wide shift, not a fault on a path
    if (f.kind == FaultKind::kOverload && flow.src == f.node) return true;  // its queues drop its own data too
    NodeId cur = flow.src;
    for (std::size_t hops = 0; hops <= n_ && cur != flow.dst; ++hops) {
      if (!alive_[cur - 1]) return false;
      const NodeId nh = agents_[cur - 1]->next_hop(flow.dst);
      if (nh == mesh::kNoNode || nh > n_) return false;
      const std::int64_t e = sc_.topo.find_edge(cur, nh);
      if (e < 0) return false;
      switch (f.kind) {
        case FaultKind::kNodeCrash:
        case FaultKind::kGrayHole:
        case FaultKind::kOverload:
          if (nh == f.node && nh != flow.dst) return true;
          break;
        case FaultKind::kPartition:
          if (std::binary_search(f.cut_edges.begin(), f.cut_edges.end(), static_cast<std::uint32_t>(e))) return true;
          break;
        default:
          if (static_cast<std::uint32_t>(e) == f.edge) return true;
          break;
      }
      cur = nh;
    }
    return false;
  }

  void on_fault_start(const SimEvent& ev) {
    const std::uint32_t fi = ev.a;
    const Fault& f = faults_[fi];
    FaultTruth& truth = truths_[fi];
    truth.kind = f.kind;
    truth.start = f.start;
    truth.end = f.end;
    std::vector<std::uint32_t> on;
    for (std::uint32_t i = 0; i < sc_.flows.size(); ++i) {
      const Flow& flow = sc_.flows[i];
      const bool endpoint_crash =
          f.kind == FaultKind::kNodeCrash && (flow.src == f.node || flow.dst == f.node);
      if (endpoint_crash) {
        truth.excluded_flows.push_back(i);
      } else if (on_path(flow, f)) {
        on.push_back(i);
      }
    }
    apply(fi, ev.at);
    for (std::uint32_t i : on) {
      if (connected(sc_.flows[i].src, sc_.flows[i].dst)) {
        truth.covered_flows.push_back(i);
      } else {
        truth.excluded_flows.push_back(i);
      }
    }
    queue_.push(f.end, kFaultEnd, fi);
  }

  void apply(std::uint32_t fi, TimePoint now) {
    const Fault& f = faults_[fi];
    if (tel_) touch(f, now);
    switch (f.kind) {
      case FaultKind::kLinkCut:
        ++edges_[f.edge].down;
        comp_dirty_ = true;
        break;
      case FaultKind::kPartition:
        for (std::uint32_t e : f.cut_edges) ++edges_[e].down;
        comp_dirty_ = true;
        break;
      case FaultKind::kFlapping:
        ++edges_[f.edge].down;
        flap_down_[fi] = true;
        comp_dirty_ = true;
        queue_.push(now + sc_.params.fault.flap_period / 2, kFlap, fi);
        break;
      case FaultKind::kLossBurst:
      case FaultKind::kDegradation:
        edges_[f.edge].loss_faults.push_back(fi);
        break;
      case FaultKind::kGrayHole:
        ++gray_[f.node - 1];
        ++node_drop_faults_;
        break;
      case FaultKind::kOverload:
        ++overload_[f.node - 1];
        ++node_drop_faults_;
        break;
      case FaultKind::kRegimeChange:
        regimes_.push_back(fi);
        update_regime();
        break;
      case FaultKind::kNodeCrash: {
        const NodeId v = f.node;
        if (crashes_[v - 1]++ == 0) {
          agents_[v - 1].reset();  // all state gone; in-flight packets to it are lost on arrival
          if (tel_) tel_->crashed_at[v - 1] = now, tel_->route_prev[v - 1] = 0;
          alive_[v - 1] = false;
          ++wake_gen_[v - 1];
          wake_at_[v - 1] = kTimeNever;
          comp_dirty_ = true;
        }
        break;
      }
    }
  }

  void on_fault_end(const SimEvent& ev) {
    const std::uint32_t fi = ev.a;
    const Fault& f = faults_[fi];
    if (tel_) touch(f, ev.at);
    switch (f.kind) {
      case FaultKind::kLinkCut:
        --edges_[f.edge].down;
        comp_dirty_ = true;
        break;
      case FaultKind::kPartition:
        for (std::uint32_t e : f.cut_edges) --edges_[e].down;
        comp_dirty_ = true;
        break;
      case FaultKind::kFlapping:
        if (flap_down_[fi]) --edges_[f.edge].down;
        flap_down_[fi] = false;
        comp_dirty_ = true;
        break;
      case FaultKind::kLossBurst:
      case FaultKind::kDegradation: {
        auto& v = edges_[f.edge].loss_faults;
        v.erase(std::find(v.begin(), v.end(), fi));
        break;
      }
      case FaultKind::kGrayHole:
        --gray_[f.node - 1];
        --node_drop_faults_;
        break;
      case FaultKind::kOverload:
        --overload_[f.node - 1];
        --node_drop_faults_;
        break;
      case FaultKind::kRegimeChange:
        regimes_.erase(std::find(regimes_.begin(), regimes_.end(), fi));
        update_regime();
        break;
      case FaultKind::kNodeCrash: {
        const NodeId v = f.node;
        if (--crashes_[v - 1] == 0) {
          ++epoch_[v - 1];
          comp_dirty_ = true;
          boot(v, ev.at);
        }
        break;
      }
    }
  }

  // Overlapping regime changes compound like independent losses.
  void update_regime() {
    double keep = 1.0;
    for (std::size_t i = 0; i < regimes_.size(); ++i) keep *= 1.0 - sc_.params.fault.regime_loss;
    regime_loss_ = regimes_.empty() ? 0.0 : 1.0 - keep;
  }

  void on_flap(const SimEvent& ev) {
    const std::uint32_t fi = ev.a;
    const Fault& f = faults_[fi];
    if (ev.at >= f.end) return;
    if (flap_down_[fi]) {
      --edges_[f.edge].down;
    } else {
      ++edges_[f.edge].down;
    }
    flap_down_[fi] = !flap_down_[fi];
    comp_dirty_ = true;
    if (tel_) tel_->changed[f.edge] = ev.at;
    const TimePoint next = ev.at + sc_.params.fault.flap_period / 2;
    if (next < f.end) queue_.push(next, kFlap, fi);
  }

  void on_convergence(const SimEvent& ev) {
    bool all = true;
    for (NodeId u = 1; u <= n_ && all; ++u) {
      all = alive_[u - 1] && agents_[u - 1]->route_count(ev.at) >= n_ - 1;
    }
    if (all) {
      stats_.convergence_s = to_seconds(ev.at);
      return;
    }
    queue_.push(ev.at + opts_.convergence_check, kConvergence);
  }

  void on_observe(const SimEvent& ev) {
    --stats_.events;  // not a model event: the count stays the same with or without an observer
    if (!opts_.observe(WorldView{ev.at, agents_, logs_, truths_, faults_})) {
      stopped_ = true;
      return;
    }
    if (opts_.inject) {
      for (Fault& f : opts_.inject(ev.at)) {
        if (f.start < ev.at) {
          f.end += ev.at - f.start;
          f.start = ev.at;
        }
        if (f.kind == FaultKind::kGrayHole || f.kind == FaultKind::kOverload) init_node_drops();
        const auto fi = static_cast<std::uint32_t>(faults_.size());
        faults_.push_back(std::move(f));
        flap_down_.push_back(false);
        truths_.emplace_back();
        queue_.push(faults_[fi].start, kFaultStart, fi);
      }
    }
    queue_.push(ev.at + std::max(opts_.observe_every, microseconds(1)), kObserve);
  }

  // --- telemetry (sim/telemetry.h) ------------------------------------------------------------------------------

  struct Telemetry {
    TimePoint next{};
    Rng rng{1};
    std::vector<std::uint32_t> ctrl_sent, ctrl_ok;             // per direction
    std::vector<double> data_bytes, owd_n, owd_sum, owd_sq;    // per direction (one-way delays in seconds)
    std::vector<std::uint32_t> sent, received, transit, transit_dropped, queue_dropped;  // per node
    std::vector<TimePoint> changed;                            // per edge: last state change of the link or an end
    std::vector<TimePoint> crashed_at;                         // per node
    std::vector<std::uint64_t> route_prev;                     // per node: route computations at the last window
    std::vector<double> base_snr, base_cpu, base_mem;
    std::vector<std::int32_t> dir_entry;                       // per direction: its CSR entry
    TelemetryWindow window;
  };

  void init_telemetry() {
    tel_ = std::make_unique<Telemetry>();
    Telemetry& t = *tel_;
    const std::size_t m = edges_.size(), d = 2 * m;
    t.next = kTimeZero + opts_.telemetry.window;
    t.rng = Rng::derive(sc_.params.seed, 0x74656C656D000000ULL);  // "telem": draws of its own, not the model's
    t.ctrl_sent.assign(d, 0);
    t.ctrl_ok.assign(d, 0);
    for (auto* v : {&t.data_bytes, &t.owd_n, &t.owd_sum, &t.owd_sq}) v->assign(d, 0.0);
    for (auto* v : {&t.sent, &t.received, &t.transit, &t.transit_dropped, &t.queue_dropped}) v->assign(n_, 0);
    t.changed.assign(m, kTimeZero);
    t.crashed_at.assign(n_, kTimeZero);
    t.route_prev.assign(n_, 0);
    t.base_snr.resize(m);
    for (std::size_t e = 0; e < m; ++e) {
      const auto [a, b] = sc_.topo.edges[e];
      if (!sc_.topo.positions.empty() && sc_.topo.radius > 0) {
        const double dx = sc_.topo.positions[a - 1].first - sc_.topo.positions[b - 1].first;
        const double dy = sc_.topo.positions[a - 1].second - sc_.topo.positions[b - 1].second;
        const double r = std::sqrt(dx * dx + dy * dy) / sc_.topo.radius;
        t.base_snr[e] = std::max(12.0, 32.0 - 16.0 * r * r + t.rng.normal(0.0, 2.0));
      } else {
        t.base_snr[e] = 18.0 + 14.0 * t.rng.uniform();
      }
    }
    t.base_cpu.resize(n_);
    t.base_mem.resize(n_);
    for (std::size_t i = 0; i < n_; ++i) {
      t.base_cpu[i] = 0.1 + 0.25 * t.rng.uniform();
      t.base_mem[i] = 0.3 + 0.2 * t.rng.uniform();
    }
    t.dir_entry.assign(d, -1);
    for (std::size_t k = 0; k < port_dir_.size(); ++k) t.dir_entry[port_dir_[k]] = static_cast<std::int32_t>(k);
    std::vector<std::pair<std::int32_t, std::int32_t>> links;
    links.reserve(m);
    for (const auto& [a, b] : sc_.topo.edges) links.emplace_back(a - 1, b - 1);
    ml::LabelledWindow& w = t.window.data;
    w.graph = ml::Graph::from_links(n_, links);  // out-edges sorted by target: the adjacency's port order
    w.graph.node_ids.resize(n_);
    for (std::size_t i = 0; i < n_; ++i) w.graph.node_ids[i] = static_cast<std::uint32_t>(i + 1);
    w.node_labels.assign(n_, 0.0f);
    w.edge_labels.assign(w.graph.num_edges(), 0.0f);
  }

  void count_delivery(std::uint32_t dir, bool control, std::size_t bytes, Duration owd) {
    Telemetry& t = *tel_;
    if (control) ++t.ctrl_ok[dir];
    else t.data_bytes[dir] += static_cast<double>(bytes);
    const double x = to_seconds(owd);
    t.owd_n[dir] += 1;
    t.owd_sum[dir] += x;
    t.owd_sq[dir] += x * x;
  }

  // A fault's elements change state now (link age).
  void touch(const Fault& f, TimePoint now) {
    Telemetry& t = *tel_;
    switch (f.kind) {
      case FaultKind::kLinkCut:
      case FaultKind::kFlapping:
        t.changed[f.edge] = now;
        break;
      case FaultKind::kPartition:
        for (std::uint32_t e : f.cut_edges) t.changed[e] = now;
        break;
      case FaultKind::kNodeCrash:
        for (PortId p = 0; p < sc_.adj.degree(f.node); ++p) t.changed[sc_.adj.port(f.node, p).edge] = now;
        break;
      default:
        break;
    }
  }

  // A window ending at t is read 1 us before t, so that the state it reports (links up, nodes alive) is the one the
  // window saw, not that of a fault starting or ending exactly at t.
  static constexpr Duration kTelemetryLead = microseconds(1);

  class Control final : public ControlView {
   public:
    Control(World& w, TimePoint now) : w_(w), now_(now) {}
    TimePoint now() const override { return now_; }
    std::size_t nodes() const override { return w_.n_; }
    const Agent* agent(NodeId id) const override {
      return id >= 1 && id <= w_.n_ && w_.alive_[id - 1] ? w_.agents_[id - 1].get() : nullptr;
    }
    bool apply(NodeId id, const mesh::Command& command) override {
      if (id < 1 || id > w_.n_ || !w_.alive_[id - 1]) return false;
      const bool ok = w_.agents_[id - 1]->apply(command, now_);
      w_.after(id, now_, false);
      return ok;
    }

   private:
    World& w_;
    TimePoint now_;
  };

  void on_telemetry(const SimEvent& ev) {
    --stats_.events;  // not a model event
    emit_telemetry(ev.at + kTelemetryLead);
    if (opts_.on_control) {
      Control control(*this, ev.at);
      opts_.on_control(tel_->window, control);
    }
    if (tel_->next - kTelemetryLead < sc_.end()) queue_.push(tel_->next - kTelemetryLead, kTelemetry);
  }

  void emit_telemetry(TimePoint now) {
    using ml::EdgeFeature;
    using ml::NodeFeature;
    Telemetry& t = *tel_;
    const TelemetryParams& tp = opts_.telemetry;
    const TimePoint start = now - tp.window;
    const double ws = to_seconds(tp.window);
    constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
    ml::Graph& g = t.window.data.graph;
    auto node = [&g](std::size_t i, NodeFeature f, double x) {
      g.node_features(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(ml::index(f))) = static_cast<float>(x);
    };
    auto edge = [&g](std::size_t k, EdgeFeature f, double x) {
      g.edge_features(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(ml::index(f))) = static_cast<float>(x);
    };
    std::vector<double> overloaded(n_, 0.0);
    for (const Fault& f : faults_) {
      if (f.kind == FaultKind::kOverload) overloaded[f.node - 1] += covered_share(f, start, now);
    }
    for (std::size_t i = 0; i < n_; ++i) {
      const NodeId u = static_cast<NodeId>(i + 1);
      std::size_t up = 0;
      for (PortId p = 0; p < sc_.adj.degree(u); ++p) {
        const auto& port = sc_.adj.port(u, p);
        up += alive_[i] && alive_[port.peer - 1] && edges_[port.edge].down == 0 ? 1 : 0;
      }
      const double degree = static_cast<double>(std::max<std::size_t>(1, sc_.adj.degree(u)));
      node(i, NodeFeature::kUpNeighbourRatio, static_cast<double>(up) / degree);
      if (!alive_[i]) {  // a crashed node reports nothing: its last summary only grows old
        for (NodeFeature f : {NodeFeature::kCpu, NodeFeature::kMemory, NodeFeature::kQueueDropRatio,
                              NodeFeature::kForwardLossRatio, NodeFeature::kRouteChangesPerS}) {
          node(i, f, kNaN);
        }
        node(i, NodeFeature::kTelemetryAgeS, to_seconds(now - t.crashed_at[i]));
        continue;
      }
      const double share = std::min(1.0, overloaded[i]);
      const double load = t.base_cpu[i] + tp.cpu_per_pps * static_cast<double>(t.sent[i] + t.received[i]) / ws +
                          t.rng.normal(0.0, tp.cpu_noise);
      const double cpu = (1 - share) * std::clamp(load, 0.0, 1.0) + share * (0.92 + 0.07 * t.rng.uniform());
      const double mem = std::clamp(t.base_mem[i] + t.rng.normal(0.0, tp.memory_noise) + 0.35 * share, 0.0, 1.0);
      node(i, NodeFeature::kCpu, cpu);
      node(i, NodeFeature::kMemory, mem);
      node(i, NodeFeature::kQueueDropRatio,
           t.sent[i] == 0 ? 0.0 : static_cast<double>(t.queue_dropped[i]) / static_cast<double>(t.sent[i]));
      node(i, NodeFeature::kForwardLossRatio,
           t.transit[i] == 0 ? static_cast<double>(kNaN)
                             : static_cast<double>(t.transit_dropped[i]) / static_cast<double>(t.transit[i]));
      const auto routes = agents_[i]->route_computations(now);
      if (routes) {
        const std::uint64_t delta = *routes >= t.route_prev[i] ? *routes - t.route_prev[i] : *routes;
        node(i, NodeFeature::kRouteChangesPerS, static_cast<double>(delta) / ws);
        t.route_prev[i] = *routes;
      } else {
        node(i, NodeFeature::kRouteChangesPerS, kNaN);
      }
      node(i, NodeFeature::kTelemetryAgeS, t.rng.uniform());
    }
    auto hello_loss = [&t](std::uint32_t d, bool sender_alive) -> double {
      if (t.ctrl_sent[d] == 0) return sender_alive ? static_cast<double>(kNaN) : 1.0;
      return 1.0 - static_cast<double>(t.ctrl_ok[d]) / static_cast<double>(t.ctrl_sent[d]);
    };
    auto owd = [&t](std::uint32_t d, double& mean, double& sd) {
      if (t.owd_n[d] == 0) return false;
      mean = t.owd_sum[d] / t.owd_n[d];
      sd = std::sqrt(std::max(0.0, t.owd_sq[d] / t.owd_n[d] - mean * mean));
      return true;
    };
    for (std::size_t k = 0; k < port_dir_.size(); ++k) {
      const std::uint32_t dir = port_dir_[k], rev = dir ^ 1u, e = dir / 2;
      const NodeId u = dir_to_[rev], v = dir_to_[dir];
      const bool link_up = edges_[e].down == 0 && alive_[u - 1] && alive_[v - 1];
      edge(k, EdgeFeature::kLossIn, hello_loss(rev, alive_[v - 1]));
      edge(k, EdgeFeature::kLossOut, hello_loss(dir, alive_[u - 1]));
      double m1 = 0, s1 = 0, m2 = 0, s2 = 0;
      const bool both = owd(dir, m1, s1) && owd(rev, m2, s2);
      edge(k, EdgeFeature::kRttMs, both ? 1e3 * (m1 + m2) : static_cast<double>(kNaN));
      edge(k, EdgeFeature::kJitterMs, both ? 1e3 * (s1 + s2) : static_cast<double>(kNaN));
      edge(k, EdgeFeature::kLinkAgeS, to_seconds(now - t.changed[e]));
      edge(k, EdgeFeature::kUp, link_up ? 1.0 : 0.0);
      const double loss = 1.0 - (1.0 - sc_.params.link.loss) * (1.0 - extra_loss(e, now));
      const double snr = (link_up ? radio_snr_db(t.base_snr[e], loss, tp) : -5.0) + t.rng.normal(0.0, tp.snr_noise_db);
      edge(k, EdgeFeature::kSnrDb, snr);
      edge(k, EdgeFeature::kRssiDbm, tp.noise_floor_dbm + snr + t.rng.normal(0.0, tp.snr_noise_db));
      edge(k, EdgeFeature::kThroughputMbps, t.data_bytes[dir] * 8.0 / 1e6 / ws);
    }
    t.window.start = start;
    t.window.end = now;
    label_window(faults_, start, now, t.dir_entry, t.window.data);
    if (opts_.on_telemetry) opts_.on_telemetry(t.window);
    std::fill(t.ctrl_sent.begin(), t.ctrl_sent.end(), 0u);
    std::fill(t.ctrl_ok.begin(), t.ctrl_ok.end(), 0u);
    for (auto* x : {&t.data_bytes, &t.owd_n, &t.owd_sum, &t.owd_sq}) std::fill(x->begin(), x->end(), 0.0);
    for (auto* x : {&t.sent, &t.received, &t.transit, &t.transit_dropped, &t.queue_dropped}) {
      std::fill(x->begin(), x->end(), 0u);
    }
    t.next = now + tp.window;
  }

  void finish() {
    ScoringParams sp;
    sp.horizon = sc_.end() - sp.window;
    stats_.score = score_run(logs_, truths_, sp);
    stats_.truths = std::move(truths_);
    stats_.control_bytes_per_node_s =
        static_cast<double>(stats_.control_bytes) / static_cast<double>(n_) / to_seconds(sc_.params.duration);
  }

  static constexpr std::size_t kIpUdpOverhead = 28;

  struct EdgeState {
    int down = 0;                             // active cuts (link cut, partition, flap-down)
    std::vector<std::uint32_t> loss_faults;   // active loss bursts and degradations
  };

  const Scenario& sc_;
  const Protocol& proto_;
  const RunOptions& opts_;
  const std::size_t n_;
  std::vector<Fault> faults_;  // the scenario's, then those RunOptions::inject adds (indices as in truths_)
  RunStats stats_;
  Scheduler queue_;
  std::vector<std::unique_ptr<Agent>> agents_;
  std::vector<bool> alive_;
  std::vector<int> crashes_;
  std::vector<std::uint32_t> epoch_;
  std::vector<std::uint32_t> wake_gen_;
  std::vector<TimePoint> wake_at_;
  std::vector<EdgeState> edges_;
  std::vector<LinkDirection> dirs_;
  std::vector<NodeId> dir_to_;
  std::vector<PortId> dir_port_;
  std::vector<std::uint32_t> port_dir_;
  std::vector<std::vector<std::uint8_t>> pool_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<mesh::Output> out_;
  std::vector<std::uint8_t> payload_;
  std::vector<FlowLog> logs_;
  std::vector<std::uint32_t> next_seq_;
  std::vector<bool> flap_down_;
  std::vector<FaultTruth> truths_;
  std::vector<bool> edge_up_;
  std::vector<NodeId> comp_;
  bool comp_dirty_ = true;
  bool stopped_ = false;  // an observer ended the run
  // Faults routing cannot see. The hot path reads only node_drop_faults_ (0 unless one is active) and regime_loss_.
  std::vector<std::uint8_t> gray_, overload_;  // active gray holes / overloads per node (sized only when scheduled)
  std::vector<KeyedDraws> drop_draws_;         // per node: its drop draws
  int node_drop_faults_ = 0;
  bool originating_ = false;                   // outputs being performed are the source's own data
  std::vector<std::uint32_t> regimes_;         // active regime changes
  double regime_loss_ = 0.0;                   // their combined extra loss on every link direction
  std::unique_ptr<Telemetry> tel_;             // null unless RunOptions::on_telemetry is set
};

}  // namespace

std::uint64_t node_seed(std::uint64_t scenario_seed, NodeId id, std::uint32_t epoch) {
  return mix_seed(mix_seed(scenario_seed, 0x6E6F6465ULL /* "node" */), (static_cast<std::uint64_t>(id) << 32) | epoch);
}

RunStats run_protocol(const Scenario& scenario, const Protocol& protocol, const RunOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();  // wall time of the run, reported apart; not part of the model
  World world(scenario, protocol, options);
  RunStats stats = world.run();
  stats.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace meshloop::sim
