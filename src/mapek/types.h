// Vocabulary of the MAPE-K loop: the elements it reasons about, what it diagnoses, what it may do, how it went.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mesh/types.h"

namespace meshloop::mapek {

using mesh::NodeId;

// A node, or an undirected link (a < b).
struct Element {
  enum class Kind : std::uint8_t { kNode, kLink };
  Kind kind = Kind::kNode;
  NodeId a = mesh::kNoNode;
  NodeId b = mesh::kNoNode;  // links only

  static Element node(NodeId id) { return {Kind::kNode, id, mesh::kNoNode}; }
  static Element link(NodeId x, NodeId y) { return x < y ? Element{Kind::kLink, x, y} : Element{Kind::kLink, y, x}; }
  bool is_link() const { return kind == Kind::kLink; }
  // The far end of a link seen from `self` (REQUIRES: is_link() and self is an end).
  NodeId other(NodeId self) const { return a == self ? b : a; }
  auto operator<=>(const Element&) const = default;
  // "node 7", "link 3-4"
  std::string text() const;
};
// Parses Element::text()'s forms ("node 7", "link 3-4", also "7" and "3-4").
std::optional<Element> parse_element(std::string_view text);

enum class Mode : std::uint8_t { kObserve, kAct, kPaused };
const char* mode_name(Mode m);
std::optional<Mode> parse_mode(std::string_view name);

// What Analyze's root-cause step concluded about one element.
enum class Diagnosis : std::uint8_t {
  kDegradingLink,   // up, losing packets (loss burst, slow degradation)
  kFlappingLink,    // changing state again and again
  kDownLink,        // down: routing's job (link cut)
  kDroppingNode,    // keeps its hellos but drops traffic it should forward (gray hole)
  kOverloadedNode,  // CPU high, queues dropping
  kDownNode,        // silent (crash): routing's job
  kUnexplained,     // flagged, but no known signature: the loop does not act on it
  kCount,
};
constexpr std::size_t kDiagnosisCount = static_cast<std::size_t>(Diagnosis::kCount);
const char* diagnosis_name(Diagnosis d);

enum class ActionKind : std::uint8_t {
  kNone,            // do nothing (routing repairs it, or acting would not pay)
  kRaiseLinkCost,   // advertise a higher cost on our link (traffic moves off it where it can)
  kDrainLink,       // stop advertising our link (no transit over it)
  kAvoidNode,       // raise the cost of our link to a neighbour that drops forwarded traffic
  kAvoidTransit,    // ask the mesh not to route through us (we are overloaded)
  kWidenDetection,  // widen the detection multiplier on a flapping link
  kCount,
};
constexpr std::size_t kActionKindCount = static_cast<std::size_t>(ActionKind::kCount);
const char* action_name(ActionKind k);
std::optional<ActionKind> parse_action(std::string_view name);

enum class Outcome : std::uint8_t {
  kProposed,    // observe mode: decided, not applied
  kPending,     // applied, verification window still open
  kRecovered,   // verified: the element's harm to traffic fell, nothing got worse
  kRolledBack,  // verified: it did not recover (or something got worse): undone
  kReleased,    // held, then undone once the element looked healthy again
  kOverridden,  // an operator override replaced or cleared it
  kCount,
};
constexpr std::size_t kOutcomeCount = static_cast<std::size_t>(Outcome::kCount);
const char* outcome_name(Outcome o);
// The ends of an applied action's verification (recovered, rolled back, released, overridden).
bool is_final(Outcome o);
// The incident vocabulary of the HTTP APIs and the status page (node and sim --serve): what happened to the element,
// not the loop's bookkeeping. observed (proposed in observe mode), pending, recovered (a released action had
// recovered first), rolled_back, not_recovered (an operator override replaced it before verification).
const char* incident_outcome_name(Outcome o);

// Every name of each vocabulary, in enum order: the bounded label values of the loop's metrics.
std::vector<std::string> diagnosis_names();
std::vector<std::string> action_names();
std::vector<std::string> final_outcome_names();

}  // namespace meshloop::mapek
