#include "mapek/node_mapek.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "ml/detector.h"
#include "ml/model_file.h"

namespace meshloop::mapek {

using nlohmann::json;

NodeMapek::NodeMapek(NodeMapekOptions options, obs::MapekMetrics* metrics)
    : opts_(std::move(options)), metrics_(metrics) {
  std::unique_ptr<ml::Detector> primary, second;
  if (!opts_.model_path.empty() && opts_.model_path != "none") {
    auto model = ml::load_model(opts_.model_path);
    if (model.ok()) {
      auto shared = std::make_shared<const ml::GraphSage>(std::move(model).value());
      primary = std::make_unique<ml::GraphSageDetector>(shared);
      second = std::make_unique<ml::ThresholdDetector>();
      detector_note_ = opts_.model_path;
    } else {
      spdlog::warn("mapek: model {} refused ({}): the loop uses learned thresholds", opts_.model_path,
                   model.status().message());
      detector_note_ = "refused: " + model.status().message();
    }
  } else {
    detector_note_ = "none (learned thresholds)";
  }
  if (!primary) primary = std::make_unique<ml::ThresholdDetector>();

  if (!opts_.knowledge_path.empty()) {
    auto k = load_knowledge(opts_.knowledge_path);
    if (k.ok()) {
      knowledge_ = std::move(k).value();
      knowledge_note_ = "loaded";
      spdlog::info("mapek: knowledge {} loaded ({} incidents)", opts_.knowledge_path, knowledge_.incidents().size());
    } else if (k.status().code() == StatusCode::kNotFound) {
      knowledge_note_ = "new";
    } else {
      // Never used, never overwritten: kept aside for a person to look at.
      const std::string aside = opts_.knowledge_path + ".corrupt";
      const bool moved = std::rename(opts_.knowledge_path.c_str(), aside.c_str()) == 0;
      spdlog::error("mapek: knowledge {} refused ({}); {}; starting empty", opts_.knowledge_path, k.status().message(),
                    moved ? "moved to " + aside : "could not move it aside");
      knowledge_note_ = "refused: " + k.status().message();
    }
  } else {
    knowledge_note_ = "memory";
  }
  loop_ = std::make_unique<Loop>(opts_.self, opts_.loop, knowledge_, std::move(primary), std::move(second));
  if (metrics_) metrics_->mode(mode_name(loop_->mode()));
}

NodeMapek::~NodeMapek() = default;

void NodeMapek::tick(const NodeSample& sample, const std::function<bool(NodeId)>& reachable,
                     std::vector<mesh::Command>& out) {
  const TimePoint now = to_unix(sample.telemetry.at);
  std::optional<ml::Graph> window;
  if (!window_start_) {
    window_start_ = sample;
  } else if (sample.telemetry.at - window_start_->telemetry.at >= opts_.window) {
    window = node_window(*window_start_, sample, opts_.configured_links);
    window_start_ = sample;
  }
  // No mesh::Telemetry for the loop, as in SimMapek: routing is read through the side-effect-free reachable().
  Observation obs{now, window ? &*window : nullptr, std::nullopt, reachable};
  const std::uint64_t before = loop_->stats().decisions;
  const LoopStats stats_before = loop_->stats();
  loop_->tick(obs, out);
  report(before, stats_before);
  forget_expired();
  maybe_save(now, false);
}

void NodeMapek::report(std::uint64_t decisions_before, const LoopStats& before) {
  const LoopStats& s = loop_->stats();
  const auto& ds = loop_->decisions();
  const std::size_t added =
      static_cast<std::size_t>(std::min<std::uint64_t>(s.decisions - decisions_before, ds.size()));
  for (std::size_t k = ds.size() - added; k < ds.size(); ++k) {
    const Decision& d = ds[k];
    spdlog::info("mapek: {} {} -> {} [{}]: {}", diagnosis_name(d.diagnosis), d.element.text(), action_name(d.action),
                 outcome_name(d.outcome), d.reason);
    if (metrics_ && is_final(d.outcome)) {
      metrics_->finished(action_name(d.action), outcome_name(d.outcome));
    } else if (metrics_) {
      metrics_->decided(diagnosis_name(d.diagnosis), action_name(d.action));
    }
  }
  if (added > 0) dirty_ = true;
  if (metrics_) {
    metrics_->windows(static_cast<double>(s.windows - before.windows));
    metrics_->rate_limited("node", static_cast<double>(s.rate_limited_node - before.rate_limited_node));
    metrics_->rate_limited("mesh", static_cast<double>(s.rate_limited_mesh - before.rate_limited_mesh));
    metrics_->set_pending(loop_->active().size());
    metrics_->overrides_active(static_cast<double>(loop_->overrides().size()));
    if (const auto& a = loop_->anomaly_scores()) metrics_->anomaly_scores(a->node, a->link);
  }
}

void NodeMapek::forget_expired() {
  for (auto it = overrides_.begin(); it != overrides_.end();) {
    const auto& live = loop_->overrides();
    const bool in_force =
        std::any_of(live.begin(), live.end(), [&](const Override& o) { return o.element == it->second.element; });
    it = in_force ? std::next(it) : overrides_.erase(it);
  }
}

void NodeMapek::maybe_save(TimePoint now, bool force) {
  if (!dirty_ || opts_.knowledge_path.empty()) return;
  if (!force && now - last_save_ < opts_.save_interval) return;
  const Status s = save_knowledge(knowledge_, opts_.knowledge_path);
  if (metrics_) metrics_->knowledge_saved(s.ok());
  if (!s.ok()) {
    spdlog::error("mapek: cannot save knowledge: {}", s.message());
  } else {
    dirty_ = false;
  }
  last_save_ = now;  // a failing disk is retried at the save interval, not every tick
}

void NodeMapek::flush() {
  if (dirty_) maybe_save(last_save_, true);
}

void NodeMapek::set_mode(Mode mode, TimePoint now, std::vector<mesh::Command>& out) {
  const Mode was = loop_->mode();
  const std::size_t undone = loop_->active().size();
  loop_->set_mode(mode, to_unix(now), out);
  if (was != mode) {
    spdlog::warn("mapek: mode {} -> {} (operator){}", mode_name(was), mode_name(mode),
                 was == Mode::kAct && undone > 0 ? fmt::format("; {} active action(s) undone", undone) : "");
    dirty_ = true;
  }
  if (metrics_) {
    metrics_->mode(mode_name(mode));
    metrics_->set_pending(loop_->active().size());
  }
}

Result<std::uint64_t> NodeMapek::add_override(const Element& element, std::optional<ActionKind> pin,
                                              std::optional<Duration> expires_in, TimePoint now,
                                              std::vector<mesh::Command>& out) {
  if (pin && *pin != ActionKind::kNone && loop_->mode() != Mode::kAct) {
    return Status::FailedPrecondition(std::string("the loop is in ") + mode_name(loop_->mode()) +
                                      " mode, which changes nothing: set mode act to pin an action");
  }
  const TimePoint t = to_unix(now);
  Override o{element, pin, expires_in ? t + *expires_in : kTimeNever};
  const std::uint64_t decisions = loop_->stats().decisions;
  const LoopStats before = loop_->stats();
  if (Status s = loop_->set_override(o, t, out); !s.ok()) return s;
  report(decisions, before);
  // One override per element: a new one replaces the old (the loop cleared it).
  for (auto it = overrides_.begin(); it != overrides_.end();) {
    it = it->second.element == element ? overrides_.erase(it) : std::next(it);
  }
  const std::uint64_t id = next_override_++;
  overrides_[id] = OverrideEntry{element, pin, expires_in ? std::optional<TimePoint>(o.expires) : std::nullopt, t};
  if (metrics_) metrics_->overrides_active(static_cast<double>(loop_->overrides().size()));
  return id;
}

Status NodeMapek::remove_override(std::uint64_t id, TimePoint now, std::vector<mesh::Command>& out) {
  forget_expired();
  auto it = overrides_.find(id);
  if (it == overrides_.end()) return Status::NotFound("no override " + std::to_string(id) + " is in force");
  loop_->clear_override(it->second.element, to_unix(now), out);
  spdlog::info("mapek: operator removed override {} on {}", id, it->second.element.text());
  overrides_.erase(it);
  if (metrics_) {
    metrics_->overrides_active(static_cast<double>(loop_->overrides().size()));
    metrics_->set_pending(loop_->active().size());
  }
  return Status::Ok();
}

json NodeMapek::state_json(TimePoint now) const {
  const TimePoint t = to_unix(now);
  const LoopConfig& c = loop_->config();
  json overrides = json::array();
  for (const auto& [id, o] : overrides_) {
    overrides.push_back(
        {{"id", id},
         {"element", o.element.text()},
         {"action", o.pin ? action_name(*o.pin) : "clear"},
         {"created_s", to_seconds(o.created)},
         {"expires_s", o.expires ? json(to_seconds(*o.expires)) : json(nullptr)},
         {"expires_in_s", o.expires ? json(std::max(0.0, to_seconds(*o.expires - t))) : json(nullptr)}});
  }
  json active = json::array();
  for (const auto& a : loop_->active()) {
    active.push_back({{"incident", a.incident},
                      {"element", a.element.text()},
                      {"action", action_name(a.action)},
                      {"pinned", a.pinned},
                      {"verified", a.verified},
                      {"applied_s", to_seconds(a.applied)}});
  }
  const LoopStats& s = loop_->stats();
  return {{"node", opts_.self},
          {"mode", mode_name(loop_->mode())},
          {"detector", loop_->detector_name()},
          {"model", detector_note_},
          {"window_s", to_seconds(opts_.window)},
          {"rate_limits",
           {{"node_max_actions", c.node_max_actions},
            {"rate_window_s", to_seconds(c.rate_window)},
            {"exploration", c.exploration}}},
          {"overrides", overrides},
          {"active_actions", active},
          {"stats",
           {{"windows", s.windows},
            {"diagnoses", s.diagnoses},
            {"decisions", s.decisions},
            {"rollbacks", s.rollbacks},
            {"releases", s.releases},
            {"rate_limited", s.rate_limited_node + s.rate_limited_mesh},
            {"detector_errors", s.detector_errors}}},
          {"knowledge",
           {{"path", opts_.knowledge_path.empty() ? json(nullptr) : json(opts_.knowledge_path)},
            {"status", knowledge_note_},
            {"incidents", knowledge_.incidents().size()}}}};
}

json NodeMapek::incidents_json(std::size_t limit) const {
  json out = json::array();
  const auto& all = knowledge_.incidents();
  for (auto it = all.rbegin(); it != all.rend() && out.size() < limit; ++it) {
    const Incident& i = *it;
    out.push_back({{"id", i.id},
                   {"time_s", i.detected_s},
                   {"node", i.reporter},
                   {"element", i.element.text()},
                   {"diagnosis", diagnosis_name(i.diagnosis)},
                   {"action", action_name(i.action)},
                   {"reason", i.reason},
                   {"mode", i.outcome == Outcome::kProposed ? "observe" : "act"},
                   {"outcome", incident_outcome_name(i.outcome)},
                   {"detail", outcome_name(i.outcome)},
                   {"explored", i.explored},
                   {"score", i.score},
                   {"harm_before", i.harm_before},
                   {"harm_after", i.harm_after < 0 ? json(nullptr) : json(i.harm_after)},
                   {"time_to_recover_s", i.time_to_recover_s < 0 ? json(nullptr) : json(i.time_to_recover_s)}});
  }
  return {{"incidents", out}, {"total", all.size()}};
}

}  // namespace meshloop::mapek
