#include "obs/registry.h"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace meshloop::obs {

const char* metric_kind_name(MetricKind kind) {
  switch (kind) {
    case MetricKind::kCounter: return "counter";
    case MetricKind::kGauge: return "gauge";
    case MetricKind::kHistogram: return "histogram";
  }
  return "unknown";
}

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_lower_word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// meshloop_<component>_<what>[_<unit>]: lower-case words joined by single underscores, at least three words.
bool is_conventional_name(std::string_view name) {
  if (name.rfind("meshloop_", 0) != 0) return false;
  int words = 0;
  bool in_word = false;
  for (char c : name) {
    if (c == '_') {
      if (!in_word) return false;  // leading or double underscore
      in_word = false;
    } else if (is_lower_word_char(c)) {
      if (!in_word) ++words;
      in_word = true;
    } else {
      return false;
    }
  }
  return in_word && words >= 3;
}

bool is_label_name(std::string_view name) {
  if (name.empty() || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_lower_word_char(c) || c == '_'; });
}

}  // namespace

std::string unit_of(std::string_view metric_name) {
  std::string_view n = metric_name;
  if (ends_with(n, "_total")) n.remove_suffix(6);
  static constexpr std::array<std::string_view, 3> kUnits = {"seconds", "bytes", "ratio"};
  for (std::string_view u : kUnits) {
    if (n.size() > u.size() && ends_with(n, u) && n[n.size() - u.size() - 1] == '_') return std::string(u);
  }
  return "";
}

MetricsRegistry::MetricsRegistry(std::string node) : node_(std::move(node)) {
  if (node_.empty()) throw std::invalid_argument("MetricsRegistry: the node label must not be empty");
}

std::shared_ptr<const std::vector<std::string>> MetricsRegistry::checked_labels(
    const std::vector<std::string>& labels) const {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& l = labels[i];
    if (!is_label_name(l) || l == "node" || l == "le" || l == "quantile") {
      throw std::invalid_argument("label name '" + l + "' is invalid or reserved (node, le, quantile)");
    }
    if (std::find(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(i), l) !=
        labels.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument("label name '" + l + "' declared twice");
    }
  }
  return std::make_shared<const std::vector<std::string>>(labels);
}

void MetricsRegistry::declare(const MetricInfo& info, bool conventional_name) {
  const std::string& n = info.name;
  if (conventional_name && !is_conventional_name(n)) {
    throw std::invalid_argument("metric name '" + n + "' does not follow meshloop_<component>_<what>_<unit>");
  }
  if (info.help.empty()) throw std::invalid_argument("metric " + n + " has no HELP text");
  const bool total = ends_with(n, "_total");
  if (info.kind == MetricKind::kCounter && !total) {
    throw std::invalid_argument("counter " + n + " must end in _total");
  }
  if (info.kind != MetricKind::kCounter && total) {
    throw std::invalid_argument(std::string(metric_kind_name(info.kind)) + " " + n + " must not end in _total");
  }
  if (info.labels.empty() || info.labels.front() != "node") {
    throw std::invalid_argument("metric " + n + " must carry the node label first");
  }
  for (const MetricInfo& existing : catalogue_) {
    if (existing.name == n) {
      if (existing == info) return;  // the same declaration again: prometheus-cpp hands back the same family
      throw std::invalid_argument("metric " + n + " already declared with another type, labels or help");
    }
  }
  catalogue_.push_back(info);
}

CounterFamily MetricsRegistry::counter(const std::string& name, const std::string& help,
                                       std::vector<std::string> labels) {
  auto checked = checked_labels(labels);
  labels.insert(labels.begin(), "node");
  declare(MetricInfo{name, MetricKind::kCounter, labels, unit_of(name), help}, true);
  auto& family = prometheus::BuildCounter().Name(name).Help(help).Labels({{"node", node_}}).Register(registry_);
  return CounterFamily(&family, std::move(checked), nullptr);
}

GaugeFamily MetricsRegistry::gauge(const std::string& name, const std::string& help,
                                   std::vector<std::string> labels) {
  auto checked = checked_labels(labels);
  labels.insert(labels.begin(), "node");
  declare(MetricInfo{name, MetricKind::kGauge, labels, unit_of(name), help}, true);
  auto& family = prometheus::BuildGauge().Name(name).Help(help).Labels({{"node", node_}}).Register(registry_);
  return GaugeFamily(&family, std::move(checked), nullptr);
}

HistogramFamily MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                           std::vector<double> buckets, std::vector<std::string> labels) {
  if (buckets.empty() || !std::is_sorted(buckets.begin(), buckets.end()) ||
      std::adjacent_find(buckets.begin(), buckets.end()) != buckets.end()) {
    throw std::invalid_argument("histogram " + name + ": buckets must be non-empty and strictly increasing");
  }
  auto checked = checked_labels(labels);
  labels.insert(labels.begin(), "node");
  declare(MetricInfo{name, MetricKind::kHistogram, labels, unit_of(name), help}, true);
  auto& family = prometheus::BuildHistogram().Name(name).Help(help).Labels({{"node", node_}}).Register(registry_);
  return HistogramFamily(&family, std::move(checked),
                         std::make_shared<const std::vector<double>>(std::move(buckets)));
}

void MetricsRegistry::add_collector(std::shared_ptr<const prometheus::Collectable> collector,
                                    std::vector<MetricInfo> declared) {
  for (const MetricInfo& info : declared) declare(info, false);
  collectors_.push_back(std::move(collector));
}

std::vector<prometheus::MetricFamily> MetricsRegistry::collect() const {
  std::vector<prometheus::MetricFamily> out = registry_.Collect();
  for (const auto& c : collectors_) {
    auto more = c->Collect();
    std::move(more.begin(), more.end(), std::back_inserter(out));
  }
  return out;
}

}  // namespace meshloop::obs
