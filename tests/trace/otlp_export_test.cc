// Tracing end to end: real `meshloop node` processes export over OTLP/HTTP to a real decoder
// (@elastic/mockotlpserver, tests/common/otlp_peer.h). Four nodes in a ring with chords; the test cuts link 1-2 at
// node 1's driver and reads the spans the decoder received: one connected incident (parent/child across processes,
// span links between the two endpoints' detections), from several nodes, with the resource attributes, in both
// http/protobuf and http/json. Then the endpoint goes away: nodes keep forwarding, spans are dropped and counted
// (meshloop_trace_spans_dropped_total), and export resumes when the endpoint returns.
#include <gtest/gtest.h>
#include <opentelemetry/trace/default_span.h>
#include <opentelemetry/trace/scope.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "api/client.h"
#include "common/otlp_peer.h"
#include "trace/context.h"
#include "transport/local_mesh.h"
#include "transport/udp_driver.h"

namespace meshloop::trace {
namespace {

using mesh::NodeId;
using nlohmann::json;
using testing::OtlpPeer;
using transport::LocalMesh;

struct Span {
  std::string name, trace, id, parent, node;  // node: the resource's service.instance.id
  json attributes;
  std::vector<std::string> links;  // linked span ids
};

std::string str(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

class OtlpExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string missing = OtlpPeer::missing();
    ASSERT_TRUE(missing.empty()) << missing;
    const char* bin = std::getenv("MESHLOOP_BIN");
    ASSERT_NE(bin, nullptr) << "MESHLOOP_BIN must name the meshloop binary (ctest sets it)";
    auto dir = transport::make_temp_dir("meshloop-otlp");
    ASSERT_TRUE(dir.ok());
    dir_ = *dir;
    auto port = transport::free_tcp_port();
    ASSERT_TRUE(port.ok());
    peer_ = std::make_unique<OtlpPeer>(dir_, *port);
    binary_ = bin;
    ::setenv("OTEL_BSP_SCHEDULE_DELAY", "200", 1);  // export within a fraction of a second
  }
  void TearDown() override {
    if (mesh_) mesh_->stop_all();
    if (peer_) peer_->stop();
    if (HasFailure()) {
      std::cout << "node and peer logs kept in " << dir_ << "\n";
    } else {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  void start_mesh(const std::string& protocol, bool traffic = false) {
    LocalMesh::Options o;
    o.binary = binary_;
    o.work_dir = dir_;
    o.key = "trace-key";
    o.extra_args = {"--trace-endpoint", peer_->base_url(), "--trace-protocol", protocol, "--trace-sampler",
                    "parentbased_always_on", "--kb", "off"};
    mesh_ = std::make_unique<LocalMesh>(o);
    for (NodeId id = 1; id <= 4; ++id) ASSERT_TRUE(mesh_->add_node(id).ok());
    for (auto [a, b] : transport::ring_with_chords(4)) ASSERT_TRUE(mesh_->link(a, b).ok());
    if (traffic) mesh_->add_traffic(1, transport::TrafficSpec{2, 50});
    ASSERT_TRUE(mesh_->start_all().ok());
  }

  // Until every node routes to the three others (10 s).
  bool converged() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int ready = 0;
      for (NodeId id = 1; id <= 4; ++id) {
        auto s = api::get_status("127.0.0.1", mesh_->node(id).http_port, std::chrono::milliseconds(500));
        if (s.ok() && (*s)["routes"].size() == 3) ++ready;
      }
      if (ready == 4) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  // Cuts (or restores) link 1-2 at node 1's driver, from a request that carries `caller`'s trace context.
  void cut(bool drop, const otel_trace::SpanContext& caller = otel_trace::SpanContext::GetInvalid()) {
    opentelemetry::nostd::shared_ptr<otel_trace::Span> span(new otel_trace::DefaultSpan(caller));
    otel_trace::Scope scope(span);
    ASSERT_TRUE(api::set_drop("127.0.0.1", mesh_->node(1).http_port, "2", drop).ok());
  }

  std::vector<Span> spans(std::set<std::string>* content_types = nullptr) {
    std::vector<Span> out;
    for (const auto& r : peer_->requests()) {
      if (content_types && r["contentType"].is_string()) content_types->insert(r["contentType"].get<std::string>());
      for (const auto& rs : r["trace"]["resourceSpans"]) {
        const json res = rs["resource"]["attributes"];
        for (const auto& ss : rs["scopeSpans"]) {
          for (const auto& s : ss["spans"]) {
            Span x;
            x.name = s["name"];
            x.trace = s["traceId"];
            x.id = s["spanId"];
            x.parent = s.contains("parentSpanId") && s["parentSpanId"].is_string() ? s["parentSpanId"].get<std::string>() : "";
            x.node = res.contains("service.instance.id") ? str(res["service.instance.id"]) : "";
            x.attributes = s.value("attributes", json::object());
            if (s.contains("links")) {
              for (const auto& l : s["links"]) x.links.push_back(l["spanId"]);
            }
            out.push_back(std::move(x));
          }
        }
        resources_.push_back(res);
      }
    }
    return out;
  }

  const Span* detection(const std::vector<Span>& all, const std::string& node, const std::string& peer) {
    for (const auto& s : all) {
      if (s.name == "mesh.neighbour.down" && s.node == node && str(s.attributes["meshloop.peer.id"]) == peer) return &s;
    }
    return nullptr;
  }

  void check_incident(const std::string& protocol, const std::string& content_type) {
    start_mesh(protocol);
    ASSERT_TRUE(peer_->start());
    ASSERT_TRUE(converged());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const otel_trace::SpanContext caller = decode_context(std::vector<std::uint8_t>(
        kCaller.begin(), kCaller.end()));
    cut(true, caller);

    std::vector<Span> all;
    const Span* d1 = nullptr;
    const Span* d2 = nullptr;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    std::set<std::string> types;
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      types.clear();
      all = spans(&types);
      d1 = detection(all, "1", "2");
      d2 = detection(all, "2", "1");
      if (d1 && d2 && std::count_if(all.begin(), all.end(), [&](const Span& s) {
            return s.name == "mesh.advertisement.receive" && (s.parent == d1->id || s.parent == d2->id);
          }) >= 2) {
        break;
      }
    }
    ASSERT_NE(d1, nullptr) << "node 1 exported no detection of 2";
    ASSERT_NE(d2, nullptr) << "node 2 exported no detection of 1";
    EXPECT_EQ(types, std::set<std::string>{content_type});

    // Children across processes: advertisements and SPF runs on other nodes hang under a detection.
    std::map<std::string, const Span*> by_id;
    for (const auto& s : all) by_id[s.id] = &s;
    std::set<std::string> nodes_in_incident;
    int receives = 0;
    for (const auto& s : all) {
      const Span* p = by_id.count(s.parent) ? by_id[s.parent] : nullptr;
      const bool under = s.id == d1->id || s.id == d2->id || s.parent == d1->id || s.parent == d2->id ||
                         (p && (p->parent == d1->id || p->parent == d2->id));
      if (!under) continue;
      nodes_in_incident.insert(s.node);
      if (s.name == "mesh.advertisement.receive") {
        ++receives;
        EXPECT_TRUE(s.trace == (s.parent == d1->id ? d1->trace : d2->trace) || p != nullptr);
      }
    }
    EXPECT_GE(nodes_in_incident.size(), 3u);
    EXPECT_GE(receives, 2);

    // The two detections are one connected incident: span links tie them (directly or through an advertisement).
    std::map<std::string, std::string> up;
    std::function<std::string(const std::string&)> find = [&](const std::string& x) -> std::string {
      auto it = up.find(x);
      if (it == up.end() || it->second == x) return x;
      return it->second = find(it->second);
    };
    for (const auto& s : all) up.emplace(s.id, s.id);
    bool linked = false;
    for (const auto& s : all) {
      if (by_id.count(s.parent)) up[find(s.id)] = find(s.parent);
      for (const auto& l : s.links) {
        if (by_id.count(l)) up[find(s.id)] = find(l);
        if (l == d1->id || l == d2->id) linked = true;
      }
    }
    EXPECT_TRUE(linked) << "no span link points at a detection";
    std::size_t in_component = 0, links = 0;
    for (const auto& s : all) {
      if (find(s.id) == find(d1->id)) ++in_component;
      links += s.links.size();
    }
    std::cout << protocol << ": " << all.size() << " spans received, " << in_component
              << " in the incident's component, from " << nodes_in_incident.size() << " nodes; " << receives
              << " advertisement receives under a detection; " << links << " span links\n";
    EXPECT_EQ(find(d1->id), find(d2->id)) << "the two endpoints' detections are not connected";

    // Resource attributes of a node process.
    bool resource_ok = false;
    for (const auto& r : resources_) {
      if (r.value("service.name", "") == "meshloop" && r.contains("service.instance.id") &&
          r.contains("service.version") && r.contains("host.name")) {
        resource_ok = true;
      }
    }
    EXPECT_TRUE(resource_ok);

    // The fault injection request: a server span, child of the caller's W3C context (client inject, server extract).
    bool http_span = false;
    for (const auto& s : all) {
      if (s.name == "http.server.request" && s.node == "1" && str(s.attributes["http.route"]) == "/api/v1/faults/drop") {
        http_span = true;
        EXPECT_EQ(s.trace, "0af7651916cd43dd8448eb211c80319c");
        EXPECT_EQ(s.parent, "b7ad6b7169203331");
      }
    }
    EXPECT_TRUE(http_span);
  }

  static inline const std::string kCaller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  std::string dir_;
  std::string binary_;
  std::unique_ptr<OtlpPeer> peer_;
  std::unique_ptr<LocalMesh> mesh_;
  std::vector<json> resources_;
};

TEST_F(OtlpExportTest, ALinkFaultIsOneConnectedTraceAcrossNodesOverHttpProtobuf) {
  check_incident("http/protobuf", "application/x-protobuf");
}

TEST_F(OtlpExportTest, ALinkFaultIsOneConnectedTraceAcrossNodesOverHttpJson) {
  check_incident("http/json", "application/json");
}

double metric(const std::string& body, const std::string& name) {
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0 && (line[name.size()] == '{' || line[name.size()] == ' ')) {
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return -1;
}

TEST_F(OtlpExportTest, WithTheEndpointDownNodesKeepForwardingAndCountDroppedSpansThenExportResumes) {
  start_mesh("http/protobuf", true);  // the peer is not started: nothing listens on its port
  ASSERT_TRUE(converged());
  auto delivered = [&] {
    auto s = api::get_status("127.0.0.1", mesh_->node(2).http_port, std::chrono::milliseconds(500));
    if (!s.ok()) return std::int64_t{-1};
    for (const auto& f : (*s)["traffic"]["receiving"]) {
      if (f["origin"] == 1) return f["received"].get<std::int64_t>();
    }
    return std::int64_t{0};
  };
  cut(true);  // detections, advertisements, SPF runs: spans with nowhere to go
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const std::int64_t before = delivered();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const std::int64_t after = delivered();
  EXPECT_GT(after - before, 50) << "traffic 1 -> 2 (rerouted around the cut) stalled while the endpoint was down";

  double dropped = -1;
  for (int i = 0; i < 50 && dropped <= 0; ++i) {
    auto m = api::http_get("127.0.0.1", mesh_->node(1).http_port, "/metrics");
    if (m.ok()) dropped = metric(m->body, "meshloop_trace_spans_dropped_total");
    if (dropped <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_GT(dropped, 0);

  ASSERT_TRUE(peer_->start());
  cut(false);  // the link comes back: neighbour-up detections and advertisements, exported this time
  bool resumed = false;
  for (int i = 0; i < 50 && !resumed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (const auto& s : spans()) {
      if (s.name == "mesh.neighbour.up" && (s.node == "1" || s.node == "2")) resumed = true;
    }
  }
  EXPECT_TRUE(resumed) << "no span reached the endpoint after it came back";
  auto m = api::http_get("127.0.0.1", mesh_->node(1).http_port, "/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_GT(metric(m->body, "meshloop_trace_spans_exported_total"), 0);
}

}  // namespace
}  // namespace meshloop::trace
