#include "mapek/loop.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace meshloop::mapek {
namespace {

using ml::EdgeFeature;
using ml::NodeFeature;

float nan_to(float x, float fallback) { return std::isnan(x) ? fallback : x; }

}  // namespace

bool MeshBudget::try_take(TimePoint now) {
  while (!taken_.empty() && taken_.front() <= now - window_) taken_.pop_front();
  if (static_cast<int>(taken_.size()) >= max_) return false;
  taken_.push_back(now);
  return true;
}

// The latest window, indexed from this node's point of view.
struct Loop::View {
  ml::Graph graph;
  std::int64_t self = -1;                    // index of this node, -1 when absent
  std::map<NodeId, std::int32_t> index;      // node id -> index
  std::map<NodeId, std::int32_t> out_entry;  // neighbour id -> entry self->neighbour
  std::map<NodeId, std::int32_t> in_entry;   // neighbour id -> entry neighbour->self

  float node(NodeId id, NodeFeature f) const {
    auto it = index.find(id);
    if (it == index.end()) return std::nanf("");
    return graph.node_features(it->second, static_cast<Eigen::Index>(ml::index(f)));
  }
  float entry(std::int32_t e, EdgeFeature f) const {
    return e < 0 ? std::nanf("") : graph.edge_features(e, static_cast<Eigen::Index>(ml::index(f)));
  }
  std::int32_t out(NodeId v) const {
    auto it = out_entry.find(v);
    return it == out_entry.end() ? -1 : it->second;
  }
  std::int32_t in(NodeId v) const {
    auto it = in_entry.find(v);
    return it == in_entry.end() ? -1 : it->second;
  }
  // The larger loss direction of our link to v, over both entries; NaN when unmeasured.
  float link_loss(NodeId v) const {
    float worst = std::nanf("");
    for (std::int32_t e : {out(v), in(v)}) {
      for (EdgeFeature f : {EdgeFeature::kLossIn, EdgeFeature::kLossOut}) {
        const float x = entry(e, f);
        if (!std::isnan(x) && (std::isnan(worst) || x > worst)) worst = x;
      }
    }
    return worst;
  }
  // What links here lose anyway: the lower median, over the neighbourhood's up entries other than `skip_a` and
  // `skip_b` (the link being judged), of each entry's larger loss direction; 0 with fewer than 4 to go by. A
  // mesh-wide rise in loss (a regime change) lifts it; one degrading link does not, nor do links that are down.
  float typical_loss(std::int32_t skip_a, std::int32_t skip_b) const {
    std::vector<float> losses;
    for (std::int32_t e = 0; e < static_cast<std::int32_t>(graph.num_edges()); ++e) {
      if (e == skip_a || e == skip_b || nan_to(entry(e, EdgeFeature::kUp), 0) < 0.5f) continue;
      const float in = entry(e, EdgeFeature::kLossIn), out = entry(e, EdgeFeature::kLossOut);
      if (!std::isnan(in) || !std::isnan(out)) losses.push_back(std::max(nan_to(in, 0), nan_to(out, 0)));
    }
    if (losses.size() < 4) return 0;
    auto mid = losses.begin() + static_cast<std::ptrdiff_t>((losses.size() - 1) / 2);
    std::nth_element(losses.begin(), mid, losses.end());
    return *mid;
  }
  // Whether the view holds links between nodes other than us. A real node's view is a star (node_window.h): it
  // cannot tell a bridge from a link with a way around it.
  bool sees_beyond_star() const {
    for (std::int32_t u = 0; u < static_cast<std::int32_t>(graph.num_nodes()); ++u) {
      if (u == self) continue;
      for (std::int32_t e = graph.offsets[static_cast<std::size_t>(u)];
           e < graph.offsets[static_cast<std::size_t>(u) + 1]; ++e) {
        if (graph.targets[static_cast<std::size_t>(e)] != self) return true;
      }
    }
    return false;
  }
  // Whether the view holds a way from us to neighbour v over up links other than our link to v. Without one,
  // draining that link may cut v and whatever lies behind it off; the view is 2 hops deep, so a longer detour is
  // not seen and the answer errs on the safe side.
  bool detour(NodeId v) const {
    const auto target = index.find(v);
    if (self < 0 || target == index.end()) return false;
    const auto s = static_cast<std::int32_t>(self), t = target->second;
    std::vector<char> seen(graph.num_nodes(), 0);
    std::vector<std::int32_t> queue{s};
    seen[static_cast<std::size_t>(s)] = 1;
    for (std::size_t q = 0; q < queue.size(); ++q) {
      const std::int32_t u = queue[q];
      for (std::int32_t e = graph.offsets[static_cast<std::size_t>(u)];
           e < graph.offsets[static_cast<std::size_t>(u) + 1]; ++e) {
        const std::int32_t w = graph.targets[static_cast<std::size_t>(e)];
        if ((u == s && w == t) || seen[static_cast<std::size_t>(w)] || nan_to(entry(e, EdgeFeature::kUp), 0) < 0.5f)
          continue;
        if (w == t) return true;
        seen[static_cast<std::size_t>(w)] = 1;
        queue.push_back(w);
      }
    }
    return false;
  }
  float link_throughput(NodeId v) const {
    return nan_to(entry(out(v), EdgeFeature::kThroughputMbps), 0) +
           nan_to(entry(in(v), EdgeFeature::kThroughputMbps), 0);
  }
  float total_out_throughput() const {
    float sum = 0;
    for (const auto& [v, e] : out_entry) sum += nan_to(entry(e, EdgeFeature::kThroughputMbps), 0);
    return sum;
  }
};

Loop::Loop(NodeId self, LoopConfig config, Knowledge& knowledge, std::unique_ptr<ml::Detector> detector,
           std::unique_ptr<ml::Detector> second, MeshBudget* budget)
    : self_(self),
      config_(config),
      knowledge_(knowledge),
      detector_(std::move(detector)),
      second_(std::move(second)),
      budget_(budget),
      rng_(Rng::derive(config.seed, 0x6D6170656B000000ULL | self)),
      view_(std::make_unique<View>()) {}

Loop::~Loop() = default;

void Loop::tick(const Observation& obs, std::vector<mesh::Command>& out) {
  const TimePoint now = obs.now;
  // monitor
  if (obs.routing) routing_ = obs.routing;
  reachable_ = obs.reachable;
  expire_overrides(now, out);
  std::vector<Finding> findings;
  if (obs.neighbourhood != nullptr) {
    ++stats_.windows;
    analyse(*obs.neighbourhood, now, findings);
  }
  if (config_.mode == Mode::kPaused) return;
  verify(now, out);
  if (obs.neighbourhood != nullptr) plan(findings, now, out);
  reachable_ = nullptr;
}

// --- analyse -----------------------------------------------------------------------------------------------------

void Loop::analyse(const ml::Graph& g, TimePoint now, std::vector<Finding>& findings) {
  View& v = *view_;
  v = View{};
  v.graph = g;
  for (std::size_t i = 0; i < g.num_nodes(); ++i) {
    v.index[g.node_id(i)] = static_cast<std::int32_t>(i);
    if (g.node_id(i) == self_) v.self = static_cast<std::int64_t>(i);
  }
  if (v.self < 0) return;
  const auto s = static_cast<std::size_t>(v.self);
  for (std::int32_t e = g.offsets[s]; e < g.offsets[s + 1]; ++e) {
    const NodeId nb = g.node_id(static_cast<std::size_t>(g.targets[static_cast<std::size_t>(e)]));
    v.out_entry[nb] = e;
  }
  for (std::size_t u = 0; u < g.num_nodes(); ++u) {
    for (std::int32_t e = g.offsets[u]; e < g.offsets[u + 1]; ++e) {
      if (static_cast<std::size_t>(g.targets[static_cast<std::size_t>(e)]) == s) v.in_entry[g.node_id(u)] = e;
    }
  }
  // Flap history: did the link change state during this window (its age is shorter than the window)?
  for (const auto& [nb, e] : v.out_entry) {
    auto& h = changed_[nb];
    const float age = v.entry(e, EdgeFeature::kLinkAgeS);
    h.push_back(!std::isnan(age) && age < to_seconds(config_.verify_after));
    while (h.size() > 4) h.pop_front();
  }
  if (Status st = detector_->observe(g, now, verdicts_); !st.ok()) {
    ++stats_.detector_errors;
    return;
  }
  {
    AnomalyScores a;
    a.node = verdicts_.node_score[s];
    for (const auto& [nb, e] : v.out_entry) {
      a.link = std::max(a.link, static_cast<double>(verdicts_.edge_score[static_cast<std::size_t>(e)]));
      if (const std::int32_t r = v.in(nb); r >= 0) {
        a.link = std::max(a.link, static_cast<double>(verdicts_.edge_score[static_cast<std::size_t>(r)]));
      }
    }
    anomaly_ = a;
  }
  bool second_ok = false;
  if (second_) second_ok = second_->observe(g, now, second_verdicts_).ok();
  auto opinion = [&](bool node, std::size_t i) -> std::string {
    if (!second_ok) return "";
    const bool flag = node ? second_verdicts_.node_flag[i] != 0 : second_verdicts_.edge_flag[i] != 0;
    const float score = node ? second_verdicts_.node_score[i] : second_verdicts_.edge_score[i];
    return fmt::format("; {} {} ({:.2f})", second_->name(), flag ? "agrees" : "disagrees", score);
  };

  // Nodes: ourselves and our neighbours (the elements we can act on).
  std::map<NodeId, Diagnosis> node_diag;
  auto diagnose_node = [&](NodeId id) {
    const std::size_t i = static_cast<std::size_t>(v.index[id]);
    if (verdicts_.node_flag[i] == 0) return;
    const float age = v.node(id, NodeFeature::kTelemetryAgeS), cpu = v.node(id, NodeFeature::kCpu);
    const float fwd = v.node(id, NodeFeature::kForwardLossRatio), q = v.node(id, NodeFeature::kQueueDropRatio);
    Finding f{Element::node(id), Diagnosis::kUnexplained, verdicts_.node_score[i], 0, ""};
    if (std::isnan(cpu) || nan_to(age, 0) > 2.0f) {
      f.diagnosis = Diagnosis::kDownNode;
      f.evidence = fmt::format("silent for {:.1f}s", nan_to(age, 0));
    } else if (nan_to(fwd, 0) >= config_.forward_loss_limit) {
      f.diagnosis = Diagnosis::kDroppingNode;
      // Transit we hand it, times the share it drops.
      f.harm = id == self_ ? fwd * v.total_out_throughput()
                           : fwd * nan_to(v.entry(v.out(id), EdgeFeature::kThroughputMbps), 0);
      f.evidence = fmt::format("forward loss {:.2f}", fwd);
    } else if (cpu >= config_.cpu_limit || nan_to(q, 0) >= config_.queue_drop_limit) {
      f.diagnosis = Diagnosis::kOverloadedNode;
      f.harm = nan_to(q, 0) * (id == self_ ? v.total_out_throughput() : v.link_throughput(id));
      f.evidence = fmt::format("cpu {:.2f}, queue drops {:.2f}", cpu, nan_to(q, 0));
    } else {
      f.evidence = "no known signature";
    }
    f.evidence = fmt::format("{} {:.2f}{}; {}", detector_->name(), f.score, opinion(true, i), f.evidence);
    node_diag[id] = f.diagnosis;
    findings.push_back(std::move(f));
  };
  diagnose_node(self_);
  for (const auto& [nb, e] : v.out_entry) diagnose_node(nb);

  // Our links. A link whose end is diagnosed is explained by that node (root cause), not reported again. A link
  // degrades when it loses clearly more than the links around it: loss_limit above twice their typical loss, so a
  // mesh-wide shift (every link losing 6 % hellos after a regime change, some windows 12-16 %) is not read as many
  // degrading links, while with the usual ~1 % background the typical loss is 0 and loss_limit applies as is.
  for (const auto& [nb, e] : v.out_entry) {
    const std::int32_t r = v.in(nb);
    const bool flagged = verdicts_.edge_flag[static_cast<std::size_t>(e)] != 0 ||
                         (r >= 0 && verdicts_.edge_flag[static_cast<std::size_t>(r)] != 0);
    const auto& h = changed_[nb];
    const int changes = static_cast<int>(std::count(h.begin(), h.end(), true));
    const bool flapping = changes >= config_.flap_windows;
    if (!flagged && !flapping) continue;
    auto explained = [&](NodeId id) {
      auto it = node_diag.find(id);
      return it != node_diag.end() && it->second != Diagnosis::kUnexplained;
    };
    if (explained(nb) || explained(self_)) continue;
    const float score = std::max(verdicts_.edge_score[static_cast<std::size_t>(e)],
                                 r >= 0 ? verdicts_.edge_score[static_cast<std::size_t>(r)] : 0.0f);
    Finding f{Element::link(self_, nb), Diagnosis::kUnexplained, score, 0, ""};
    const float up = v.entry(e, EdgeFeature::kUp), loss = v.link_loss(nb);
    const double carried = v.link_throughput(nb);
    const double lost_share = std::clamp(static_cast<double>(nan_to(loss, 0)), 0.0, 0.95);
    if (flapping) {
      f.diagnosis = Diagnosis::kFlappingLink;
      f.harm = carried * lost_share / (1 - lost_share) + (carried > 0 ? 1e-3 : 0);
      f.evidence =
          fmt::format("changed state in {} of the last {} windows, loss {:.2f}", changes, h.size(), lost_share);
    } else if (nan_to(up, 1) < 0.5f) {
      f.diagnosis = Diagnosis::kDownLink;
      f.evidence = "down";
    } else if (lost_share >= config_.loss_limit + 2.0 * v.typical_loss(e, r)) {
      f.diagnosis = Diagnosis::kDegradingLink;
      f.harm = carried * lost_share / (1 - lost_share);
      f.evidence = fmt::format("loss {:.2f} on {:.3f} Mbit/s", lost_share, carried);
    } else {
      f.evidence = "no known signature";
    }
    f.evidence = fmt::format("{} {:.2f}{}; {}", detector_->name(), f.score,
                             flagged ? opinion(false, static_cast<std::size_t>(e)) : "", f.evidence);
    findings.push_back(std::move(f));
  }
  stats_.diagnoses += findings.size();
}

// --- plan and execute ---------------------------------------------------------------------------------------------

std::vector<ActionKind> Loop::candidates(const Finding& f) const {
  switch (f.diagnosis) {
    case Diagnosis::kDegradingLink:
      return {ActionKind::kRaiseLinkCost, ActionKind::kDrainLink};
    case Diagnosis::kFlappingLink:
      return {ActionKind::kDrainLink, ActionKind::kWidenDetection, ActionKind::kRaiseLinkCost};
    case Diagnosis::kDroppingNode:
      if (f.element.a == self_) return {ActionKind::kAvoidTransit};
      return {ActionKind::kAvoidNode, ActionKind::kDrainLink};
    case Diagnosis::kOverloadedNode:
      if (f.element.a == self_) return {ActionKind::kAvoidTransit};
      return {};  // the overloaded node sheds its own transit; its neighbours leave it to it
    default:
      return {};
  }
}

// What we expect of an action before Knowledge has seen it tried (success probability).
double Loop::prior(Diagnosis d, ActionKind a) const {
  switch (d) {
    case Diagnosis::kDegradingLink:
      return a == ActionKind::kRaiseLinkCost ? 0.7 : 0.6;
    case Diagnosis::kFlappingLink:
      return a == ActionKind::kDrainLink ? 0.7 : a == ActionKind::kRaiseLinkCost ? 0.5 : 0.4;
    case Diagnosis::kDroppingNode:
      return a == ActionKind::kAvoidNode ? 0.8 : a == ActionKind::kAvoidTransit ? 0.6 : 0.5;
    case Diagnosis::kOverloadedNode:
      return 0.6;
    default:
      return 0;
  }
}

// The risk an action carries beyond failing (draining removes capacity; others only shift it).
static double risk(ActionKind a) { return a == ActionKind::kDrainLink ? 0.1 : 0.05; }

NodeId Loop::knob_of(const Element& e, ActionKind a) const {
  if (a == ActionKind::kAvoidTransit) return self_;
  if (e.is_link()) return e.other(self_);
  return e.a;
}

void Loop::command(const Active& a, bool undo, std::vector<mesh::Command>& out) const {
  namespace c = mesh::command;
  switch (a.action) {
    case ActionKind::kRaiseLinkCost:
      out.emplace_back(c::RaiseLinkCost{a.knob, undo ? 1.0 : config_.raise_factor});
      break;
    case ActionKind::kAvoidNode:
      out.emplace_back(c::RaiseLinkCost{a.knob, undo ? 1.0 : config_.avoid_factor});
      break;
    case ActionKind::kDrainLink:
      out.emplace_back(c::DrainLink{a.knob, !undo});
      break;
    case ActionKind::kAvoidTransit:
      out.emplace_back(c::AvoidTransit{!undo});
      break;
    case ActionKind::kWidenDetection:
      out.emplace_back(c::SetLinkDetection{a.knob, undo ? 0 : config_.widen_multiplier});
      break;
    default:
      break;
  }
}

bool Loop::node_budget(TimePoint now) {
  while (!taken_.empty() && taken_.front() <= now - config_.rate_window) taken_.pop_front();
  return static_cast<int>(taken_.size()) < config_.node_max_actions;
}

void Loop::record(Decision d) {
  ++stats_.decisions;
  decisions_.push_back(std::move(d));
  while (decisions_.size() > config_.max_decisions) decisions_.pop_front();
}

void Loop::plan(const std::vector<Finding>& findings, TimePoint now, std::vector<mesh::Command>& out) {
  for (const Finding& f : findings) {
    auto cands = candidates(f);
    // A drain must not cut the far end off (verification would roll it back, after a window of black hole). Only a
    // view that shows links beyond our own can tell; on a star view verification alone guards it.
    std::string left_out;
    const auto drain = std::find(cands.begin(), cands.end(), ActionKind::kDrainLink);
    const NodeId far_end = knob_of(f.element, ActionKind::kDrainLink);
    if (drain != cands.end() && view_->sees_beyond_star() && !view_->detour(far_end)) {
      cands.erase(drain);
      left_out = fmt::format("; drain_link left out: no way around link {}-{} in view", self_, far_end);
    }
    Decision d{now, f.element, f.diagnosis, ActionKind::kNone, Outcome::kProposed, false, 0, ""};
    if (cands.empty()) {
      if (f.diagnosis == Diagnosis::kUnexplained) continue;  // nothing we know to do: not a decision
      // Down links and nodes are routing's (it already rerouted); an overloaded neighbour sheds its own transit.
      d.reason = fmt::format("{} {}: {}{}; left to {}", diagnosis_name(f.diagnosis), f.element.text(), f.evidence,
                             left_out, f.diagnosis == Diagnosis::kOverloadedNode ? "that node's loop" : "routing");
      if (decisions_.empty() || decisions_.back().element != f.element ||
          decisions_.back().action != ActionKind::kNone || decisions_.back().diagnosis != f.diagnosis) {
        record(std::move(d));
      }
      continue;
    }
    // One action per knob at a time; an operator's override wins.
    bool busy = false;
    for (const ActionKind a : cands) {
      const NodeId k = knob_of(f.element, a);
      busy = busy || std::any_of(active_.begin(), active_.end(), [&](const Active& x) { return x.knob == k; });
    }
    const bool forbidden = std::any_of(overrides_.begin(), overrides_.end(), [&](const Override& o) {
      return o.element == f.element || (f.element.is_link() && o.element == Element::node(f.element.other(self_)));
    });
    if (busy || forbidden) continue;

    // Value each candidate: expected success from Knowledge (prior until tried), minus its risk.
    std::string values;
    ActionKind best = ActionKind::kNone;
    double best_value = config_.act_margin;
    for (const ActionKind a : cands) {
      const auto c = knowledge_.counts(f.diagnosis, a);
      constexpr double kPriorWeight = 2.0;
      const double p = (c.successes + kPriorWeight * prior(f.diagnosis, a)) / (c.trials + kPriorWeight);
      const double value = p - risk(a);
      values += fmt::format("{}{} {:.2f} ({}/{} verified)", values.empty() ? "" : ", ", action_name(a), value,
                            c.successes, c.trials);
      if (value > best_value) {
        best_value = value;
        best = a;
      }
    }
    d.reason = fmt::format("{} {}: {}; harm {:.4f} Mbit/s; values: {}, none {:.2f}{}", diagnosis_name(f.diagnosis),
                           f.element.text(), f.evidence, f.harm, values, config_.act_margin, left_out);
    if (f.harm < config_.min_harm_mbps) {
      d.reason += fmt::format("; harm below {} Mbit/s: nothing to gain", config_.min_harm_mbps);
      best = ActionKind::kNone;
    } else if (cands.size() > 1 && (!explored_once_ || now - last_explore_ >= config_.exploration_gap) &&
               rng_.uniform() < config_.exploration) {
      std::vector<ActionKind> others;
      for (ActionKind a : cands) {
        if (a != best) others.push_back(a);
      }
      best = others[static_cast<std::size_t>(rng_.uniform_int(0, static_cast<std::int64_t>(others.size()) - 1))];
      d.explored = true;
      last_explore_ = now;
      explored_once_ = true;
      ++stats_.explored;
      d.reason += fmt::format("; exploring {}", action_name(best));
    }
    d.action = best;
    if (best == ActionKind::kNone) {
      if (f.harm >= config_.min_harm_mbps) d.reason += "; nothing beats doing nothing";
      record(std::move(d));
      continue;
    }
    d.reason += fmt::format("; chose {}", action_name(best));
    Incident inc;
    inc.reporter = self_;
    inc.detected_s = to_seconds(now);
    inc.element = f.element;
    inc.diagnosis = f.diagnosis;
    inc.action = best;
    inc.explored = d.explored;
    inc.score = f.score;
    inc.harm_before = f.harm;
    if (config_.mode == Mode::kObserve) {
      d.reason += " (observe mode: not applied)";
      inc.outcome = Outcome::kProposed;
      inc.reason = d.reason;
      d.incident = knowledge_.add(inc);
      ++stats_.actions[static_cast<std::size_t>(best)][static_cast<std::size_t>(Outcome::kProposed)];
      record(std::move(d));
      continue;
    }
    if (!node_budget(now)) {
      ++stats_.rate_limited_node;
      d.action = ActionKind::kNone;
      d.reason += fmt::format("; not applied: node limit of {} actions per {}s reached", config_.node_max_actions,
                              to_seconds(config_.rate_window));
      record(std::move(d));
      continue;
    }
    if (budget_ != nullptr && !budget_->try_take(now)) {
      ++stats_.rate_limited_mesh;
      d.action = ActionKind::kNone;
      d.reason += fmt::format("; not applied: mesh limit of {} actions reached", budget_->max());
      record(std::move(d));
      continue;
    }
    taken_.push_back(now);
    Active a;
    a.element = f.element;
    a.diagnosis = f.diagnosis;
    a.action = best;
    a.knob = knob_of(f.element, best);
    a.detected = now;
    a.applied = now;
    a.verify_at = now + config_.verify_after;
    a.harm_before = f.harm;
    a.far_end_reachable_before = reachable_ && reachable_(a.knob);
    inc.outcome = Outcome::kPending;
    inc.reason = d.reason;
    a.incident = knowledge_.add(inc);
    d.incident = a.incident;
    d.outcome = Outcome::kPending;
    command(a, false, out);
    ++stats_.actions[static_cast<std::size_t>(best)][static_cast<std::size_t>(Outcome::kPending)];
    active_.push_back(a);
    record(std::move(d));
  }
}

// --- verify, release, roll back ----------------------------------------------------------------------------------

std::optional<double> Loop::harm_of(const Active& a) const {
  const View& v = *view_;
  if (v.self < 0) return std::nullopt;
  if (a.element.is_link()) {
    const NodeId nb = a.element.other(self_);
    if (v.out(nb) < 0) return std::nullopt;
    const double lost = std::clamp(static_cast<double>(nan_to(v.link_loss(nb), 0)), 0.0, 0.95);
    return v.link_throughput(nb) * lost / (1 - lost);
  }
  const NodeId id = a.element.a;
  if (a.diagnosis == Diagnosis::kDroppingNode) {
    const float fwd = nan_to(v.node(id, NodeFeature::kForwardLossRatio), 0);
    return id == self_ ? fwd * v.total_out_throughput()
                       : fwd * nan_to(v.entry(v.out(id), EdgeFeature::kThroughputMbps), 0);
  }
  const float q = nan_to(v.node(id, NodeFeature::kQueueDropRatio), 0);
  return q * (id == self_ ? v.total_out_throughput() : v.link_throughput(id));
}

bool Loop::healthy(const Active& a) const {
  const View& v = *view_;
  if (a.element.is_link()) {
    const NodeId nb = a.element.other(self_);
    auto it = changed_.find(nb);
    const bool flapping =
        it != changed_.end() && std::count(it->second.begin(), it->second.end(), true) >= config_.flap_windows;
    return !flapping && nan_to(v.link_loss(nb), 0) < config_.loss_limit;
  }
  const NodeId id = a.element.a;
  if (a.diagnosis == Diagnosis::kOverloadedNode) {
    return nan_to(v.node(id, NodeFeature::kCpu), 0) < config_.cpu_limit &&
           nan_to(v.node(id, NodeFeature::kQueueDropRatio), 0) < config_.queue_drop_limit;
  }
  // A node we avoid gets no transit, so its forward loss cannot be measured: release, and detection re-acts if the
  // node still drops what comes back to it.
  return nan_to(v.node(id, NodeFeature::kForwardLossRatio), 0) < config_.forward_loss_limit;
}

void Loop::finish(Active& a, Outcome outcome, TimePoint now, std::optional<double> harm_after) {
  const Incident* stored = knowledge_.find(a.incident);
  if (stored != nullptr) {
    Incident inc = *stored;
    inc.outcome = outcome;
    if (harm_after) inc.harm_after = *harm_after;
    if (outcome == Outcome::kRecovered) inc.time_to_recover_s = to_seconds(now - a.detected);
    knowledge_.update(inc);
  }
  auto& row = stats_.actions[static_cast<std::size_t>(a.action)];
  if (row[static_cast<std::size_t>(Outcome::kPending)] > 0 && !a.verified)
    --row[static_cast<std::size_t>(Outcome::kPending)];
  if (a.verified && outcome == Outcome::kReleased) return;  // a released action stays counted as recovered
  if (a.verified && outcome == Outcome::kOverridden) --row[static_cast<std::size_t>(Outcome::kRecovered)];
  ++row[static_cast<std::size_t>(outcome)];
}

void Loop::verify(TimePoint now, std::vector<mesh::Command>& out) {
  for (auto it = active_.begin(); it != active_.end();) {
    Active& a = *it;
    if (a.pinned) {
      ++it;
      continue;
    }
    if (!a.verified && now >= a.verify_at) {
      const auto harm = harm_of(a);
      // Only a drain can cut reachability (raising a cost never does; avoiding transit changes others' routes, not
      // ours): a drained link whose far end we can no longer reach was a bridge.
      const bool lost_routes =
          a.action == ActionKind::kDrainLink && a.far_end_reachable_before && reachable_ && !reachable_(a.knob);
      const bool recovered = harm && !lost_routes && *harm <= config_.recovered_ratio * a.harm_before;
      std::string why = fmt::format("{} on {}: harm {:.4f} -> {} Mbit/s{}", action_name(a.action), a.element.text(),
                                    a.harm_before, harm ? fmt::format("{:.4f}", *harm) : "unmeasured",
                                    lost_routes ? fmt::format(", node {} unreachable", a.knob) : "");
      if (recovered) {
        finish(a, Outcome::kRecovered, now, harm);
        a.verified = true;
        a.release_at = now + config_.hold;
        record(Decision{now, a.element, a.diagnosis, a.action, Outcome::kRecovered, false, a.incident,
                        why + "; verified, kept"});
        ++it;
      } else {
        finish(a, Outcome::kRolledBack, now, harm);
        ++stats_.rollbacks;
        command(a, true, out);
        record(Decision{now, a.element, a.diagnosis, a.action, Outcome::kRolledBack, false, a.incident,
                        why + "; did not recover: rolled back"});
        it = active_.erase(it);
      }
      continue;
    }
    if (a.verified && now >= a.release_at) {
      if (healthy(a)) {
        ++stats_.releases;
        command(a, true, out);
        finish(a, Outcome::kReleased, now, std::nullopt);
        record(Decision{now, a.element, a.diagnosis, a.action, Outcome::kReleased, false, a.incident,
                        fmt::format("{} on {}: element looks healthy after {}s: released", action_name(a.action),
                                    a.element.text(), to_seconds(now - a.applied))});
        it = active_.erase(it);
        continue;
      }
      a.release_at = now + config_.hold;
    }
    ++it;
  }
}

void Loop::undo_all(TimePoint now, Outcome outcome, std::vector<mesh::Command>& out) {
  for (Active& a : active_) {
    command(a, true, out);
    if (!a.pinned) finish(a, outcome, now, std::nullopt);
  }
  active_.clear();
}

// --- operators ---------------------------------------------------------------------------------------------------

void Loop::set_mode(Mode mode, TimePoint now, std::vector<mesh::Command>& out) {
  if (mode != Mode::kAct && config_.mode == Mode::kAct) undo_all(now, Outcome::kOverridden, out);
  config_.mode = mode;
}

Status Loop::set_override(const Override& o, TimePoint now, std::vector<mesh::Command>& out) {
  const bool mine = o.element.is_link()
                        ? (o.element.a == self_ || o.element.b == self_)
                        : (o.element.a == self_ || view_->out(o.element.a) >= 0 || changed_.count(o.element.a) > 0);
  if (!mine) return Status::InvalidArgument(o.element.text() + " is not this node, a neighbour or one of its links");
  if (o.pin) {
    const ActionKind k = *o.pin;
    const bool fits = k == ActionKind::kNone ||
                      (o.element.is_link() && (k == ActionKind::kRaiseLinkCost || k == ActionKind::kDrainLink ||
                                               k == ActionKind::kWidenDetection)) ||
                      (!o.element.is_link() && o.element.a == self_ && k == ActionKind::kAvoidTransit) ||
                      (!o.element.is_link() && o.element.a != self_ && k == ActionKind::kAvoidNode);
    if (!fits) {
      return Status::InvalidArgument(std::string(action_name(k)) + " does not apply to " + o.element.text());
    }
  }
  clear_override(o.element, now, out);
  // Undo whatever the loop itself did on the same knob.
  for (auto it = active_.begin(); it != active_.end();) {
    const NodeId k = o.element.is_link() ? o.element.other(self_) : o.element.a;
    if (it->element == o.element || it->knob == k) {
      command(*it, true, out);
      finish(*it, Outcome::kOverridden, now, std::nullopt);
      ++stats_.overridden;
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
  overrides_.push_back(o);
  if (o.pin && *o.pin != ActionKind::kNone) {
    Active a;
    a.element = o.element;
    a.action = *o.pin;
    a.knob = knob_of(o.element, *o.pin);
    a.applied = now;
    a.pinned = true;
    a.expires = o.expires;
    command(a, false, out);
    active_.push_back(a);
  }
  record(Decision{now, o.element, Diagnosis::kUnexplained, o.pin.value_or(ActionKind::kNone), Outcome::kOverridden,
                  false, 0,
                  fmt::format("operator override: {} on {} until {}s", o.pin ? action_name(*o.pin) : "no action",
                              o.element.text(), o.expires == kTimeNever ? -1.0 : to_seconds(o.expires))});
  return Status::Ok();
}

void Loop::clear_override(const Element& element, TimePoint now, std::vector<mesh::Command>& out) {
  (void)now;
  overrides_.erase(
      std::remove_if(overrides_.begin(), overrides_.end(), [&](const Override& o) { return o.element == element; }),
      overrides_.end());
  for (auto it = active_.begin(); it != active_.end();) {
    if (it->pinned && it->element == element) {
      command(*it, true, out);
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
}

void Loop::expire_overrides(TimePoint now, std::vector<mesh::Command>& out) {
  std::vector<Element> expired;
  for (const Override& o : overrides_) {
    if (now >= o.expires) expired.push_back(o.element);
  }
  for (const Element& e : expired) {
    clear_override(e, now, out);
    record(Decision{now, e, Diagnosis::kUnexplained, ActionKind::kNone, Outcome::kOverridden, false, 0,
                    "operator override on " + e.text() + " expired"});
  }
}

}  // namespace meshloop::mapek
