#include "transport/udp_driver.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <future>

#include "core/config.h"

namespace meshloop::transport {

using mesh::EventKind;
using mesh::NodeId;
using mesh::PortId;

std::int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

Result<asio::ip::udp::endpoint> to_endpoint(const HostPort& hp) {
  asio::error_code ec;
  const auto addr = asio::ip::make_address(hp.host, ec);
  if (ec) return Status::InvalidArgument("'" + to_string(hp) + "': " + ec.message());
  return asio::ip::udp::endpoint(addr, hp.port);
}

HostPort from_endpoint(const asio::ip::udp::endpoint& ep) {
  return HostPort{ep.address().to_string(), ep.port()};
}

}  // namespace

UdpDriver::UdpDriver(DriverOptions options, Callbacks callbacks)
    : options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      socket_(io_),
      timer_(io_),
      telemetry_timer_(io_),
      control_timer_(io_),
      signals_(io_),
      dropping_(new std::atomic<bool>[options_.peers.size()]),
      loss_ppm_(new std::atomic<std::uint32_t>[options_.peers.size()]),
      peer_ids_(options_.peers.size()),
      rx_buffer_(4096),
      data_tx_bytes_(options_.peers.size(), 0),
      last_heard_(options_.peers.size(), kTimeNever) {
  for (std::size_t i = 0; i < options_.peers.size(); ++i) {
    dropping_[i].store(false);
    loss_ppm_[i].store(0);
    peer_ids_[i].store(mesh::kNoNode);
  }
  last_heard_of_ = [this](NodeId id) {
    for (std::size_t i = 0; i < peer_ids_.size(); ++i) {
      if (id != mesh::kNoNode && peer_ids_[i].load(std::memory_order_relaxed) == id) return last_heard_[i];
    }
    return kTimeNever;
  };
}

UdpDriver::~UdpDriver() {
  stop();
  wait();
}

Result<std::unique_ptr<UdpDriver>> UdpDriver::create(DriverOptions options) {
  return create(std::move(options), Callbacks{});
}

Result<std::unique_ptr<UdpDriver>> UdpDriver::create(DriverOptions options, Callbacks callbacks) {
  if (options.id == mesh::kNoNode) return Status::InvalidArgument("node id must be 1 or more");
  if (options.node.hello_interval <= Duration::zero()) {
    return Status::InvalidArgument("hello interval must be positive");
  }
  if (options.node.dead_multiplier < 2) return Status::InvalidArgument("dead multiplier must be at least 2");
  for (const auto& t : options.traffic) {
    if (t.destination == options.id) {
      return Status::InvalidArgument("traffic to node " + std::to_string(t.destination) + " is traffic to itself");
    }
  }
  std::unique_ptr<UdpDriver> d(new UdpDriver(std::move(options), std::move(callbacks)));
  if (Status s = d->open(); !s.ok()) return s;
  return d;
}

Status UdpDriver::open() {
  auto listen = to_endpoint(options_.listen);
  if (!listen.ok()) return listen.status();
  for (std::size_t i = 0; i < options_.peers.size(); ++i) {
    auto ep = to_endpoint(options_.peers[i]);
    if (!ep.ok()) return ep.status();
    if (ep->protocol() != listen->protocol()) {
      return Status::InvalidArgument("peer " + to_string(options_.peers[i]) + " is not in the address family of " +
                                     to_string(options_.listen));
    }
    if (!port_of_.emplace(*ep, static_cast<PortId>(i)).second) {
      return Status::InvalidArgument("peer " + to_string(options_.peers[i]) + " is listed twice");
    }
    peer_endpoints_.push_back(*ep);
  }
  asio::error_code ec;
  socket_.open(listen->protocol(), ec);
  if (!ec) socket_.bind(*listen, ec);
  if (ec) return Status::IoError("cannot bind UDP " + to_string(options_.listen) + ": " + ec.message());
  socket_.non_blocking(true, ec);
  const auto bound = socket_.local_endpoint(ec);
  local_ = ec ? options_.listen : from_endpoint(bound);
  if (port_of_.count(bound) != 0) {
    return Status::InvalidArgument("the listen address " + to_string(local_) + " is also listed as a peer");
  }

  node_ = std::make_unique<mesh::Node>(options_.node, options_.id, options_.rng_seed);
  if (callbacks_.trace_hooks != nullptr) node_->set_trace_hooks(callbacks_.trace_hooks);
  for (std::size_t i = 0; i < options_.traffic.size(); ++i) {
    sending_.push_back(SendFlowStats{static_cast<std::uint32_t>(i), options_.traffic[i].destination,
                                     options_.traffic[i].rate_pps, 0});
    traffic_timers_.push_back(std::make_unique<asio::steady_timer>(io_));
  }
  traffic_next_.resize(options_.traffic.size());
  return Status::Ok();
}

TimePoint UdpDriver::now() const {
  return TimePoint{std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch())};
}

void UdpDriver::start() {
  running_ = true;
  started_unix_us_ = unix_now_us();
  thread_ = std::thread([this] { run(); });
}

void UdpDriver::run() {
  const TimePoint t = now();
  for (std::size_t i = 0; i < peer_endpoints_.size(); ++i) node_->add_port(static_cast<PortId>(i), t);
  if (options_.handle_signals) {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](const asio::error_code& ec, int signo) {
      if (ec) return;
      spdlog::info("received {}, stopping", signo == SIGINT ? "SIGINT" : "SIGTERM");
      shutdown();
    });
  }
  receive_next();
  const auto steady_now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < traffic_timers_.size(); ++i) {
    traffic_next_[i] = steady_now;
    send_traffic(i);
  }
  pump(t);
  if (callbacks_.observer != nullptr) observe_telemetry();
  if (callbacks_.control) control_tick();
  spdlog::info("node {} listening on udp {} with {} peer(s), {} traffic flow(s)", options_.id, to_string(local_),
               peer_endpoints_.size(), options_.traffic.size());
  if (!stopping_) io_.run();
  running_ = false;
  asio::error_code ec;
  socket_.close(ec);
  spdlog::info("node {} stopped", options_.id);
}

void UdpDriver::stop() {
  if (stopping_.exchange(true)) return;
  asio::post(io_, [this] { shutdown(); });
}

void UdpDriver::shutdown() {
  stopping_ = true;
  asio::error_code ec;
  timer_.cancel();
  telemetry_timer_.cancel();
  control_timer_.cancel();
  signals_.cancel(ec);
  for (auto& t : traffic_timers_) t->cancel();
  socket_.close(ec);
  io_.stop();
}

void UdpDriver::wait() {
  if (thread_.joinable()) thread_.join();
}

void UdpDriver::receive_next() {
  socket_.async_receive_from(asio::buffer(rx_buffer_), sender_, [this](const asio::error_code& ec, std::size_t n) {
    if (ec == asio::error::operation_aborted || stopping_) return;
    if (ec) {
      ++counters_.receive_errors;
      spdlog::debug("udp receive error: {}", ec.message());
    } else {
      on_datagram(n);
    }
    receive_next();
  });
}

void UdpDriver::on_datagram(std::size_t size) {
  ++counters_.rx_datagrams;
  const auto it = port_of_.find(sender_);
  if (it == port_of_.end()) {
    if (++counters_.dropped_unknown_sender <= 3) {
      spdlog::warn("dropping a datagram from {}, which is not a configured peer", to_string(from_endpoint(sender_)));
    }
    return;
  }
  if (faulty(it->second)) {
    ++counters_.dropped_fault_in;
    return;
  }
  const TimePoint t = now();
  last_heard_[it->second] = t;
  node_->receive(it->second, std::span<const std::uint8_t>(rx_buffer_.data(), size), t);
  pump(t);
}

void UdpDriver::pump(TimePoint t) {
  outputs_.clear();
  node_->drain_outputs(outputs_);
  pump_time_ = t;
  for (auto& out : outputs_) perform(out);
  outputs_.clear();
  tick_wall_s_ = 0;
  rearm();
}

void UdpDriver::observe_telemetry() {
  if (stopping_) return;
  callbacks_.observer->telemetry(node_->telemetry(now()));
  telemetry_timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::max(options_.telemetry_interval, milliseconds(10))));
  telemetry_timer_.async_wait([this](const asio::error_code& ec) {
    if (!ec) observe_telemetry();
  });
}

void UdpDriver::run_control(const std::function<void(ControlContext&)>& fn) {
  const TimePoint t = now();
  ControlContext ctx{*node_, t, data_tx_bytes_, {}};
  fn(ctx);
  for (const mesh::Command& c : ctx.commands) node_->apply(c, t);
  pump(t);
}

void UdpDriver::control_tick() {
  if (stopping_) return;
  run_control(callbacks_.control);
  control_timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::max(options_.control_interval, milliseconds(10))));
  control_timer_.async_wait([this](const asio::error_code& ec) {
    if (!ec) control_tick();
  });
}

void UdpDriver::rearm() {
  if (stopping_) return;
  const TimePoint deadline = node_->next_deadline();
  if (deadline == armed_) return;
  armed_ = deadline;
  if (deadline == kTimeNever) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(deadline.time_since_epoch())));
  timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopping_) return;
    armed_ = kTimeNever;
    const TimePoint t = now();
    if (callbacks_.observer != nullptr) {
      const auto started = std::chrono::steady_clock::now();
      node_->tick(t);
      tick_wall_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    } else {
      node_->tick(t);
    }
    pump(t);
  });
}

void UdpDriver::perform(mesh::Output& out) {
  if (auto* send = std::get_if<mesh::SendOutput>(&out)) {
    if (send->port >= peer_endpoints_.size()) {
      ++counters_.send_errors;
      return;
    }
    if (faulty(send->port)) {
      ++counters_.dropped_fault_out;
      return;
    }
    asio::error_code ec;
    socket_.send_to(asio::buffer(send->bytes), peer_endpoints_[send->port], 0, ec);
    if (ec) {
      // A peer that is down yields ECONNREFUSED from ICMP on some stacks; it is the node's job to notice silence.
      ++counters_.send_errors;
    } else {
      ++counters_.tx_datagrams;
      if (!send->control) data_tx_bytes_[send->port] += send->bytes.size();
      if (!send->control && callbacks_.observer != nullptr) {
        callbacks_.observer->data_sent(peer_ids_[send->port].load(std::memory_order_relaxed), pump_time_);
      }
    }
  } else if (auto* deliver = std::get_if<mesh::DeliverOutput>(&out)) {
    auto payload = decode_traffic(deliver->payload);
    if (payload.ok()) {
      delivery_.record(deliver->origin, *payload, unix_now_us());
    } else {
      delivery_.record_other();
    }
    if (callbacks_.on_deliver) callbacks_.on_deliver(*deliver);
  } else if (auto* event = std::get_if<mesh::Event>(&out)) {
    log_event(*event);
    if (event->kind == EventKind::kNeighbourUp) learn_peer_ids();
    if (event->kind != EventKind::kRouteChanged && event->kind != EventKind::kSpfRun &&
        event->kind != EventKind::kLsaOriginated && options_.recent_events > 0) {
      recent_events_.push_back(*event);
      while (recent_events_.size() > options_.recent_events) recent_events_.pop_front();
    }
    if (callbacks_.on_event) callbacks_.on_event(*event);
    if (auto* o = callbacks_.observer) {
      o->event(*event, last_heard_of_);
      if (event->kind == EventKind::kSpfRun) o->spf_ran(tick_wall_s_);
    }
  }
}

void UdpDriver::learn_peer_ids() {
  const auto t = node_->telemetry(now());
  for (const auto& n : t.neighbours) {
    if (n.port < peer_ids_.size()) peer_ids_[n.port].store(n.id);
  }
}

void UdpDriver::log_event(const mesh::Event& e) {
  auto hop = [](NodeId n) { return n == mesh::kNoNode ? std::string("none") : std::to_string(n); };
  switch (e.kind) {
    case EventKind::kNeighbourUp:
      spdlog::info("neighbour {} up", e.peer);
      break;
    case EventKind::kNeighbourDown:
      spdlog::warn("neighbour {} down{}{}", e.peer, e.detail.empty() ? "" : ": ", e.detail);
      break;
    case EventKind::kFailover:
      spdlog::info("failover: traffic to {} leaves failed next hop {} for the backup via {}", e.destination,
                   e.peer, hop(e.next_hop));
      break;
    case EventKind::kRouteChanged:
      spdlog::debug("route to {} now via {}", e.destination, hop(e.next_hop));
      break;
    case EventKind::kPacketRejected:
      spdlog::debug("packet rejected from port peer {}: {}", hop(e.peer), e.detail);
      break;
    case EventKind::kDataDropped:
      spdlog::debug("data to {} dropped: {}", e.destination, e.detail);
      break;
    case EventKind::kLsaOriginated:
    case EventKind::kSpfRun:
      spdlog::trace("{} value={}", mesh::event_kind_name(e.kind), e.value);
      break;
  }
}

void UdpDriver::send_traffic(std::size_t flow) {
  if (stopping_) return;
  const TrafficSpec& spec = options_.traffic[flow];
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / spec.rate_pps));
  TrafficPayload p;
  p.flow = static_cast<std::uint32_t>(flow);
  p.epoch = options_.node.boot_epoch;
  p.seq = sending_[flow].sent;
  p.sent_unix_us = unix_now_us();
  p.interval_us = static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(interval).count());
  const auto bytes = encode_traffic(p);
  const TimePoint t = now();
  node_->send_data(spec.destination, bytes, t);
  ++sending_[flow].sent;
  pump(t);
  // Drift-free schedule; after a stall (a suspended process) skip ahead instead of bursting.
  traffic_next_[flow] += interval;
  const auto steady_now = std::chrono::steady_clock::now();
  if (traffic_next_[flow] < steady_now - 10 * interval) traffic_next_[flow] = steady_now;
  auto& timer = *traffic_timers_[flow];
  timer.expires_at(traffic_next_[flow]);
  timer.async_wait([this, flow](const asio::error_code& ec) {
    if (!ec) send_traffic(flow);
  });
}

bool UdpDriver::faulty(PortId port) {
  if (dropping_[port].load(std::memory_order_relaxed)) return true;
  const std::uint32_t ppm = loss_ppm_[port].load(std::memory_order_relaxed);
  if (ppm == 0) return false;
  std::uint64_t z = (fault_rng_ += 0x9E3779B97F4A7C15ULL);  // splitmix64
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return z % 1'000'000 < ppm;
}

Status UdpDriver::set_loss(PortId port, double ratio) {
  if (port >= peer_endpoints_.size()) {
    return Status::NotFound("no port " + std::to_string(port) + " (" + std::to_string(peer_endpoints_.size()) +
                            " peers configured)");
  }
  if (!(ratio >= 0 && ratio <= 1)) return Status::InvalidArgument("a loss ratio is in [0, 1]");
  const auto ppm = static_cast<std::uint32_t>(std::lround(ratio * 1e6));
  if (loss_ppm_[port].exchange(ppm) != ppm) {
    spdlog::warn("fault injection: dropping {:.1f} % of packets to and from peer {}", ratio * 100,
                 to_string(options_.peers[port]));
  }
  return Status::Ok();
}

Status UdpDriver::set_drop(PortId port, bool drop) {
  if (port >= peer_endpoints_.size()) {
    return Status::NotFound("no port " + std::to_string(port) + " (" + std::to_string(peer_endpoints_.size()) +
                            " peers configured)");
  }
  const bool was = dropping_[port].exchange(drop);
  if (was != drop) {
    spdlog::warn("fault injection: {} all packets to and from peer {}", drop ? "dropping" : "no longer dropping",
                 to_string(options_.peers[port]));
  }
  return Status::Ok();
}

Result<PortId> UdpDriver::resolve_peer(std::string_view id_or_address) const {
  if (id_or_address.find(':') != std::string_view::npos) {
    auto hp = parse_host_port(id_or_address);
    if (!hp.ok()) return hp.status();
    for (std::size_t i = 0; i < options_.peers.size(); ++i) {
      if (options_.peers[i] == *hp) return static_cast<PortId>(i);
    }
    return Status::NotFound("no configured peer has the address " + to_string(*hp));
  }
  auto id = parse_int(id_or_address);
  if (!id.ok() || *id <= 0 || *id > 0xFFFFFFFFLL) {
    return Status::InvalidArgument("peer '" + std::string(id_or_address) + "' is neither a node id nor host:port");
  }
  for (std::size_t i = 0; i < peer_ids_.size(); ++i) {
    if (peer_ids_[i].load() == static_cast<NodeId>(*id)) return static_cast<PortId>(i);
  }
  return Status::NotFound("node " + std::to_string(*id) + " is not a known neighbour (not heard on any peer link)");
}

Status UdpDriver::call(std::function<void()> fn, std::chrono::milliseconds timeout) const {
  if (!running_ || stopping_) return Status::Unavailable("the node is not running");
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  asio::post(io_, [fn = std::move(fn), done] {
    fn();
    done->set_value();
  });
  if (future.wait_for(timeout) != std::future_status::ready) {
    return Status::Unavailable("the node did not answer within " + std::to_string(timeout.count()) + " ms");
  }
  return Status::Ok();
}

Status UdpDriver::control(std::function<void(ControlContext&)> fn, std::chrono::milliseconds timeout) {
  // Shared with the posted task: a timed-out caller returns while the task may still run later.
  auto f = std::make_shared<std::function<void(ControlContext&)>>(std::move(fn));
  return call([this, f] { run_control(*f); }, timeout);
}

Result<DriverSnapshot> UdpDriver::snapshot(std::chrono::milliseconds timeout) const {
  auto snap = std::make_shared<DriverSnapshot>();
  Status s = call(
      [this, snap] {
        const TimePoint t = now();
        snap->id = options_.id;
        snap->listen = local_;
        snap->boot_epoch = options_.node.boot_epoch;
        snap->started_unix_us = started_unix_us_;
        snap->now_unix_us = unix_now_us();
        snap->now = t;
        snap->telemetry = node_->telemetry(t);
        snap->routes = node_->routes();
        snap->topology = node_->topology();
        for (std::size_t i = 0; i < options_.peers.size(); ++i) {
          snap->peers.push_back(PeerStatus{static_cast<PortId>(i), options_.peers[i], peer_ids_[i].load(),
                                           dropping_[i].load(), loss_ppm_[i].load() / 1e6});
        }
        snap->driver = counters_;
        snap->sending = sending_;
        snap->receiving = delivery_.flows();
        snap->other_deliveries = delivery_.other();
        snap->recent_events = recent_events_;
      },
      timeout);
  if (!s.ok()) return s;
  return std::move(*snap);
}

}  // namespace meshloop::transport
