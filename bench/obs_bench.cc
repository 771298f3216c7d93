// Metrics costs (issue 4): hot-path counter and histogram updates; the node's forwarding path with the driver's
// metrics work on vs compiled out, in the same run; a full scrape of a 200-node simulated mesh, split into its
// parts (collect, sort and serialise, gzip) to show where the time goes.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "common/mini_mesh.h"
#include "obs/exposition.h"
#include "obs/mesh_metrics.h"
#include "obs/process_metrics.h"
#include "obs/registry.h"
#include "obs/reroute_timer.h"

namespace meshloop {
namespace {

// --- hot-path primitives ----------------------------------------------------------------------------------------

void BM_CounterIncrement(benchmark::State& state) {
  static obs::MetricsRegistry r("1");
  static prometheus::Counter& c = r.counter("meshloop_bench_events_total", "Bench.").get();
  for (auto _ : state) c.Increment();
  benchmark::DoNotOptimize(c.Value());
}
BENCHMARK(BM_CounterIncrement)->Threads(1)->Threads(2);

void BM_HistogramObserve(benchmark::State& state) {
  static obs::MetricsRegistry r("1");
  static prometheus::Histogram& h =
      r.histogram("meshloop_bench_duration_seconds", "Bench.",
                  {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                   0.25})
          .get();
  double v = 0.0003;
  for (auto _ : state) {
    h.Observe(v);
    v = v > 0.2 ? 0.00001 : v * 1.7;  // walk the buckets
  }
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2);

// --- the forwarding path ------------------------------------------------------------------------------------------

// Node 2 of a converged line 1 - 2 - 3 forwards node 1's data to 3. Each iteration: node 1 originates a packet
// (fresh sequence number: the node rejects replays), node 2 receives and forwards it. With kMetrics the loop also
// does what the UDP driver does for metrics: DriverObserver::data_sent (reroute timer) for every data packet sent,
// and a telemetry snapshot into MeshMetrics once per 10 000 packets (the driver's once a second at 10 kpps).
template <bool kMetrics>
class ForwardLine {
 public:
  ForwardLine() : metrics_(registry_) {
    mesh_.add_node(1);
    mesh_.add_node(2);
    mesh_.add_node(3);
    mesh_.link(1, 2);
    mesh_.link(2, 3);
    mesh_.run_for(seconds(3));
    now_ = mesh_.now();
  }
  // One packet from node 1 through node 2. Not inlined, so that callgrind can count exactly this
  // (--toggle-collect='*ForwardLine*step*').
  [[gnu::noinline]] void step() {
    mesh::Node& n1 = *mesh_.node(1);
    mesh::Node& n2 = *mesh_.node(2);
    n1.send_data(3, payload_, now_);
    n1.drain_outputs(out1_);
    for (auto& o : out1_) {
      if (auto* s = std::get_if<mesh::SendOutput>(&o)) n2.receive(1, s->bytes, now_);
    }
    out1_.clear();
    n2.drain_outputs(out2_);
    if constexpr (kMetrics) {
      for (auto& o : out2_) {
        if (auto* s = std::get_if<mesh::SendOutput>(&o); s != nullptr && !s->control) {
          reroute_.data_sent(3, now_, done_);
        }
      }
      if (++packets_ % 10000 == 0) metrics_.update(n2.telemetry(now_));
    }
    benchmark::DoNotOptimize(out2_.data());
    out2_.clear();
  }
  std::uint64_t forwarded() { return mesh_.node(2)->telemetry(now_).counters.data_forwarded; }

 private:
  testing::MiniMesh mesh_;
  TimePoint now_;
  const std::vector<std::uint8_t> payload_ = std::vector<std::uint8_t>(64, 7);
  std::vector<mesh::Output> out1_, out2_;
  obs::MetricsRegistry registry_{"2"};
  obs::MeshMetrics metrics_;
  obs::RerouteTimer reroute_{obs::RerouteTimer::Options{}};
  std::vector<double> done_;
  std::uint64_t packets_ = 0;
};

template <bool kMetrics>
void BM_Forward(benchmark::State& state) {
  ForwardLine<kMetrics> line;
  for (auto _ : state) line.step();
  if (line.forwarded() < static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("node 2 did not forward every packet");
  }
}
BENCHMARK(BM_Forward<false>)->Name("BM_Forward/metrics_compiled_out");
BENCHMARK(BM_Forward<true>)->Name("BM_Forward/metrics_on");

// A fixed 100 000 packets, for instruction counts where time is too noisy to compare (bench/results/obs_bench.txt).
template <bool kMetrics>
void BM_ForwardPackets(benchmark::State& state) {
  ForwardLine<kMetrics> line;
  for (auto _ : state) {
    for (int i = 0; i < 100000; ++i) line.step();
  }
}
BENCHMARK(BM_ForwardPackets<false>)->Name("BM_ForwardPackets/metrics_compiled_out")->Iterations(1);
BENCHMARK(BM_ForwardPackets<true>)->Name("BM_ForwardPackets/metrics_on")->Iterations(1);

// --- a full scrape of a 200-node simulated mesh -------------------------------------------------------------------

struct SimulatedMesh {
  explicit SimulatedMesh(int nodes, int degree = 8) : own("sim"), exposition(own) {
    obs::register_process_metrics(own);
    obs::register_build_info(own);
    for (int u = 1; u <= nodes; ++u) {
      registries.push_back(std::make_unique<obs::MetricsRegistry>(std::to_string(u)));
      mesh.push_back(std::make_unique<obs::MeshMetrics>(*registries.back()));
      mesh::Telemetry t;
      t.self = static_cast<mesh::NodeId>(u);
      for (int k = 1; k <= degree; ++k) {
        mesh::NeighbourInfo n{};
        n.id = static_cast<mesh::NodeId>((u + k * 7) % nodes + 1);
        n.port = static_cast<mesh::PortId>(k);
        n.up = true;
        n.delivery_ratio_in = 0.97;
        n.delivery_ratio_out = 0.95;
        n.etx = 1.08;
        n.srtt_s = 0.0042;
        n.cost = 112;
        t.neighbours.push_back(n);
      }
      t.routes = static_cast<std::size_t>(nodes - 1);
      t.routes_with_backup = 40;
      t.lsdb_size = static_cast<std::size_t>(nodes);
      t.counters.rx_packets = 123456 + static_cast<std::uint64_t>(u);
      t.counters.tx_packets = 654321;
      t.counters.control_tx_bytes = 98765432;
      t.counters.data_forwarded = 4242;
      t.counters.spf_runs = 77;
      mesh.back()->update(t);
      for (int i = 0; i < 20; ++i) mesh.back()->observe_spf_duration(0.0001 * i);
      mesh.back()->observe_reroute(0.31);
      exposition.expose(*registries.back());
    }
  }
  obs::MetricsRegistry own;
  obs::Exposition exposition;
  std::vector<std::unique_ptr<obs::MetricsRegistry>> registries;
  std::vector<std::unique_ptr<obs::MeshMetrics>> mesh;
};

void BM_Scrape200(benchmark::State& state) {
  SimulatedMesh sim(200);
  const std::string accept = state.range(0) == 1 ? "gzip" : "";
  std::size_t bytes = 0;
  for (auto _ : state) {
    obs::Rendered r = sim.exposition.render(accept);
    bytes = r.body.size();
    benchmark::DoNotOptimize(r.body.data());
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Scrape200)->Arg(0)->Arg(1)->ArgName("gzip")->Unit(benchmark::kMillisecond);

// The parts: collecting every registry's families (prometheus-cpp copies each series out), then merging, sorting
// and serialising (serialize_text includes the collect), then gzip of the text.
void BM_Scrape200_CollectOnly(benchmark::State& state) {
  SimulatedMesh sim(200);
  for (auto _ : state) {
    std::size_t n = 0;
    for (const auto& r : sim.registries) n += r->collect().size();
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(BM_Scrape200_CollectOnly)->Unit(benchmark::kMillisecond);

void BM_Scrape200_GzipOnly(benchmark::State& state) {
  SimulatedMesh sim(200);
  const std::string text = sim.exposition.text();
  for (auto _ : state) {
    auto z = obs::gzip_compress(text);
    benchmark::DoNotOptimize(z);
  }
  state.counters["text_bytes"] = static_cast<double>(text.size());
}
BENCHMARK(BM_Scrape200_GzipOnly)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace meshloop
