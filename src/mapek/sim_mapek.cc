#include "mapek/sim_mapek.h"

#include <algorithm>
#include <cmath>

#include "mapek/neighbourhood.h"
#include "ml/train.h"
#include "sim/scoring.h"

namespace meshloop::mapek {
namespace {
using nlohmann::json;
}

struct SimMapek::NodeLoop {
  std::unique_ptr<Loop> loop;
  const sim::Agent* agent = nullptr;  // the incarnation the loop belongs to
};

// One detector scored mesh-wide.
struct SimMapek::Scored {
  std::unique_ptr<ml::Detector> detector;
  ml::Confusion confusion;
  std::vector<double> ttd;     // per detected fault
  std::vector<bool> detected;  // per fault
  ml::Verdicts verdicts;
};

SimMapek::SimMapek(const sim::Scenario& scenario, SimMapekOptions options, Knowledge& knowledge)
    : sc_(scenario),
      opts_(std::move(options)),
      knowledge_(knowledge),
      budget_(opts_.mesh_max_actions, opts_.mesh_window) {
  opts_.loop.mode = opts_.mode;
  loops_.resize(sc_.topo.n);
  if (opts_.score_detection) {
    std::vector<std::unique_ptr<ml::Detector>> ds;
    if (opts_.model) ds.push_back(std::make_unique<ml::GraphSageDetector>(opts_.model));
    ds.push_back(std::make_unique<ml::ThresholdDetector>());
    ds.push_back(std::make_unique<ml::RuleScorer>());
    ds.push_back(std::make_unique<ml::StaticDetector>());
    for (auto& d : ds) {
      auto s = std::make_unique<Scored>();
      s->detector = std::move(d);
      s->detected.assign(sc_.faults.size(), false);
      scored_.push_back(std::move(s));
    }
  }
}

SimMapek::~SimMapek() = default;

std::unique_ptr<Loop> SimMapek::make_loop(NodeId id) const {
  std::unique_ptr<ml::Detector> primary, second;
  // Each loop sees a few dozen elements: a shorter, sparser threshold history keeps 200 loops cheap.
  ml::ThresholdConfig tc;
  tc.history_windows = 24;
  tc.samples_per_window = 64;
  if (opts_.model) {
    primary = std::make_unique<ml::GraphSageDetector>(opts_.model);
    if (opts_.second_opinion) second = std::make_unique<ml::ThresholdDetector>(tc);
  } else {
    primary = std::make_unique<ml::ThresholdDetector>(tc);
  }
  LoopConfig c = opts_.loop;
  c.seed = mix_seed(opts_.loop.seed, sc_.params.seed);
  return std::make_unique<Loop>(id, c, knowledge_, std::move(primary), std::move(second), &budget_);
}

void SimMapek::attach(sim::RunOptions& options) {
  options.on_control = [this](const sim::TelemetryWindow& w, sim::ControlView& view) { on_window(w, view); };
}

bool SimMapek::matches_fault(const Element& e, TimePoint now) const {
  for (const sim::Fault& f : sc_.faults) {
    if (f.is_shift() || now < f.start || now > f.end + seconds(5)) continue;
    if (f.is_node_fault()) {
      if (e.a == f.node || (e.is_link() && e.b == f.node)) return true;
      continue;
    }
    auto edge_is = [&](std::uint32_t idx) {
      const auto [a, b] = sc_.topo.edges[idx];
      return e.is_link() && Element::link(a, b) == e;
    };
    if (f.kind == sim::FaultKind::kPartition) {
      if (std::any_of(f.cut_edges.begin(), f.cut_edges.end(), edge_is)) return true;
    } else if (edge_is(f.edge)) {
      return true;
    } else if (!e.is_link()) {
      const auto [a, b] = sc_.topo.edges[f.edge];
      if (e.a == a || e.a == b) return true;  // a node at the end of a faulty link: close enough to count as true
    }
  }
  return false;
}

void SimMapek::on_window(const sim::TelemetryWindow& w, sim::ControlView& view) {
  ++windows_;
  if (!scored_.empty()) score(w);
  const TimePoint now = view.now();
  const ml::Graph& g = w.data.graph;
  std::vector<mesh::Command> cmds;
  for (NodeId id = 1; id <= sc_.topo.n; ++id) {
    auto& slot = loops_[id - 1];
    const sim::Agent* agent = view.agent(id);
    if (slot && (agent == nullptr || slot->agent != agent)) {  // crashed (and maybe rebooted): its loop is gone
      retired_ += slot->loop->stats();
      for (const Decision& d : slot->loop->decisions()) retired_decisions_.emplace_back(id, d);
      slot.reset();
    }
    if (agent == nullptr) continue;
    if (!slot) {
      slot = std::make_unique<NodeLoop>();
      slot->loop = make_loop(id);
      slot->agent = agent;
    }
    const ml::Graph local = neighbourhood(g, id - 1, opts_.hops);
    // No mesh::Telemetry here: Node::telemetry() counts backup routes, which can recompute a stale router and so
    // change equal-cost tie-breaks: an observing loop would change routes (observe mode caught it). The loop reads
    // the node's routing through the side-effect-free reachable() query and the window's features instead.
    Observation obs{now, &local, std::nullopt, [agent](NodeId dst) { return agent->next_hop(dst) != mesh::kNoNode; }};
    const std::uint64_t before = slot->loop->stats().decisions;
    cmds.clear();
    slot->loop->tick(obs, cmds);
    for (const mesh::Command& c : cmds) view.apply(id, c);
    // Score the new actions against the ground truth.
    const auto& ds = slot->loop->decisions();
    const std::uint64_t added = std::min<std::uint64_t>(slot->loop->stats().decisions - before, ds.size());
    for (std::size_t k = ds.size() - added; k < ds.size(); ++k) {
      const Decision& d = ds[k];
      if (d.outcome != Outcome::kPending || d.action == ActionKind::kNone) continue;
      if (matches_fault(d.element, now)) {
        ++true_remediations_;
      } else {
        ++false_remediations_;
      }
    }
  }
}

void SimMapek::score(const sim::TelemetryWindow& w) {
  const ml::Graph& g = w.data.graph;
  const auto rev = ml::reverse_edges(g);
  auto entry = [&g](NodeId a, NodeId b) -> std::int32_t {
    for (std::int32_t e = g.offsets[a - 1]; e < g.offsets[a]; ++e) {
      if (g.targets[static_cast<std::size_t>(e)] == static_cast<std::int32_t>(b - 1)) return e;
    }
    return -1;
  };
  FpRow row;
  row.t_s = to_seconds(w.end);
  for (auto& s : scored_) {
    if (!s->detector->observe(g, w.end, s->verdicts).ok()) {
      row.fp_neg.emplace_back(0, 0);
      continue;
    }
    const ml::Verdicts& v = s->verdicts;
    ml::Confusion& c = s->confusion;
    const ml::Confusion before = c;
    auto count = [&c](bool flag, bool label) { c.add(flag, label); };
    for (std::size_t i = 0; i < g.num_nodes(); ++i) {
      if (!std::isnan(w.data.node_labels[i])) count(v.node_flag[i] != 0, w.data.node_labels[i] > 0.5f);
    }
    for (std::size_t e = 0; e < g.num_edges(); ++e) {
      const auto r = rev[e];
      if (r >= 0 && static_cast<std::size_t>(r) < e) continue;
      const bool flag = v.edge_flag[e] != 0 || (r >= 0 && v.edge_flag[static_cast<std::size_t>(r)] != 0);
      if (!std::isnan(w.data.edge_labels[e])) count(flag, w.data.edge_labels[e] > 0.5f);
    }
    row.fp_neg.emplace_back(c.fp - before.fp, (c.fp + c.tn) - (before.fp + before.tn));
    // Time to detect: the first window ending after the fault's injection that flags its element.
    for (std::size_t fi = 0; fi < sc_.faults.size(); ++fi) {
      const sim::Fault& f = sc_.faults[fi];
      if (s->detected[fi] || f.is_shift() || w.end <= f.start || w.start > f.end) continue;
      bool hit = false;
      auto link_flag = [&](std::uint32_t edge) {
        const auto [a, b] = sc_.topo.edges[edge];
        const std::int32_t x = entry(a, b), y = entry(b, a);
        return (x >= 0 && v.edge_flag[static_cast<std::size_t>(x)] != 0) ||
               (y >= 0 && v.edge_flag[static_cast<std::size_t>(y)] != 0);
      };
      if (f.is_node_fault()) {
        hit = v.node_flag[f.node - 1] != 0;
      } else if (f.kind == sim::FaultKind::kPartition) {
        hit = std::any_of(f.cut_edges.begin(), f.cut_edges.end(), link_flag);
      } else {
        hit = link_flag(f.edge);
      }
      if (hit) {
        s->detected[fi] = true;
        s->ttd.push_back(to_seconds(w.end - f.start));
      }
    }
  }
  fp_timeline_.push_back(std::move(row));
}

std::vector<std::string> SimMapek::detector_names() const {
  std::vector<std::string> out;
  for (const auto& s : scored_) out.emplace_back(s->detector->name());
  return out;
}

std::vector<std::optional<Loop::AnomalyScores>> SimMapek::anomaly_scores() const {
  std::vector<std::optional<Loop::AnomalyScores>> out(loops_.size());
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    if (loops_[i]) out[i] = loops_[i]->loop->anomaly_scores();
  }
  return out;
}

LoopStats SimMapek::totals() const {
  LoopStats t = retired_;
  for (const auto& slot : loops_) {
    if (!slot) continue;
    t += slot->loop->stats();
  }
  return t;
}

std::vector<std::pair<NodeId, Decision>> SimMapek::decisions() const {
  std::vector<std::pair<NodeId, Decision>> all = retired_decisions_;
  for (NodeId id = 1; id <= loops_.size(); ++id) {
    if (!loops_[id - 1]) continue;
    for (const Decision& d : loops_[id - 1]->loop->decisions()) all.emplace_back(id, d);
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second.at < b.second.at || (a.second.at == b.second.at && a.first < b.first);
  });
  return all;
}

json SimMapek::mapek_json() const {
  const LoopStats t = totals();
  json actions = json::object();
  for (std::size_t k = 1; k < kActionKindCount; ++k) {
    json by = json::object();
    std::uint64_t total = 0;
    for (std::size_t o = 0; o < kOutcomeCount; ++o) {
      if (t.actions[k][o] == 0) continue;
      by[outcome_name(static_cast<Outcome>(o))] = t.actions[k][o];
      total += t.actions[k][o];
    }
    if (total > 0) actions[action_name(static_cast<ActionKind>(k))] = by;
  }
  json samples = json::array();
  for (const auto& [id, d] : decisions()) {
    if (d.action == ActionKind::kNone && d.outcome == Outcome::kProposed) continue;  // keep actions, not non-actions
    if (samples.size() >= 40) break;
    samples.push_back(json{{"t_s", to_seconds(d.at)},
                           {"node", id},
                           {"element", d.element.text()},
                           {"diagnosis", diagnosis_name(d.diagnosis)},
                           {"action", action_name(d.action)},
                           {"outcome", outcome_name(d.outcome)},
                           {"reason", d.reason}});
  }
  return json{{"mode", mode_name(opts_.mode)},
              {"detector", opts_.model ? "graphsage" : "thresholds"},
              {"model", opts_.model_note},
              {"second_opinion", opts_.model && opts_.second_opinion ? "thresholds" : "none"},
              {"windows", windows_},
              {"diagnoses", t.diagnoses},
              {"decisions", t.decisions},
              {"actions", actions},
              {"rollbacks", t.rollbacks},
              {"releases", t.releases},
              {"explored", t.explored},
              {"rate_limited", json{{"node", t.rate_limited_node}, {"mesh", t.rate_limited_mesh}}},
              {"remediations", json{{"true", true_remediations_}, {"false", false_remediations_}}},
              {"knowledge_incidents", knowledge_.incidents().size()},
              {"sample_decisions", samples}};
}

std::vector<SimMapek::DetectorScore> SimMapek::detector_scores() const {
  std::vector<DetectorScore> out;
  for (const auto& s : scored_) {
    out.push_back(
        {std::string(s->detector->name()), s->confusion.precision(), s->confusion.recall(), s->confusion.f1(), s->ttd});
  }
  return out;
}

json SimMapek::detection_json() const {
  json out = json::object();
  std::size_t faults = 0;
  for (const sim::Fault& f : sc_.faults) faults += f.is_shift() ? 0 : 1;
  for (const auto& s : scored_) {
    const sim::Summary ttd = sim::summarize(s->ttd);
    json t = ttd.count == 0 ? json{{"p50", nullptr}, {"p95", nullptr}, {"max", nullptr}, {"count", 0}}
                            : json{{"p50", ttd.p50}, {"p95", ttd.p95}, {"max", ttd.max}, {"count", ttd.count}};
    out[std::string(s->detector->name())] = json{{"precision", s->confusion.precision()},
                                                 {"recall", s->confusion.recall()},
                                                 {"f1", s->confusion.f1()},
                                                 {"tp", s->confusion.tp},
                                                 {"fp", s->confusion.fp},
                                                 {"fn", s->confusion.fn},
                                                 {"tn", s->confusion.tn},
                                                 {"ttd_s", t},
                                                 {"detected_faults", ttd.count},
                                                 {"faults", faults}};
  }
  return out;
}

}  // namespace meshloop::mapek
