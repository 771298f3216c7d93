// transport::UdpDriver: runs one mesh::Node on a UDP socket.
//
// One Asio io_context on one thread owns the node, the socket and the timers: received datagrams become
// node.receive(port, bytes, now) (the port is the sender's index in the configured peer list; datagrams from any
// other address are dropped and counted), one steady timer is kept armed at node.next_deadline(), and the node's
// outputs are performed in order (SendOutput: send_to the peer; DeliverOutput: the traffic sink, then the
// application callback; Event: a log line, then the callback). It also runs the node's CBR traffic generators.
//
// Time: the node sees std::chrono::steady_clock in microseconds (TimePoint); traffic payloads and delivery
// statistics use wall-clock Unix microseconds so that other processes can compare them with their own.
//
// Fault injection: set_drop(port, true) drops every datagram to and from that peer inside the driver (a link cut
// that the node can only notice by silence, as a real one); set_loss(port, p) drops each one with probability p (a
// degraded link).
// that the node can only notice by silence, as a real one).
//
// Metrics: an optional DriverObserver sees, on the driver thread, a telemetry snapshot every telemetry_interval,
// every node event (with when the event's peer was last heard), the wall time of each node tick that ran SPF, and
// every data packet sent (by next hop). The driver keeps no metric itself; without an observer it pays nothing.
//
// Thread-safety: create() on any thread; start(), stop(), wait(), set_drop(), resolve_peer(), snapshot() and
// call() are safe from any thread. Callbacks run on the driver thread and must not block.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "core/result.h"
#include "mesh/node.h"
#include "transport/address.h"
#include "transport/traffic.h"

namespace meshloop::transport {

struct DriverOptions {
  mesh::NodeId id = mesh::kNoNode;
  mesh::NodeConfig node;                 // boot_epoch included
  HostPort listen{"127.0.0.1", 0};       // port 0: any free port (read it back with local_address())
  std::vector<HostPort> peers;           // PortId = index in this list
  std::vector<TrafficSpec> traffic;      // flow id = index in this list
  std::uint64_t rng_seed = 1;
  bool handle_signals = false;           // stop on SIGINT/SIGTERM (the daemon sets it; tests do not)
  std::size_t recent_events = 64;        // kept for the status API
  Duration telemetry_interval = seconds(1);  // how often a DriverObserver gets a telemetry snapshot
  Duration control_interval = seconds(1);    // how often Callbacks::control runs (when set)
};

// What a control function (the node's MAPE-K loop, an operator's request) sees on the driver thread: the node,
// read-only, the driver's clock and per-peer data counters; the commands it appends are applied to the node, in
// order, right after it returns (and the node's outputs performed).
struct ControlContext {
  const mesh::Node& node;
  TimePoint now;
  const std::vector<std::uint64_t>& data_tx_bytes;  // by port: data bytes sent to that peer since start
  std::vector<mesh::Command> commands;
};

// What a metrics layer needs from the driver beyond the node's counters. Every call is on the driver thread and
// must be quick (it delays the node).
class DriverObserver {
 public:
  virtual ~DriverObserver() = default;
  // At start, then every DriverOptions::telemetry_interval.
  virtual void telemetry(const mesh::Telemetry& t) = 0;
  // Each event the node outputs. `last_heard(id)`: when the driver last received a datagram from neighbour `id`
  // (kTimeNever when unknown or never heard); valid during the call.
  virtual void event(const mesh::Event& e, const std::function<TimePoint(mesh::NodeId)>& last_heard) = 0;
  // The wall time of a node tick that ran SPF (an upper bound on SPF's own time: the tick may do other work).
  virtual void spf_ran(double wall_seconds) = 0;
  // A data packet left for `next_hop` (kNoNode when the port's neighbour is not known yet).
  virtual void data_sent(mesh::NodeId next_hop, TimePoint now) = 0;
};

// Counted by the driver, below the node.
struct DriverCounters {
  std::uint64_t rx_datagrams = 0;
  std::uint64_t tx_datagrams = 0;
  std::uint64_t dropped_unknown_sender = 0;  // from an address that is not a configured peer
  std::uint64_t dropped_fault_in = 0;        // fault injection, receive side
  std::uint64_t dropped_fault_out = 0;       // fault injection, send side
  std::uint64_t send_errors = 0;
  std::uint64_t receive_errors = 0;
};

struct PeerStatus {
  mesh::PortId port = mesh::kNoPort;
  HostPort address;
  mesh::NodeId node = mesh::kNoNode;  // learned when it first came up; kNoNode until then
  bool dropping = false;              // fault injection active
  double loss = 0;                    // set_loss ratio
};

// Everything the status API shows, copied on the driver thread.
struct DriverSnapshot {
  mesh::NodeId id = mesh::kNoNode;
  HostPort listen;
  std::uint32_t boot_epoch = 0;
  std::int64_t started_unix_us = 0;
  std::int64_t now_unix_us = 0;
  TimePoint now;  // the node's clock at the snapshot (steady): converts the node's TimePoints to wall time
  mesh::Telemetry telemetry;
  std::vector<mesh::RouteInfo> routes;
  std::vector<std::tuple<mesh::NodeId, mesh::NodeId, mesh::Cost>> topology;  // Node::topology(): (origin, to, cost)
  std::vector<PeerStatus> peers;
  DriverCounters driver;
  std::vector<SendFlowStats> sending;
  std::vector<FlowStats> receiving;
  std::uint64_t other_deliveries = 0;
  std::deque<mesh::Event> recent_events;  // the most recent, oldest first (route/spf/lsa events excluded)
};

class UdpDriver {
 public:
  struct Callbacks {
    std::function<void(const mesh::DeliverOutput&)> on_deliver;
    std::function<void(const mesh::Event&)> on_event;
    DriverObserver* observer = nullptr;  // optional; REQUIRES: outlives the driver
    mesh::TraceHooks* trace_hooks = nullptr;  // optional, called on the driver thread; REQUIRES: outlives the driver
    // Optional, called on the driver thread at start and every DriverOptions::control_interval (the MAPE-K tick).
    std::function<void(ControlContext&)> control;
  };

  // Opens and binds the socket (so the address is taken when this returns) and builds the node. Fails with
  // InvalidArgument for bad options and IoError when the address cannot be bound.
  static Result<std::unique_ptr<UdpDriver>> create(DriverOptions options, Callbacks callbacks);
  static Result<std::unique_ptr<UdpDriver>> create(DriverOptions options);
  ~UdpDriver();  // stop() + wait()
  UdpDriver(const UdpDriver&) = delete;
  UdpDriver& operator=(const UdpDriver&) = delete;

  // Starts the driver thread. REQUIRES: called once.
  void start();
  // Asks the loop to close everything and return; idempotent.
  void stop();
  // Joins the driver thread (returns at once if it was never started).
  void wait();

  HostPort local_address() const { return local_; }
  const DriverOptions& options() const { return options_; }
  std::int64_t started_unix_us() const { return started_unix_us_; }

  // Fault injection: drop (or stop dropping) every datagram to and from `port`.
  Status set_drop(mesh::PortId port, bool drop);
  // Fault injection: drop each datagram to and from `port` with probability `ratio` (0 restores). InvalidArgument
  // outside [0, 1], NotFound for an unknown port.
  Status set_loss(mesh::PortId port, double ratio);
  // A peer named by node id ("4") or address ("127.0.0.1:7004") -> its port. NotFound when no peer matches.
  Result<mesh::PortId> resolve_peer(std::string_view id_or_address) const;

  Result<DriverSnapshot> snapshot(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) const;
  // Runs `fn` on the driver thread and waits for it. Unavailable when the loop is not running or times out.
  Status call(std::function<void()> fn, std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) const;
  // Runs `fn` on the driver thread with the node, then applies the commands it appended. Unavailable as call().
  Status control(std::function<void(ControlContext&)> fn,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

 private:
  UdpDriver(DriverOptions options, Callbacks callbacks);
  Status open();
  void run();
  void shutdown();
  void receive_next();
  void on_datagram(std::size_t size);
  void pump(TimePoint t);
  void rearm();
  void perform(mesh::Output& out);
  void log_event(const mesh::Event& e);
  void learn_peer_ids();
  void send_traffic(std::size_t flow);
  void observe_telemetry();
  void run_control(const std::function<void(ControlContext&)>& fn);
  void control_tick();
  bool faulty(mesh::PortId port);  // this datagram is dropped by fault injection (set_drop, set_loss)
  TimePoint now() const;

  DriverOptions options_;
  Callbacks callbacks_;
  mutable asio::io_context io_;
  asio::ip::udp::socket socket_;
  asio::steady_timer timer_;
  asio::steady_timer telemetry_timer_;
  asio::steady_timer control_timer_;
  asio::signal_set signals_;
  std::vector<std::unique_ptr<asio::steady_timer>> traffic_timers_;
  std::vector<std::chrono::steady_clock::time_point> traffic_next_;
  std::unique_ptr<mesh::Node> node_;
  HostPort local_;
  std::vector<asio::ip::udp::endpoint> peer_endpoints_;
  std::map<asio::ip::udp::endpoint, mesh::PortId> port_of_;
  std::unique_ptr<std::atomic<bool>[]> dropping_;
  std::unique_ptr<std::atomic<std::uint32_t>[]> loss_ppm_;  // set_loss, in parts per million
  std::vector<std::atomic<mesh::NodeId>> peer_ids_;  // written on the driver thread, read anywhere
  std::int64_t started_unix_us_ = 0;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  // Driver-thread state.
  asio::ip::udp::endpoint sender_;
  std::vector<std::uint8_t> rx_buffer_;
  std::vector<mesh::Output> outputs_;
  TimePoint armed_ = kTimeNever;
  DriverCounters counters_;
  std::vector<std::uint64_t> data_tx_bytes_;         // by port
  std::uint64_t fault_rng_ = 0x9E3779B97F4A7C15ULL;  // set_loss draws (splitmix64 state)
  DeliveryStats delivery_;
  std::vector<SendFlowStats> sending_;
  std::deque<mesh::Event> recent_events_;
  std::vector<TimePoint> last_heard_;  // by port: the last datagram handed to the node
  std::function<TimePoint(mesh::NodeId)> last_heard_of_;  // by neighbour id, for DriverObserver::event
  TimePoint pump_time_{};              // when the node call whose outputs are being performed ran
  double tick_wall_s_ = 0;             // wall time of that call when it was a tick (for DriverObserver::spf_ran)
};

// The current wall-clock time in Unix microseconds.
std::int64_t unix_now_us();

}  // namespace meshloop::transport
