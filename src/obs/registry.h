// obs::MetricsRegistry: one component-facing registry of metric families, on prometheus-cpp's core data model.
//
// It adds our conventions to prometheus::Registry and enforces them where a family is declared (the only place that
// throws, as in prometheus-cpp):
//   - names are `meshloop_<component>_<what>_<unit>`, base units (seconds, bytes, ratio), counters end in `_total`
//     and nothing else does; every family has HELP text;
//   - variable labels are declared with the family (a bounded set of names; values come from bounded sets too:
//     never a packet id or a free string), and `node` is reserved: every family carries the constant label
//     node="<id>" of the registry (one value per process; in the simulator one registry per simulated node);
//   - every declared family is recorded in a catalogue (name, type, labels, unit, help) from which
//     `meshloop metrics --list` and docs/metrics.md are generated.
// Series are created through the returned family handles; hot paths keep the `T&` a handle returns (a plain
// reference to an atomic value, valid until removed).
//
// Scrape-time collectors (process metrics) join through add_collector() with their own catalogue entries.
//
// Thread-safety: declaring families and adding collectors is for start-up (one thread, before exposition serves).
// After that, collect() and catalogue() are safe from any thread, concurrently with series updates and with
// with()/remove() on family handles (prometheus-cpp locks each family).
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace meshloop::obs {

enum class MetricKind { kCounter, kGauge, kHistogram };
const char* metric_kind_name(MetricKind kind);

// One entry of the metrics reference.
struct MetricInfo {
  std::string name;
  MetricKind kind;
  std::vector<std::string> labels;  // `node` first, then the family's variable labels in declaration order
  std::string unit;                 // "seconds", "bytes", "ratio" or "" (a count or a dimensionless value)
  std::string help;
  bool operator==(const MetricInfo&) const = default;
};

// The unit a conventional name carries: its last word before `_total` when it is a base unit, else "".
std::string unit_of(std::string_view metric_name);

// A family of series sharing a name and label names. Cheap to copy (a pointer into the registry).
// with() finds or creates the series for the given label values, in the declared label order.
template <typename T>
class FamilyHandle {
 public:
  FamilyHandle() = default;
  // REQUIRES: values.size() == number of declared labels (throws std::invalid_argument otherwise: a programming
  // error caught by the first test that touches the series).
  T& with(std::initializer_list<std::string_view> values) const;
  T& with(const std::vector<std::string>& values) const;
  // The single series of a family without variable labels.
  T& get() const { return with({}); }
  // Removes a series (for instance a neighbour that is gone). REQUIRES: `series` came from this family.
  void remove(T& series) const { family_->Remove(&series); }
  const std::vector<std::string>& label_names() const { return *labels_; }

 private:
  friend class MetricsRegistry;
  FamilyHandle(prometheus::Family<T>* family, std::shared_ptr<const std::vector<std::string>> labels,
               std::shared_ptr<const std::vector<double>> buckets)
      : family_(family), labels_(std::move(labels)), buckets_(std::move(buckets)) {}
  prometheus::Family<T>* family_ = nullptr;
  std::shared_ptr<const std::vector<std::string>> labels_;
  std::shared_ptr<const std::vector<double>> buckets_;  // histograms only
};

using CounterFamily = FamilyHandle<prometheus::Counter>;
using GaugeFamily = FamilyHandle<prometheus::Gauge>;
using HistogramFamily = FamilyHandle<prometheus::Histogram>;

class MetricsRegistry {
 public:
  // `node`: the value of the constant `node` label on every family of this registry (a node id; "sim" or similar
  // for a simulator process's own series). REQUIRES: non-empty.
  explicit MetricsRegistry(std::string node);
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  const std::string& node() const { return node_; }

  // Declare a family. Throws std::invalid_argument when the name, help or labels break the conventions above, or
  // when the name is already declared here with another type or labels (the same declaration twice returns the
  // same family).
  CounterFamily counter(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  GaugeFamily gauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  HistogramFamily histogram(const std::string& name, const std::string& help, std::vector<double> buckets,
                            std::vector<std::string> labels = {});

  // A collector evaluated at every collect() (for values read at scrape time, such as /proc). Its families must
  // carry the `node` label themselves and match `declared`, which joins the catalogue (names are not checked
  // against our naming rule: standard names such as process_cpu_seconds_total are the point). HELP is required.
  void add_collector(std::shared_ptr<const prometheus::Collectable> collector, std::vector<MetricInfo> declared);

  // Every family with its current samples: declared families, then collectors'.
  std::vector<prometheus::MetricFamily> collect() const;
  // Every declared family, in declaration order.
  const std::vector<MetricInfo>& catalogue() const { return catalogue_; }

 private:
  void declare(const MetricInfo& info, bool conventional_name);
  std::shared_ptr<const std::vector<std::string>> checked_labels(const std::vector<std::string>& labels) const;

  std::string node_;
  prometheus::Registry registry_;
  std::vector<std::shared_ptr<const prometheus::Collectable>> collectors_;
  std::vector<MetricInfo> catalogue_;
};

// --- template definitions ---

template <typename T>
T& FamilyHandle<T>::with(std::initializer_list<std::string_view> values) const {
  if (values.size() != labels_->size()) {
    throw std::invalid_argument("metric " + family_->GetName() + ": expected " + std::to_string(labels_->size()) +
                                " label values, got " + std::to_string(values.size()));
  }
  prometheus::Labels labels;
  auto name = labels_->begin();
  for (std::string_view v : values) labels.emplace(*name++, std::string(v));
  if constexpr (std::is_same_v<T, prometheus::Histogram>) {
    return family_->Add(labels, *buckets_);
  } else {
    return family_->Add(labels);
  }
}

template <typename T>
T& FamilyHandle<T>::with(const std::vector<std::string>& values) const {
  if (values.size() != labels_->size()) {
    throw std::invalid_argument("metric " + family_->GetName() + ": expected " + std::to_string(labels_->size()) +
                                " label values, got " + std::to_string(values.size()));
  }
  prometheus::Labels labels;
  for (std::size_t i = 0; i < values.size(); ++i) labels.emplace((*labels_)[i], values[i]);
  if constexpr (std::is_same_v<T, prometheus::Histogram>) {
    return family_->Add(labels, *buckets_);
  } else {
    return family_->Add(labels);
  }
}

}  // namespace meshloop::obs
