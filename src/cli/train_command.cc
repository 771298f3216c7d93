// `meshloop train`: labelled windows from seeded simulator runs, GraphSAGE trained on them, validated on runs whose
// seeds (and, by default, one topology) training never saw, side by side with the other detectors; the model file
// is written crash-safely. Same flags, same binary: the same model bytes (simulation and training are deterministic,
// single-threaded).
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "ml/detector.h"
#include "ml/model_file.h"
#include "ml/quantised.h"
#include "ml/train.h"
#include "sim/meshloop_agent.h"
#include "sim/scenario.h"
#include "sim/telemetry.h"
#include "sim/world.h"

namespace meshloop::cli {
namespace {

struct TrainArgs {
  std::string out = "model.bin";
  std::string report;
  std::vector<std::string> train_topologies = {"rgg", "grid"};
  std::vector<std::string> val_topologies = {"rgg", "ba"};
  std::vector<std::uint64_t> train_seeds = {1, 2, 3, 4};
  std::vector<std::uint64_t> val_seeds = {101, 102};
  // Seeds of runs on the training topologies that training never sees, used only to pick the flag thresholds
  // (empty: calibrate on the training windows, which overfits them).
  std::vector<std::uint64_t> calibration_seeds;
  std::size_t nodes = 36;
  double degree = 6;
  std::string duration = "240s";
  int faults = 24;
  std::string fault_kinds = "every";
  double loss = 0.01;
  std::uint32_t epochs = 30;
  float learning_rate = 3e-3f;
  float max_positive_weight = ml::TrainConfig{}.max_positive_weight;
  float edge_loss_weight = ml::TrainConfig{}.edge_loss_weight;
  std::uint64_t seed = 1;
  float threshold = 0.5f;
  bool calibrate = true;
  bool quiet = false;
};

struct Run {
  std::string topology;
  std::uint64_t seed;
  std::vector<ml::LabelledWindow> windows;  // after warm-up, in time order
  // Per window, the fault kind behind each positive label (-1: none), for per-kind recall: nodes, then CSR entries.
  std::vector<std::vector<std::int8_t>> node_kind, edge_kind;
};

// The kinds behind `w`'s labels, by the labelling rule (a fault covering at least half the window).
void record_kinds(const sim::Scenario& sc, const sim::TelemetryWindow& w, Run& run) {
  const ml::Graph& g = w.data.graph;
  std::vector<std::int8_t> nk(g.num_nodes(), -1), ek(g.num_edges(), -1);
  auto mark_link = [&](std::uint32_t e, std::int8_t kind) {
    const auto [a, b] = sc.topo.edges[e];
    for (auto [u, v] : {std::pair{a - 1, b - 1}, std::pair{b - 1, a - 1}}) {
      for (auto k = g.offsets[u]; k < g.offsets[u + 1]; ++k) {
        if (g.targets[static_cast<std::size_t>(k)] == static_cast<std::int32_t>(v))
          ek[static_cast<std::size_t>(k)] = kind;
      }
    }
  };
  for (const sim::Fault& f : sc.faults) {
    if (f.is_shift() || sim::covered_share(f, w.start, w.end) < 0.5) continue;
    const auto kind = static_cast<std::int8_t>(f.kind);
    if (f.is_node_fault()) {
      nk[f.node - 1] = kind;
    } else if (f.kind == sim::FaultKind::kPartition) {
      for (std::uint32_t e : f.cut_edges) mark_link(e, kind);
    } else {
      mark_link(f.edge, kind);
    }
  }
  run.node_kind.push_back(std::move(nk));
  run.edge_kind.push_back(std::move(ek));
}

Result<Run> simulate(const TrainArgs& a, const std::string& topology, std::uint64_t seed) {
  Config c;
  c.set("sim.nodes", std::to_string(a.nodes), "train");
  c.set("sim.topology", topology, "train");
  c.set("sim.degree", fmt::format("{}", a.degree), "train");
  c.set("sim.seed", std::to_string(seed), "train");
  c.set("sim.duration", a.duration, "train");
  c.set("sim.faults", std::to_string(a.faults), "train");
  c.set("sim.fault_kinds", a.fault_kinds, "train");
  c.set("sim.fault_min", "10s", "train");
  c.set("sim.fault_max", "30s", "train");
  c.set("sim.flows", std::to_string(a.nodes / 2), "train");
  c.set("sim.loss", fmt::format("{}", a.loss), "train");
  auto params = sim::params_from_config(c);
  if (!params.ok()) return params.status();
  auto sc = sim::build_scenario(*params);
  if (!sc.ok()) return sc.status();
  mesh::NodeConfig config;
  config.hello_interval = params->hello_interval;
  config.dead_multiplier = params->dead_multiplier;
  const sim::Protocol proto = sim::meshloop_protocol(config);
  Run run{topology, seed, {}, {}, {}};
  sim::RunOptions opts;
  const TimePoint warm = at(params->warmup);
  opts.on_telemetry = [&run, &sc, warm](const sim::TelemetryWindow& w) {
    if (w.start < warm) return;
    run.windows.push_back(w.data);
    record_kinds(*sc, w, run);
  };
  sim::run_protocol(*sc, proto, opts);
  return run;
}

struct Counts {
  ml::Confusion node, link;
  std::map<int, std::pair<std::uint64_t, std::uint64_t>> kind_found;  // fault kind -> (positives flagged, positives)
  ml::Confusion all() const { return {node.tp + link.tp, node.fp + link.fp, node.tn + link.tn, node.fn + link.fn}; }
};

// Scores one detector over a run's windows in time order, per (element, window) as DESIGN.md defines: elements are
// nodes and undirected links (a link is flagged when either of its entries is).
Status score_run(ml::Detector& d, const Run& run, Counts& counts) {
  ml::Verdicts v;
  std::vector<std::int32_t> rev;
  for (std::size_t k = 0; k < run.windows.size(); ++k) {
    const ml::LabelledWindow& w = run.windows[k];
    if (rev.empty()) rev = ml::reverse_edges(w.graph);
    if (Status s = d.observe(w.graph, at(seconds(5 * static_cast<std::int64_t>(k + 1))), v); !s.ok()) return s;
    for (std::size_t i = 0; i < w.graph.num_nodes(); ++i) {
      if (!std::isnan(w.node_labels[i])) counts.node.add(v.node_flag[i] != 0, w.node_labels[i] > 0.5f);
      if (const int kind = run.node_kind[k][i]; kind >= 0) {
        counts.kind_found[kind].first += v.node_flag[i] != 0;
        ++counts.kind_found[kind].second;
      }
    }
    for (std::size_t e = 0; e < w.graph.num_edges(); ++e) {
      const auto r = rev[e];
      if (r >= 0 && static_cast<std::size_t>(r) < e) continue;  // each undirected link once
      const bool flag = v.edge_flag[e] != 0 || (r >= 0 && v.edge_flag[static_cast<std::size_t>(r)] != 0);
      if (!std::isnan(w.edge_labels[e])) counts.link.add(flag, w.edge_labels[e] > 0.5f);
      if (const int kind = run.edge_kind[k][e]; kind >= 0) {
        counts.kind_found[kind].first += flag;
        ++counts.kind_found[kind].second;
      }
    }
  }
  return Status::Ok();
}

nlohmann::json confusion_json(const ml::Confusion& c) {
  return {{"precision", c.precision()},
          {"recall", c.recall()},
          {"f1", c.f1()},
          {"tp", c.tp},
          {"fp", c.fp},
          {"fn", c.fn},
          {"tn", c.tn}};
}

// A calibration seed must be held out from training (else it calibrates on trained-on windows) and from validation
// (else the validation score is tuned on itself).
Status check_seed_sets(const TrainArgs& a) {
  for (std::uint64_t c : a.calibration_seeds) {
    for (std::uint64_t s : a.train_seeds) {
      if (c == s) return Status::InvalidArgument(fmt::format("calibration seed {} is also a training seed", c));
    }
    for (std::uint64_t v : a.val_seeds) {
      if (c == v) return Status::InvalidArgument(fmt::format("calibration seed {} is also a validation seed", c));
    }
  }
  return Status::Ok();
}

int run_train(const TrainArgs& a) {
  auto say = [&a](const std::string& s) {
    if (!a.quiet) std::cerr << s << std::flush;
  };
  if (Status s = check_seed_sets(a); !s.ok()) {
    std::cerr << "meshloop train: " << s.message() << "\n";
    return 2;
  }
  for (std::uint64_t s : a.train_seeds) {
    for (std::uint64_t v : a.val_seeds) {
      if (s == v) std::cerr << "meshloop train: warning: seed " << s << " is in both training and validation\n";
    }
  }
  std::vector<Run> train_runs, calibration_runs, val_runs;
  for (auto* set : {&train_runs, &calibration_runs, &val_runs}) {
    const bool validation = set == &val_runs;
    const char* what = set == &train_runs ? "training" : validation ? "validation" : "calibration";
    for (const auto& topo : validation ? a.val_topologies : a.train_topologies) {
      for (std::uint64_t seed : set == &train_runs ? a.train_seeds : validation ? a.val_seeds : a.calibration_seeds) {
        say(fmt::format("simulating {} {} seed {} ... ", what, topo, seed));
        auto run = simulate(a, topo, seed);
        if (!run.ok()) {
          std::cerr << "meshloop train: " << run.status().message() << "\n";
          return 2;
        }
        say(fmt::format("{} windows\n", run->windows.size()));
        set->push_back(std::move(run).value());
      }
    }
  }
  std::vector<ml::LabelledWindow> windows;
  std::size_t node_pos = 0, edge_pos = 0, node_all = 0, edge_all = 0;
  for (const Run& r : train_runs) {
    for (const auto& w : r.windows) {
      windows.push_back(w);
      for (float x : w.node_labels) node_pos += x > 0.5f ? 1 : 0;
      for (float x : w.edge_labels) edge_pos += x > 0.5f ? 1 : 0;
      node_all += w.node_labels.size();
      edge_all += w.edge_labels.size();
    }
  }
  say(fmt::format("training on {} windows ({} of {} node labels and {} of {} link entries positive)\n", windows.size(),
                  node_pos, node_all, edge_pos, edge_all));
  ml::TrainConfig tc;
  tc.epochs = a.epochs;
  tc.learning_rate = a.learning_rate;
  tc.max_positive_weight = a.max_positive_weight;
  tc.edge_loss_weight = a.edge_loss_weight;
  tc.seed = a.seed;
  auto trained = ml::train(windows, tc, [&](std::uint32_t epoch, double loss) {
    say(fmt::format("\repoch {}/{}: loss {:.4f}", epoch + 1, a.epochs, loss));
  });
  say("\n");
  if (!trained.ok()) {
    std::cerr << "meshloop train: " << trained.status().message() << "\n";
    return 1;
  }
  ml::Calibration calibration;
  std::size_t calibration_windows = 0;
  if (a.calibrate) {
    std::vector<ml::LabelledWindow> held_out;
    for (const Run& r : calibration_runs) held_out.insert(held_out.end(), r.windows.begin(), r.windows.end());
    calibration_windows = held_out.empty() ? windows.size() : held_out.size();
    calibration = ml::calibrate(trained->model, held_out.empty() ? windows : held_out);
    say(
        fmt::format("calibrated on {} {} windows: node threshold {:.3f} (F1 {:.4f}), link threshold {:.3f} "
                    "(F1 {:.4f}), folded into the output biases\n",
                    calibration_windows, held_out.empty() ? "training" : "held-out calibration",
                    calibration.node_threshold, calibration.node_f1, calibration.edge_threshold, calibration.edge_f1));
  }
  auto model = std::make_shared<const ml::GraphSage>(trained->model);
  if (Status s = ml::save_model(*model, a.out); !s.ok()) {
    std::cerr << "meshloop train: " << s.message() << "\n";
    return 1;
  }
  std::ifstream in(a.out, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  // The file ends with its payload's CRC, so a CRC over the whole file is a constant: identify it by the rest.
  const std::string file = bytes.str();
  const std::uint32_t crc = ml::crc32c(std::string_view(file).substr(0, file.size() >= 4 ? file.size() - 4 : 0));

  nlohmann::json detectors = nlohmann::json::object();
  std::string table =
      fmt::format("validation ({} runs, {} windows; per element-window, nodes and links):\n", val_runs.size(), [&] {
        std::size_t n = 0;
        for (const Run& r : val_runs) n += r.windows.size();
        return n;
      }());
  table += fmt::format("  {:<14} {:>9} {:>9} {:>9}   {:>9} {:>9}\n", "detector", "precision", "recall", "F1", "node F1",
                       "link F1");
  std::string kind_table = "recall by fault kind (recall/positive element-windows):\n";
  // The int8 path scores the same windows as the float model it was quantised from (the issue: F1 within 0.01).
  auto quantised = std::make_shared<const ml::QuantisedGraphSage>(*model);
  for (const char* name : {"graphsage", "graphsage_int8", "thresholds", "rules", "static"}) {
    Counts counts;
    for (const Run& r : val_runs) {
      std::unique_ptr<ml::Detector> d;
      const std::string n = name;
      if (n == "graphsage")
        d = std::make_unique<ml::GraphSageDetector>(model, a.threshold);
      else if (n == "graphsage_int8")
        d = std::make_unique<ml::GraphSageDetector>(quantised, a.threshold);
      else if (n == "thresholds")
        d = std::make_unique<ml::ThresholdDetector>();
      else if (n == "rules")
        d = std::make_unique<ml::RuleScorer>();
      else
        d = std::make_unique<ml::StaticDetector>();
      if (Status s = score_run(*d, r, counts); !s.ok()) {
        std::cerr << "meshloop train: " << name << ": " << s.message() << "\n";
        return 1;
      }
    }
    const ml::Confusion all = counts.all();
    detectors[name] = confusion_json(all);
    detectors[name]["node"] = confusion_json(counts.node);
    detectors[name]["link"] = confusion_json(counts.link);
    table += fmt::format("  {:<14} {:>9.4f} {:>9.4f} {:>9.4f}   {:>9.4f} {:>9.4f}\n", name, all.precision(),
                         all.recall(), all.f1(), counts.node.f1(), counts.link.f1());
    std::string kinds;
    for (const auto& [kind, found] : counts.kind_found) {
      const char* kind_name = sim::fault_kind_name(static_cast<sim::FaultKind>(kind));
      const double recall = found.second ? static_cast<double>(found.first) / static_cast<double>(found.second) : 0;
      detectors[name]["recall_by_kind"][kind_name] = {{"recall", recall}, {"positives", found.second}};
      kinds += fmt::format(" {} {:.2f}/{}", kind_name, recall, found.second);
    }
    kind_table += fmt::format("  {:<14}{}\n", name, kinds);
  }
  std::cout << table << kind_table
            << fmt::format("model: {} ({} bytes, CRC-32C of all but its trailer {:08x})\n", a.out, bytes.str().size(),
                           crc);
  if (!a.report.empty()) {
    nlohmann::json runs = nlohmann::json::array();
    for (const auto* set : {&train_runs, &calibration_runs, &val_runs}) {
      for (const Run& r : *set) {
        runs.push_back({{"set", set == &train_runs ? "train"
                                : set == &val_runs ? "validation"
                                                   : "calibration"},
                        {"topology", r.topology},
                        {"seed", r.seed},
                        {"windows", r.windows.size()}});
      }
    }
    nlohmann::json j{
        {"model", {{"path", a.out}, {"bytes", bytes.str().size()}, {"crc32c", fmt::format("{:08x}", crc)}}},
        {"parameters",
         {{"nodes", a.nodes},
          {"degree", a.degree},
          {"duration", a.duration},
          {"faults", a.faults},
          {"fault_kinds", a.fault_kinds},
          {"loss", a.loss},
          {"epochs", a.epochs},
          {"learning_rate", a.learning_rate},
          {"max_positive_weight", a.max_positive_weight},
          {"edge_loss_weight", a.edge_loss_weight},
          {"seed", a.seed},
          {"threshold", a.threshold}}},
        {"calibration",
         {{"enabled", a.calibrate},
          {"set", calibration_runs.empty() ? "train" : "calibration"},
          {"windows", calibration_windows},
          {"node_threshold", calibration.node_threshold},
          {"link_threshold", calibration.edge_threshold},
          {"node_f1", calibration.node_f1},
          {"link_f1", calibration.edge_f1}}},
        {"runs", runs},
        {"epoch_loss", trained->report.epoch_loss},
        {"validation", detectors}};
    std::ofstream out(a.report);
    out << j.dump(2) << "\n";
    if (!out) {
      std::cerr << "meshloop train: cannot write report '" << a.report << "'\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train",
      "Train the GraphSAGE detector on labelled windows from seeded simulator runs and validate it on held-out ones");
  auto a = std::make_shared<TrainArgs>();
  cmd->add_option("--out", a->out, "Model file to write (crash-safely)")->capture_default_str();
  cmd->add_option("--report", a->report, "Write the training and validation report (JSON) to FILE");
  cmd->add_option("--train-topologies", a->train_topologies, "Topologies of the training runs")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--val-topologies", a->val_topologies, "Topologies of the validation runs")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--train-seeds", a->train_seeds, "Scenario seeds of the training runs")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--val-seeds", a->val_seeds, "Scenario seeds of the validation runs (held out)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--calibration-seeds", a->calibration_seeds,
                  "Scenario seeds of held-out runs on the training topologies used only to calibrate the flag "
                  "thresholds (default: none, calibrate on the training windows)")
      ->delimiter(',');
  cmd->add_option("--nodes", a->nodes, "Nodes per simulated mesh")->capture_default_str();
  cmd->add_option("--degree", a->degree, "Mean degree (rgg, ba)")->capture_default_str();
  cmd->add_option("--duration", a->duration, "Virtual length of each run")->capture_default_str();
  cmd->add_option("--faults", a->faults, "Random faults per run")->capture_default_str();
  cmd->add_option("--fault-kinds", a->fault_kinds, "Fault kinds (as meshloop sim --fault-kinds)")
      ->capture_default_str();
  cmd->add_option("--loss", a->loss, "Background loss per link direction")->capture_default_str();
  cmd->add_option("--epochs", a->epochs, "Training epochs")->capture_default_str();
  cmd->add_option("--learning-rate", a->learning_rate, "Adam learning rate")->capture_default_str();
  cmd->add_option("--max-positive-weight", a->max_positive_weight,
                  "Cap on the class weight of positive elements (negatives / positives)")
      ->capture_default_str();
  cmd->add_option("--edge-loss-weight", a->edge_loss_weight,
                  "Weight of the link term of the loss relative to the node term")
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed of weight initialisation and window order")->capture_default_str();
  cmd->add_option("--threshold", a->threshold, "GraphSAGE flag threshold for validation")->capture_default_str();
  cmd->add_option("--calibrate", a->calibrate,
                  "Fold the flag thresholds that maximise F1 on the calibration windows (or, without "
                  "--calibration-seeds, the training windows) into the model (true/false)")
      ->capture_default_str();
  cmd->add_flag("--quiet", a->quiet, "No progress output");
  cmd->callback([a] { exit_code() = run_train(*a); });
}

}  // namespace meshloop::cli
