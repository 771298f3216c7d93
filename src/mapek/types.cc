#include "mapek/types.h"

#include <charconv>

namespace meshloop::mapek {
namespace {
bool parse_id(std::string_view s, NodeId& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out != mesh::kNoNode;
}
}  // namespace

std::string Element::text() const {
  return is_link() ? "link " + std::to_string(a) + "-" + std::to_string(b) : "node " + std::to_string(a);
}

std::optional<Element> parse_element(std::string_view t) {
  if (t.starts_with("node "))
    t.remove_prefix(5);
  else if (t.starts_with("link "))
    t.remove_prefix(5);
  const auto dash = t.find('-');
  NodeId x = 0, y = 0;
  if (dash == std::string_view::npos) {
    if (!parse_id(t, x)) return std::nullopt;
    return Element::node(x);
  }
  if (!parse_id(t.substr(0, dash), x) || !parse_id(t.substr(dash + 1), y) || x == y) return std::nullopt;
  return Element::link(x, y);
}

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kObserve:
      return "observe";
    case Mode::kAct:
      return "act";
    case Mode::kPaused:
      return "paused";
  }
  return "?";
}

std::optional<Mode> parse_mode(std::string_view n) {
  if (n == "observe") return Mode::kObserve;
  if (n == "act" || n == "on") return Mode::kAct;
  if (n == "paused") return Mode::kPaused;
  return std::nullopt;
}

const char* diagnosis_name(Diagnosis d) {
  switch (d) {
    case Diagnosis::kDegradingLink:
      return "degrading_link";
    case Diagnosis::kFlappingLink:
      return "flapping_link";
    case Diagnosis::kDownLink:
      return "down_link";
    case Diagnosis::kDroppingNode:
      return "dropping_node";
    case Diagnosis::kOverloadedNode:
      return "overloaded_node";
    case Diagnosis::kDownNode:
      return "down_node";
    case Diagnosis::kUnexplained:
      return "unexplained";
    case Diagnosis::kCount:
      break;
  }
  return "?";
}

const char* action_name(ActionKind k) {
  switch (k) {
    case ActionKind::kNone:
      return "none";
    case ActionKind::kRaiseLinkCost:
      return "raise_link_cost";
    case ActionKind::kDrainLink:
      return "drain_link";
    case ActionKind::kAvoidNode:
      return "avoid_node";
    case ActionKind::kAvoidTransit:
      return "avoid_transit";
    case ActionKind::kWidenDetection:
      return "widen_detection";
    case ActionKind::kCount:
      break;
  }
  return "?";
}

std::optional<ActionKind> parse_action(std::string_view n) {
  for (std::size_t i = 0; i < kActionKindCount; ++i) {
    if (n == action_name(static_cast<ActionKind>(i))) return static_cast<ActionKind>(i);
  }
  return std::nullopt;
}

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kProposed:
      return "proposed";
    case Outcome::kPending:
      return "pending";
    case Outcome::kRecovered:
      return "recovered";
    case Outcome::kRolledBack:
      return "rolled_back";
    case Outcome::kReleased:
      return "released";
    case Outcome::kOverridden:
      return "overridden";
    case Outcome::kCount:
      break;
  }
  return "?";
}

bool is_final(Outcome o) {
  return o == Outcome::kRecovered || o == Outcome::kRolledBack || o == Outcome::kReleased || o == Outcome::kOverridden;
}

const char* incident_outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPending:
      return "pending";
    case Outcome::kRecovered:
    case Outcome::kReleased:
      return "recovered";
    case Outcome::kRolledBack:
      return "rolled_back";
    case Outcome::kOverridden:
      return "not_recovered";
    default:
      return "observed";
  }
}

namespace {
template <typename E, std::size_t N>
std::vector<std::string> names(const char* (*name)(E)) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < N; ++i) out.emplace_back(name(static_cast<E>(i)));
  return out;
}
}  // namespace

std::vector<std::string> diagnosis_names() { return names<Diagnosis, kDiagnosisCount>(diagnosis_name); }
std::vector<std::string> action_names() { return names<ActionKind, kActionKindCount>(action_name); }
std::vector<std::string> final_outcome_names() {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kOutcomeCount; ++i) {
    if (is_final(static_cast<Outcome>(i))) out.emplace_back(outcome_name(static_cast<Outcome>(i)));
  }
  return out;
}

}  // namespace meshloop::mapek
