// The mesh's spans on a MiniMesh: a cut link reads as connected traces across the nodes it touched.
#include "trace/mesh_tracer.h"

#include <gtest/gtest.h>
#include <opentelemetry/exporters/memory/in_memory_span_exporter.h>
#include <opentelemetry/sdk/trace/span_data.h>

#include <functional>
#include <map>
#include <set>
#include <string>

#include "common/mini_mesh.h"
#include "trace/context.h"
#include "trace/tracing.h"

namespace meshloop::trace {
namespace {

namespace sdk_trace = opentelemetry::sdk::trace;
using opentelemetry::exporter::memory::InMemorySpanData;
using opentelemetry::exporter::memory::InMemorySpanExporter;

struct Span {
  std::string name, trace, id, parent;
  std::int64_t node = 0;
  std::map<std::string, std::int64_t> ints;
  std::vector<std::pair<std::string, std::string>> links;  // (span id, reason)
};


class Harness {
 public:
  explicit Harness(double ratio = 1.0, std::uint64_t seed = 42) {
    auto exporter = std::make_unique<InMemorySpanExporter>(100000);
    data_ = exporter->GetData();
    TracingConfig c;
    c.sampler = ratio >= 1.0 ? SamplerKind::kParentBasedAlwaysOn : SamplerKind::kParentBasedTraceIdRatio;
    c.sampler_ratio = ratio;
    c.max_queue = 100000;
    Plumbing plumbing;
    plumbing.exporter = std::move(exporter);
    plumbing.ids = seeded_id_generator(seed);
    plumbing.block_when_full = true;
    tracing_ = std::move(Tracing::create(c, ResourceInfo{}, {}, std::move(plumbing))).value();
    tracer_ = std::make_unique<MeshTracer>(tracing_->tracer("meshloop.mesh"), MeshTracerOptions{});
  }
  mesh::TraceHooks* hooks() { return tracer_.get(); }
  std::vector<Span> spans() {
    tracing_->flush();
    std::vector<Span> out;
    for (auto& d : data_->GetSpans()) {
      Span s;
      s.name = std::string(d->GetName());
      s.trace = traceparent(opentelemetry::trace::SpanContext(d->GetTraceId(), d->GetSpanId(), {}, false)).substr(3, 32);
      s.id = span_hex(d->GetSpanId());
      s.parent = d->GetParentSpanId().IsValid() ? span_hex(d->GetParentSpanId()) : "";
      for (const auto& [k, v] : d->GetAttributes()) {
        if (auto* i = opentelemetry::nostd::get_if<std::int64_t>(&v)) s.ints[k] = *i;
      }
      s.node = s.ints["meshloop.node.id"];
      for (const auto& l : d->GetLinks()) {
        std::string reason;
        for (const auto& [k, v] : l.GetAttributes()) {
          if (k == "meshloop.link.reason") reason = opentelemetry::nostd::get<std::string>(v);
        }
        s.links.emplace_back(span_hex(l.GetSpanContext().span_id()), reason);
      }
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  static std::string span_hex(const opentelemetry::trace::SpanId& id) {
    char buf[17];
    id.ToLowerBase16(opentelemetry::nostd::span<char, 16>(buf, 16));
    return std::string(buf, 16);
  }
  std::shared_ptr<InMemorySpanData> data_;
  std::unique_ptr<Tracing> tracing_;
  std::unique_ptr<MeshTracer> tracer_;
};

// A ring 1-2-3-4-1 plus the chord 1-3: cutting 1-2 leaves every node connected.
testing::MiniMesh ring(Harness& h) {
  testing::MiniMesh m;
  for (mesh::NodeId id = 1; id <= 4; ++id) m.add_node(id);
  for (mesh::NodeId id = 1; id <= 4; ++id) m.node(id)->set_trace_hooks(h.hooks());
  m.link(1, 2);
  m.link(2, 3);
  m.link(3, 4);
  m.link(4, 1);
  m.link(1, 3);
  return m;
}

// Connected components over parent and link edges.
std::map<std::string, int> components(const std::vector<Span>& spans) {
  std::map<std::string, std::string> up;
  std::function<std::string(const std::string&)> find = [&](const std::string& x) {
    auto it = up.find(x);
    if (it == up.end() || it->second == x) return x;
    return it->second = find(it->second);
  };
  auto join = [&](const std::string& a, const std::string& b) { up[find(a)] = find(b); };
  for (const auto& s : spans) up.emplace(s.id, s.id);
  for (const auto& s : spans) {
    if (!s.parent.empty() && up.count(s.parent)) join(s.id, s.parent);
    for (const auto& [l, reason] : s.links) {
      if (up.count(l)) join(s.id, l);
    }
  }
  std::map<std::string, int> ids;
  std::map<std::string, int> out;
  for (const auto& s : spans) {
    auto root = find(s.id);
    if (!ids.count(root)) ids[root] = static_cast<int>(ids.size());
    out[s.id] = ids[root];
  }
  return out;
}

TEST(MeshTracerTest, ALinkCutIsOneConnectedIncidentAcrossTheNodesItTouched) {
  Harness h;
  auto m = ring(h);
  m.run_for(seconds(5));
  const std::size_t before = h.spans().size();  // start-up spans, flushed away
  EXPECT_GT(before, 0u);
  m.cut(1, 2);
  m.run_for(seconds(3));
  const auto spans = h.spans();

  std::map<std::string, const Span*> by_id;
  for (const auto& s : spans) by_id[s.id] = &s;
  const Span* down1 = nullptr;
  const Span* down2 = nullptr;
  for (const auto& s : spans) {
    if (s.name != "mesh.neighbour.down") continue;
    if (s.node == 1 && s.ints.at("meshloop.peer.id") == 2) down1 = &s;
    if (s.node == 2 && s.ints.at("meshloop.peer.id") == 1) down2 = &s;
  }
  ASSERT_NE(down1, nullptr);
  ASSERT_NE(down2, nullptr);
  EXPECT_TRUE(down1->parent.empty());
  EXPECT_TRUE(down2->parent.empty());

  // Advertisements received on other nodes are children of a detection; so are SPF runs there.
  std::set<std::int64_t> nodes_under_detection;
  int receives = 0, spf = 0;
  for (const auto& s : spans) {
    if (s.parent != down1->id && s.parent != down2->id) {
      // or grandchildren: an SPF under a receive under a detection
      auto p = by_id.find(s.parent);
      if (p == by_id.end() || (p->second->parent != down1->id && p->second->parent != down2->id)) continue;
    }
    nodes_under_detection.insert(s.node);
    if (s.name == "mesh.advertisement.receive") ++receives;
    if (s.name == "mesh.spf") ++spf;
  }
  EXPECT_GE(nodes_under_detection.size(), 3u);
  EXPECT_GE(receives, 2);
  EXPECT_GE(spf, 2);

  // The two detections are tied by span links, so the incident is one connected whole.
  const auto comp = components(spans);
  EXPECT_EQ(comp.at(down1->id), comp.at(down2->id));
  bool linked = false;
  for (const auto& s : spans) {
    for (const auto& [l, reason] : s.links) {
      if ((l == down1->id || l == down2->id) && (reason == "peer_detection" || reason == "same_failure")) linked = true;
    }
  }
  EXPECT_TRUE(linked);
}

TEST(MeshTracerTest, SeededIdsMakeTracesReproducible) {
  auto run = [] {
    Harness h(1.0, 7);
    auto m = ring(h);
    m.run_for(seconds(3));
    m.cut(1, 2);
    m.run_for(seconds(2));
    std::vector<std::string> out;
    for (const auto& s : h.spans()) out.push_back(s.name + " " + s.trace + " " + s.id + " " + s.parent);
    return out;
  };
  EXPECT_EQ(run(), run());
}

TEST(MeshTracerTest, WithoutHooksNodesBehaveTheSameAndCarryNoContext) {
  testing::MiniMesh plain;
  Harness h;
  auto traced = ring(h);
  for (mesh::NodeId id = 1; id <= 4; ++id) plain.add_node(id);
  plain.link(1, 2);
  plain.link(2, 3);
  plain.link(3, 4);
  plain.link(4, 1);
  plain.link(1, 3);
  plain.run_for(seconds(3));
  traced.run_for(seconds(3));
  for (mesh::NodeId id = 1; id <= 4; ++id) {
    EXPECT_EQ(plain.node(id)->topology(), traced.node(id)->topology());
  }
}

}  // namespace
}  // namespace meshloop::trace
