// sim scoring: PDR and MTTR from the delivery log and the faults' ground truth, exactly as DESIGN.md's scoring
// rules say, with the window precision recorded in docs/decisions/0004-simulator-scoring.md:
//
// - A window is anchored at each scored packet's send time t: the flow's scored packets sent in [t, t + 1 s).
//   Its ratio is delivered / sent; an empty window (no scored packet) is neither good nor bad.
// - A packet is scored when its endpoints were connected in the true topology at send time and it was sent before
//   the horizon (run end - 1 s: packets still in flight at the end are not held against anyone).
// - A flow covered by a fault (its path at injection used the fault's element, its endpoints still connected just
//   after injection) is broken when a window anchored in [injection, fault end) has ratio < 90%, unless an
//   earlier-injected fault that also covers it is active at that window (then the break is that fault's).
// - It recovers at the anchor r of the first window at or after the break, anchored at a *delivered* packet, such
//   that the windows [r, r+1), [r+1, r+2), [r+2, r+3) all have ratio >= 90%. Its repair time is r - injection.
//   (Anchoring recovery at a delivery matters: at 10 packets/s a window holding the last lost packet and nine
//   delivered ones is already at 90%, which would date the recovery one packet before anything got through.)
// - A fault's MTTR is the worst repair time over its broken flows. If one of them recovered only at or after the
//   fault ended, the fault is unrecovered-by-routing (healing, not routing, fixed it); if one never recovered
//   within the horizon, the fault is unrecovered. Neither contributes an MTTR.
// - Beside the MTTR, a fault's resume time is the worst, over its broken flows, of the first delivery after the
//   outage's first lost packet (minus injection; at most the recovery): when routing got packets through again. It is not a score; it tells a repair apart from a
//   repaired path that is lossy enough to keep windows under 90% (1% loss per hop over a long path does that).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "sim/faults.h"
#include "sim/traffic.h"

namespace meshloop::sim {

// What scoring needs to know about one injected fault.
struct FaultTruth {
  FaultKind kind = FaultKind::kLinkCut;
  TimePoint start{};
  TimePoint end{};
  std::vector<std::uint32_t> covered_flows;  // indices into the flow logs
  // On the path, but the fault disconnected the endpoints (a crashed endpoint, a partition between them): not
  // scored for MTTR, though their losses just after the heal (while routing rejoins them) are the fault's doing.
  std::vector<std::uint32_t> excluded_flows;
};

struct ScoringParams {
  Duration window = seconds(1);
  double threshold = 0.9;
  int recovery_windows = 3;
  TimePoint horizon = kTimeNever;  // packets sent at or after this are not scored
};

struct Summary {
  double p50 = 0, p95 = 0, max = 0;
  std::size_t count = 0;
};
// Nearest-rank percentiles (the smallest value with at least p of the sample at or below it).
Summary summarize(std::vector<double> values);

enum class FaultStatus : std::uint8_t { kNotBroken, kRecovered, kUnrecoveredByRouting, kUnrecovered };
const char* fault_status_name(FaultStatus s);

struct FaultOutcome {
  FaultStatus status = FaultStatus::kNotBroken;
  std::uint32_t covered_flows = 0;
  std::uint32_t excluded_flows = 0;
  std::uint32_t broken_flows = 0;
  std::uint32_t attributed_elsewhere = 0;  // broke while an earlier fault on the same flow was active
  std::optional<double> mttr_s;            // when kRecovered
  std::optional<double> resume_s;          // when kRecovered: worst first delivery after a break (see above)
};

struct Score {
  std::uint64_t sent = 0;       // scored packets
  std::uint64_t delivered = 0;  // of those
  double pdr = 1.0;
  std::uint64_t disconnected_sent = 0;       // sent while the endpoints were disconnected (before the horizon)
  std::uint64_t disconnected_delivered = 0;  // of those, delivered anyway (e.g. already past the cut)
  std::uint64_t tail_excluded = 0;           // sent in the last window before the end
  std::uint64_t duplicates = 0;
  Summary latency_ms;
  Summary mttr_s;
  std::map<std::string, Summary> mttr_by_kind;  // every kind present in the schedule
  std::uint32_t faults = 0;                 // regime changes are not faults ...
  std::uint32_t shifts = 0;                 // ... they are counted here
  std::uint32_t faults_breaking_flows = 0;
  std::uint32_t broken_flows = 0;
  std::uint32_t unrecovered_faults = 0;
  std::uint32_t unrecovered_by_routing = 0;
  std::vector<FaultOutcome> outcomes;  // one per fault, in input order
  // Diagnostics: scored packets lost outside every covering fault's [start, end + 5 s), and the longest runs of
  // consecutive lost scored packets (flow, first send time, packets), longest first, at most 10: of all losses, and
  // of the unexplained ones alone (where to look first when lost_outside_faults is high).
  std::uint64_t lost_outside_faults = 0;
  struct LossRun {
    std::uint32_t flow;
    double start_s;
    std::uint32_t packets;
  };
  std::vector<LossRun> longest_loss_runs;
  std::vector<LossRun> longest_unexplained_runs;
};

Score score_run(const std::vector<FlowLog>& flows, const std::vector<FaultTruth>& faults, const ScoringParams& p);

}  // namespace meshloop::sim
