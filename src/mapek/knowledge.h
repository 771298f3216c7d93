// mapek::Knowledge: the loop's memory. Incidents (what was seen, the diagnosis, the action and why, the observed
// outcome, the time to recover) and, from them, per (diagnosis, action) outcome counts that the planner turns into
// expected benefit. Persisted crash-safely (save_knowledge: temp file, fsync, rename, fsync of the directory) in a
// checksummed container; a truncated or altered file is refused with Corruption and never used.
//
// The class itself does no I/O (the loop stays I/O-free): serialize()/parse() turn it into bytes and back;
// save_knowledge()/load_knowledge() are the file seam that drivers call.
// Thread-safety: none; one owner (the simulator shares one store among its loops on one thread).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "core/result.h"
#include "mapek/types.h"

namespace meshloop::mapek {

struct Incident {
  std::uint64_t id = 0;
  NodeId reporter = mesh::kNoNode;  // the node whose loop handled it
  double detected_s = 0;            // virtual or wall seconds, as the driver's clock says
  Element element;
  Diagnosis diagnosis = Diagnosis::kUnexplained;
  ActionKind action = ActionKind::kNone;
  Outcome outcome = Outcome::kProposed;
  bool explored = false;          // chosen by exploration, not as the best expected benefit
  double score = 0;               // the detector's score of the element
  double harm_before = 0;         // traffic-weighted harm of the element when acting (loop.h)
  double harm_after = -1;         // at verification; -1 before
  double time_to_recover_s = -1;  // detection to verified recovery; -1 when not recovered
  std::string reason;             // why this action (expected benefits, override, mode)
};

class Knowledge {
 public:
  struct Counts {
    std::uint32_t trials = 0, successes = 0;
  };
  static constexpr std::size_t kMaxIncidents = 10000;  // the oldest are forgotten (their counts stay)

  // Records a new incident; returns its id.
  std::uint64_t add(Incident incident);
  // Updates an incident by id (the outcome is known); counts are updated when it becomes kRecovered or
  // kRolledBack. No-op for an unknown (forgotten) id.
  void update(const Incident& incident);
  const Incident* find(std::uint64_t id) const;

  Counts counts(Diagnosis d, ActionKind a) const { return counts_[idx(d)][idx(a)]; }
  const std::deque<Incident>& incidents() const { return incidents_; }

  // A JSON document (format version 1).
  std::string serialize() const;
  // Corruption naming what is wrong when the document does not parse or fails its checks.
  static Result<Knowledge> parse(std::string_view bytes);

 private:
  void count(const Incident& incident);  // into counts_, when its outcome is a verified one
  static std::size_t idx(Diagnosis d) { return static_cast<std::size_t>(d); }
  static std::size_t idx(ActionKind a) { return static_cast<std::size_t>(a); }
  std::deque<Incident> incidents_;
  std::uint64_t next_id_ = 1;
  std::array<std::array<Counts, kActionKindCount>, kDiagnosisCount> counts_{};
};

// File container: magic "MLKNOW1\n", u32 format version, u64 payload length, u32 CRC-32C of the payload (all
// little-endian), then the payload (Knowledge::serialize()). Written to a temp file in the same directory, fsync'ed,
// renamed over `path`, the directory fsync'ed: a crash leaves the old file or the new one. IoError names the step.
Status save_knowledge(const Knowledge& knowledge, const std::string& path);
// NotFound when absent; Corruption (bad magic, truncated, checksum mismatch, bad payload) names the check;
// FailedPrecondition for another format version.
Result<Knowledge> load_knowledge(const std::string& path);

}  // namespace meshloop::mapek
