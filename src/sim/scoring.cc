#include "sim/scoring.h"

#include <algorithm>
#include <cmath>

namespace meshloop::sim {
namespace {

// One flow's packets in send order with prefix counts of scored and delivered-scored packets, so any window's
// ratio costs two binary searches.
class FlowWindows {
 public:
  FlowWindows(const FlowLog& log, TimePoint horizon) {
    const std::size_t n = log.packets.size();
    times_.resize(n);
    scored_.resize(n);
    pre_scored_.assign(n + 1, 0);
    pre_delivered_.assign(n + 1, 0);
    const std::int64_t h = horizon.time_since_epoch().count();
    for (std::size_t i = 0; i < n; ++i) {
      const PacketRecord& r = log.packets[i];
      times_[i] = r.sent_us;
      scored_[i] = r.connected && r.sent_us < h;
      pre_scored_[i + 1] = pre_scored_[i] + (scored_[i] ? 1 : 0);
      pre_delivered_[i + 1] = pre_delivered_[i] + (scored_[i] && r.delivered() ? 1 : 0);
    }
  }
  std::size_t index_at(std::int64_t t) const {
    return static_cast<std::size_t>(std::lower_bound(times_.begin(), times_.end(), t) - times_.begin());
  }
  // Ratio of the window [a, b); nullopt when it holds no scored packet.
  std::optional<double> ratio(std::int64_t a, std::int64_t b) const {
    const std::size_t i = index_at(a), j = index_at(b);
    const std::uint32_t s = pre_scored_[j] - pre_scored_[i];
    if (s == 0) return std::nullopt;
    return static_cast<double>(pre_delivered_[j] - pre_delivered_[i]) / s;
  }
  std::size_t size() const { return times_.size(); }
  std::int64_t time(std::size_t i) const { return times_[i]; }
  bool scored(std::size_t i) const { return scored_[i]; }

 private:
  std::vector<std::int64_t> times_;
  std::vector<bool> scored_;
  std::vector<std::uint32_t> pre_scored_, pre_delivered_;
};

}  // namespace

Summary summarize(std::vector<double> values) {
  Summary s;
  s.count = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  auto rank = [&](double p) {
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(k, 1, values.size()) - 1];
  };
  s.p50 = rank(0.50);
  s.p95 = rank(0.95);
  s.max = values.back();
  return s;
}

const char* fault_status_name(FaultStatus s) {
  switch (s) {
    case FaultStatus::kNotBroken: return "not_broken";
    case FaultStatus::kRecovered: return "recovered";
    case FaultStatus::kUnrecoveredByRouting: return "unrecovered_by_routing";
    case FaultStatus::kUnrecovered: return "unrecovered";
  }
  return "?";
}

Score score_run(const std::vector<FlowLog>& flows, const std::vector<FaultTruth>& faults, const ScoringParams& p) {
  Score sc;
  const std::int64_t horizon = p.horizon.time_since_epoch().count();
  std::vector<double> latencies;
  for (const FlowLog& f : flows) {
    sc.duplicates += f.duplicates;
    for (const PacketRecord& r : f.packets) {
      if (r.sent_us >= horizon) {
        ++sc.tail_excluded;
      } else if (!r.connected) {
        ++sc.disconnected_sent;
        if (r.delivered()) ++sc.disconnected_delivered;
      } else {
        ++sc.sent;
        if (r.delivered()) {
          ++sc.delivered;
          latencies.push_back(r.delay_us / 1000.0);
        }
      }
    }
  }
  sc.pdr = sc.sent == 0 ? 1.0 : static_cast<double>(sc.delivered) / static_cast<double>(sc.sent);
  sc.latency_ms = summarize(std::move(latencies));

  std::vector<std::optional<FlowWindows>> windows(flows.size());
  auto win = [&](std::uint32_t flow) -> const FlowWindows& {
    if (!windows[flow]) windows[flow].emplace(flows[flow], p.horizon);
    return *windows[flow];
  };
  // For the overlap rule: which faults cover each flow, in injection order (ties: schedule order).
  std::vector<std::vector<std::uint32_t>> covering(flows.size());
  std::vector<std::uint32_t> order(faults.size());
  for (std::uint32_t i = 0; i < faults.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return faults[a].start < faults[b].start; });
  std::vector<std::uint32_t> rank(faults.size());
  for (std::uint32_t k = 0; k < order.size(); ++k) rank[order[k]] = k;
  std::vector<std::vector<std::uint32_t>> disconnecting(flows.size());  // for the unexplained-loss diagnostic only
  for (std::uint32_t fi : order) {
    for (std::uint32_t flow : faults[fi].covered_flows) covering[flow].push_back(fi);
    for (std::uint32_t flow : faults[fi].excluded_flows) disconnecting[flow].push_back(fi);
  }

  const std::int64_t w = p.window.count();
  std::map<std::string, std::vector<double>> by_kind;
  for (const FaultTruth& f : faults) {
    if (f.kind == FaultKind::kRegimeChange) {
      ++sc.shifts;  // a shift of the normal regime, not a fault: no MTTR, no outcome beyond "not broken"
      continue;
    }
    by_kind[fault_kind_name(f.kind)];
    ++sc.faults;
  }
  std::vector<double> all_mttr;
  sc.outcomes.resize(faults.size());

  for (std::uint32_t fi = 0; fi < faults.size(); ++fi) {
    const FaultTruth& f = faults[fi];
    FaultOutcome& out = sc.outcomes[fi];
    out.covered_flows = static_cast<std::uint32_t>(f.covered_flows.size());
    out.excluded_flows = static_cast<std::uint32_t>(f.excluded_flows.size());
    const std::int64_t t0 = f.start.time_since_epoch().count();
    const std::int64_t t1 = f.end.time_since_epoch().count();
    double worst = 0, worst_resume = 0;
    bool any_healed_first = false, any_never = false;
    for (std::uint32_t flow : f.covered_flows) {
      const FlowWindows& fw = win(flow);
      // The break: the first anchor in [t0, t1) whose window is below the threshold.
      std::optional<std::size_t> broke;
      for (std::size_t i = fw.index_at(t0); i < fw.size() && fw.time(i) < t1; ++i) {
        if (!fw.scored(i)) continue;
        const auto r = fw.ratio(fw.time(i), fw.time(i) + w);
        if (r && *r < p.threshold) {
          broke = i;
          break;
        }
      }
      if (!broke) continue;
      const std::int64_t tb = fw.time(*broke);
      // Overlapping faults: the break belongs to the earliest-injected covering fault active at tb.
      bool elsewhere = false;
      for (std::uint32_t other : covering[flow]) {
        if (rank[other] >= rank[fi]) break;
        if (faults[other].start.time_since_epoch().count() <= tb && tb < faults[other].end.time_since_epoch().count()) {
          elsewhere = true;
          break;
        }
      }
      if (elsewhere) {
        ++out.attributed_elsewhere;
        continue;
      }
      ++out.broken_flows;
      std::optional<std::int64_t> recovered;
      for (std::size_t i = *broke; i < fw.size(); ++i) {
        if (!fw.scored(i) || !flows[flow].packets[i].delivered()) continue;  // recovery starts with a delivery
        const std::int64_t a = fw.time(i);
        bool good = true;
        for (int k = 0; k < p.recovery_windows && good; ++k) {
          const auto r = fw.ratio(a + k * w, a + (k + 1) * w);
          good = r && *r >= p.threshold;
        }
        if (good) {
          recovered = a;
          break;
        }
      }
      if (!recovered) {
        any_never = true;
      } else if (*recovered >= t1) {
        any_healed_first = true;
      } else {
        worst = std::max(worst, static_cast<double>(*recovered - t0) / 1e6);
        // Resumption: the first delivery after the outage's first lost packet (the break's anchor may itself have
        // been delivered, the window failing on what came after it); never later than the recovery.
        const auto& pk = flows[flow].packets;
        std::size_t i = *broke;
        while (i < fw.size() && !(fw.scored(i) && !pk[i].delivered())) ++i;
        while (i < fw.size() && !(fw.scored(i) && pk[i].delivered())) ++i;
        const std::int64_t resumed = i < fw.size() ? std::min(fw.time(i), *recovered) : *recovered;
        worst_resume = std::max(worst_resume, static_cast<double>(resumed - t0) / 1e6);
      }
    }
    if (out.broken_flows == 0) continue;
    ++sc.faults_breaking_flows;
    sc.broken_flows += out.broken_flows;
    if (any_never) {
      out.status = FaultStatus::kUnrecovered;
      ++sc.unrecovered_faults;
    } else if (any_healed_first) {
      out.status = FaultStatus::kUnrecoveredByRouting;
      ++sc.unrecovered_by_routing;
    } else {
      out.status = FaultStatus::kRecovered;
      out.mttr_s = worst;
      out.resume_s = worst_resume;
      all_mttr.push_back(worst);
      by_kind[fault_kind_name(f.kind)].push_back(worst);
    }
  }
  // Diagnostics for losses that no fault explains (e.g. transient loops or black holes after a heal).
  const std::int64_t after_heal = seconds(5).count();
  std::vector<Score::LossRun> runs, unexplained_runs;
  for (std::uint32_t flow = 0; flow < flows.size(); ++flow) {
    const auto& pk = flows[flow].packets;
    std::optional<Score::LossRun> cur, cur_unexplained;
    for (std::size_t i = 0; i <= pk.size(); ++i) {
      const bool scored = i < pk.size() && pk[i].connected && pk[i].sent_us < horizon;
      if (scored && !pk[i].delivered()) {
        auto within = [&](std::uint32_t fi) {
          return faults[fi].start.time_since_epoch().count() <= pk[i].sent_us &&
                 pk[i].sent_us < faults[fi].end.time_since_epoch().count() + after_heal;
        };
        const bool explained = std::any_of(covering[flow].begin(), covering[flow].end(), within) ||
                               std::any_of(disconnecting[flow].begin(), disconnecting[flow].end(), within);
        const Score::LossRun here{flow, static_cast<double>(pk[i].sent_us) / 1e6, 0};
        if (!cur) cur = here;
        ++cur->packets;
        if (explained) {
          if (cur_unexplained) unexplained_runs.push_back(*cur_unexplained);
          cur_unexplained.reset();
          continue;
        }
        ++sc.lost_outside_faults;
        if (!cur_unexplained) cur_unexplained = here;
        ++cur_unexplained->packets;
      } else if (scored || i == pk.size()) {
        if (cur) runs.push_back(*cur);
        if (cur_unexplained) unexplained_runs.push_back(*cur_unexplained);
        cur.reset();
        cur_unexplained.reset();
      }
    }
  }
  auto longest = [](std::vector<Score::LossRun> v) {
    std::stable_sort(v.begin(), v.end(),
                     [](const Score::LossRun& a, const Score::LossRun& b) { return a.packets > b.packets; });
    if (v.size() > 10) v.resize(10);
    return v;
  };
  sc.longest_loss_runs = longest(std::move(runs));
  sc.longest_unexplained_runs = longest(std::move(unexplained_runs));
  sc.mttr_s = summarize(std::move(all_mttr));
  for (auto& [kind, values] : by_kind) sc.mttr_by_kind[kind] = summarize(std::move(values));
  return sc;
}

}  // namespace meshloop::sim
