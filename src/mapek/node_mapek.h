// mapek::NodeMapek: the MAPE-K loop of one real node (`meshloop node`), the UDP daemon's counterpart of SimMapek.
//
// It owns the node's mapek::Loop, its Knowledge (loaded from and saved crash-safely to a file, when one is
// configured) and its detector (GraphSAGE from a model file; the learned thresholds when the file is absent or
// refused, as in the simulator). The UDP driver calls tick() on its own thread every control interval; every
// window it builds the node's observation (node_window.h) and lets the loop analyse, plan and verify; the loop's
// commands go back to the driver, which applies them to the mesh::Node (every routing change is advertised).
// Operators reach it through the same driver thread (UdpDriver::control): mode, overrides with ids and expiry, and
// read-only views (state, incidents) as JSON.
//
// Clock: the loop runs on Unix time (the driver's steady clock plus an offset fixed at construction), so incident
// times in the knowledge file and the API stay meaningful across restarts, and the loop still sees a monotonic clock.
// Decisions are logged (info) and counted (obs::MapekMetrics) as they are made.
// Thread-safety: none; one thread (the node's driver thread) calls everything, except flush() after it stopped.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "mapek/knowledge.h"
#include "mapek/loop.h"
#include "mapek/node_window.h"
#include "obs/mapek_metrics.h"

namespace meshloop::mapek {

struct NodeMapekOptions {
  NodeId self = mesh::kNoNode;
  LoopConfig loop;               // mode, rate limits, thresholds
  std::string model_path;        // "" or "none": thresholds
  std::string knowledge_path;    // "": kept in memory only
  Duration window = seconds(5);  // observation window (the loop verifies on the first full one after an action)
  std::size_t configured_links = 0;
  Duration save_interval = seconds(2);  // the knowledge file is written at most this often (and at flush())
  std::int64_t unix_offset_us = 0;      // Unix microseconds = driver TimePoint + this
};

class NodeMapek {
 public:
  // Loads the model and the knowledge file (a damaged one is reported, moved aside as <path>.corrupt and not
  // used). `metrics` is optional and must outlive this object.
  NodeMapek(NodeMapekOptions options, obs::MapekMetrics* metrics = nullptr);
  ~NodeMapek();

  // The heartbeat: `sample` taken now (driver clock); commands for the node appended to `out`.
  void tick(const NodeSample& sample, const std::function<bool(NodeId)>& reachable, std::vector<mesh::Command>& out);

  void set_mode(Mode mode, TimePoint now, std::vector<mesh::Command>& out);
  Mode mode() const { return loop_->mode(); }
  // Pins `pin` (or forbids any action, with nullopt) on `element`, for `expires_in` (nullopt: until removed).
  // FailedPrecondition for a pin while the loop is not acting (observe, paused: nothing may change); InvalidArgument
  // for an element this node cannot command or an action that does not apply to it. Returns the override's id.
  Result<std::uint64_t> add_override(const Element& element, std::optional<ActionKind> pin,
                                     std::optional<Duration> expires_in, TimePoint now,
                                     std::vector<mesh::Command>& out);
  // NotFound when no override in force has this id.
  Status remove_override(std::uint64_t id, TimePoint now, std::vector<mesh::Command>& out);

  // GET /api/v1/mapek's body and GET /api/v1/incidents' (newest first, at most `limit`).
  nlohmann::json state_json(TimePoint now) const;
  nlohmann::json incidents_json(std::size_t limit) const;
  // Unix seconds of a driver TimePoint.
  double unix_seconds(TimePoint t) const { return to_seconds(to_unix(t)); }

  // Writes the knowledge file now if it changed. REQUIRES: the driver thread is not running (shutdown).
  void flush();

  const Loop& loop() const { return *loop_; }

 private:
  struct OverrideEntry {
    Element element;
    std::optional<ActionKind> pin;
    std::optional<TimePoint> expires;  // loop clock
    TimePoint created{};
  };
  TimePoint to_unix(TimePoint t) const { return t + Duration{opts_.unix_offset_us}; }
  void report(std::uint64_t decisions_before, const LoopStats& before);
  void forget_expired();
  void maybe_save(TimePoint now, bool force);

  NodeMapekOptions opts_;
  obs::MapekMetrics* metrics_;
  Knowledge knowledge_;
  std::string detector_note_, knowledge_note_;
  std::unique_ptr<Loop> loop_;
  std::optional<NodeSample> window_start_;
  std::map<std::uint64_t, OverrideEntry> overrides_;
  std::uint64_t next_override_ = 1;
  bool dirty_ = false;
  TimePoint last_save_{};
};

}  // namespace meshloop::mapek
