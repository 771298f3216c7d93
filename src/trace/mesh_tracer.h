// trace::MeshTracer: the mesh's spans, as mesh::TraceHooks. One instance serves one node (a `meshloop node`
// process) or every node of a simulation (the simulator shares one provider; the node id is an attribute).
//
// Spans (names <component>.<operation>, attributes meshloop.*; all carry meshloop.node.id):
//   mesh.neighbour.down / mesh.neighbour.up   a detection; the root of an incident's trace. When the neighbour's own
//                                             advertisement (carrying its detection's context) arrived within the
//                                             correlation window, a span link points at that detection.
//   mesh.advertisement.originate              our LSA; child of the detections it advertises (the first is the
//                                             parent, others are linked), a root when it has none (refresh, command).
//   mesh.advertisement.receive                a newer LSA that carried a context: child of that context (the
//                                             origin's detection, or its advertisement when it had no detection);
//                                             linked to our own detection of the origin when we saw the same failure.
//   mesh.spf                                  child of what last changed the database (a traced receive or
//                                             detection) within the window; none when nothing traced caused it.
//   mesh.failover                             child of the traced detection of the lost next hop; else none.
// So a link failure reads as one trace per endpoint's detection, each holding the advertisements and the SPF runs and
// failovers they caused on every node, the two detections tied by span links (docs/decisions/0015-tracing.md).
//
// Time: spans are stamped from the node's `now` (never a clock): wall time = now + unix_offset. The advertised
// context is the detection's (so other nodes' spans are its children); contexts travel only for sampled spans.
// Thread-safety: none; the thread that drives the node(s) calls it.
#pragma once

#include <opentelemetry/nostd/shared_ptr.h>
#include <opentelemetry/trace/span_context.h>
#include <opentelemetry/trace/tracer.h>

#include <map>
#include <vector>

#include "mesh/trace_hooks.h"

namespace meshloop::trace {

struct MeshTracerOptions {
  // Wall-clock microseconds since the Unix epoch at TimePoint zero of the node's clock.
  std::int64_t unix_offset_us = 0;
  // How long a detection or a received advertisement may still be the cause of what follows.
  Duration correlation_window = seconds(5);
};

class MeshTracer final : public mesh::TraceHooks {
 public:
  MeshTracer(opentelemetry::nostd::shared_ptr<opentelemetry::trace::Tracer> tracer, MeshTracerOptions options);

  void neighbour_changed(mesh::NodeId self, mesh::NodeId peer, bool up, TimePoint now) override;
  mesh::TraceContext lsa_originated(mesh::NodeId self, std::uint32_t seq, std::size_t links, TimePoint now) override;
  void lsa_received(mesh::NodeId self, mesh::NodeId origin, std::uint32_t seq, std::span<const std::uint8_t> context,
                    TimePoint now) override;
  void spf_ran(mesh::NodeId self, std::size_t reachable, TimePoint now) override;
  void failover(mesh::NodeId self, mesh::NodeId lost, mesh::NodeId destination, mesh::NodeId via,
                TimePoint now) override;

 private:
  using SpanContext = opentelemetry::trace::SpanContext;
  struct Recent {
    SpanContext context = SpanContext::GetInvalid();
    TimePoint at{};
  };
  struct NodeState {
    std::map<mesh::NodeId, Recent> down;          // our detections of neighbours going down
    std::map<mesh::NodeId, Recent> peer_reports;  // the context each origin's latest advertisement carried
    std::vector<Recent> causes;                   // detections not yet advertised
    Recent spf_cause;
  };
  bool fresh(const Recent& r, TimePoint now) const;
  NodeState& state(mesh::NodeId self) { return nodes_[self]; }

  opentelemetry::nostd::shared_ptr<opentelemetry::trace::Tracer> tracer_;
  MeshTracerOptions options_;
  std::map<mesh::NodeId, NodeState> nodes_;
};

}  // namespace meshloop::trace
