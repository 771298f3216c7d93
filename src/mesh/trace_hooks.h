// mesh::TraceHooks: where mesh::Node tells a tracer what it did, so that one healing incident reads as one trace.
//
// The core stays I/O-free and tracer-free: it calls these hooks (when a driver installed one) with `now`, and carries
// opaque trace contexts (W3C traceparent/tracestate bytes, see trace/context.h) in the kLsaTrace TLV of its
// advertisements. Everything else (spans, sampling, which detection caused which advertisement, export) lives in the
// implementation, trace::MeshTracer. With no hooks installed the node pays one null check per call site.
//
// Call order is causal: neighbour_changed() for a detection comes before the lsa_originated() and failover() it
// causes; lsa_received() comes before the spf_ran() it causes.
// Thread-safety: called on the thread that drives the node; an implementation shared by several nodes (the
// simulator's) is driven by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/time.h"
#include "mesh/types.h"

namespace meshloop::mesh {

// Opaque bytes of a trace context as carried on the wire (empty: none).
using TraceContext = std::vector<std::uint8_t>;

class TraceHooks {
 public:
  virtual ~TraceHooks() = default;

  // `self` declared `peer` up or down at `now` (hello-based detection).
  virtual void neighbour_changed(NodeId self, NodeId peer, bool up, TimePoint now) = 0;
  // `self` originated its advertisement `seq` with `links` links. Returns the context to flood with it (empty: none).
  virtual TraceContext lsa_originated(NodeId self, std::uint32_t seq, std::size_t links, TimePoint now) = 0;
  // `self` accepted a newer advertisement (`origin`, `seq`) that carried a trace context (not called without one).
  virtual void lsa_received(NodeId self, NodeId origin, std::uint32_t seq, std::span<const std::uint8_t> context,
                            TimePoint now) = 0;
  // `self` ran SPF: `reachable` destinations.
  virtual void spf_ran(NodeId self, std::size_t reachable, TimePoint now) = 0;
  // `self` moved traffic for `destination` off the lost next hop `lost` onto a pinned backup starting at `via`.
  virtual void failover(NodeId self, NodeId lost, NodeId destination, NodeId via, TimePoint now) = 0;
};

}  // namespace meshloop::mesh
