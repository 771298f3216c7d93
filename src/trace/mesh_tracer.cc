#include "trace/mesh_tracer.h"

#include <opentelemetry/context/context.h>
#include <opentelemetry/trace/span.h>
#include <opentelemetry/trace/span_metadata.h>

#include <string>
#include <utility>

#include "trace/context.h"

namespace meshloop::trace {
namespace {

namespace otel = opentelemetry;
using Attributes = std::map<std::string, otel::common::AttributeValue>;
using LinkAttributes = std::map<std::string, std::string>;
using Links = std::vector<std::pair<otel::trace::SpanContext, LinkAttributes>>;

std::int64_t id(mesh::NodeId n) { return static_cast<std::int64_t>(n); }

}  // namespace

MeshTracer::MeshTracer(otel::nostd::shared_ptr<otel::trace::Tracer> tracer, MeshTracerOptions options)
    : tracer_(std::move(tracer)), options_(options) {}

bool MeshTracer::fresh(const Recent& r, TimePoint now) const {
  return r.context.IsValid() && now >= r.at && now - r.at <= options_.correlation_window;
}

namespace {

// Starts and ends an instantaneous span at `now` (the node's clock), with `parent` (invalid: a root). Attributes are
// set by `annotate` only when the span is recorded: an unsampled span costs no attribute strings.
template <typename Annotate>
otel::trace::SpanContext record(otel::trace::Tracer& tracer, std::int64_t unix_offset_us, const char* name,
                                otel::trace::SpanKind kind, const otel::trace::SpanContext& parent, const Links& links,
                                TimePoint now, Annotate&& annotate) {
  otel::trace::StartSpanOptions o;
  o.kind = kind;
  const std::chrono::microseconds wall(unix_offset_us + now.time_since_epoch().count());
  o.start_system_time = otel::common::SystemTimestamp(std::chrono::system_clock::time_point(wall));
  o.start_steady_time = otel::common::SteadyTimestamp(
      std::chrono::steady_clock::time_point(std::chrono::microseconds(now.time_since_epoch().count())));
  if (parent.IsValid()) {
    o.parent = parent;
  } else {
    otel::context::Context root;
    o.parent = root.SetValue(otel::trace::kIsRootSpanKey, true);
  }
  auto span = links.empty() ? tracer.StartSpan(name, o) : tracer.StartSpan(name, Attributes{}, links, o);
  if (span->IsRecording()) annotate(*span);
  otel::trace::EndSpanOptions e;
  e.end_steady_time = o.start_steady_time;
  const otel::trace::SpanContext context = span->GetContext();
  span->End(e);
  return context;
}

}  // namespace

void MeshTracer::neighbour_changed(mesh::NodeId self, mesh::NodeId peer, bool up, TimePoint now) {
  NodeState& s = state(self);
  Links links;
  auto report = s.peer_reports.find(peer);
  if (!up && report != s.peer_reports.end() && fresh(report->second, now)) {
    links.push_back({report->second.context, {{"meshloop.link.reason", "peer_detection"}}});
  }
  const SpanContext ctx = record(*tracer_, options_.unix_offset_us, up ? "mesh.neighbour.up" : "mesh.neighbour.down",
                                 otel::trace::SpanKind::kInternal, SpanContext::GetInvalid(), links, now,
                                 [&](otel::trace::Span& span) {
                                   span.SetAttribute("meshloop.node.id", id(self));
                                   span.SetAttribute("meshloop.peer.id", id(peer));
                                 });
  if (!ctx.IsSampled()) return;
  if (up) {
    s.down.erase(peer);
  } else {
    s.down[peer] = Recent{ctx, now};
  }
  s.causes.push_back(Recent{ctx, now});
  s.spf_cause = Recent{ctx, now};
}

mesh::TraceContext MeshTracer::lsa_originated(mesh::NodeId self, std::uint32_t seq, std::size_t links_count,
                                              TimePoint now) {
  NodeState& s = state(self);
  SpanContext parent = SpanContext::GetInvalid();
  Links links;
  for (const Recent& c : s.causes) {
    if (!fresh(c, now)) continue;
    if (!parent.IsValid()) {
      parent = c.context;
    } else {
      links.push_back({c.context, {{"meshloop.link.reason", "coalesced_detection"}}});
    }
  }
  s.causes.clear();
  const SpanContext ctx = record(*tracer_, options_.unix_offset_us, "mesh.advertisement.originate",
                                 otel::trace::SpanKind::kProducer, parent, links, now, [&](otel::trace::Span& span) {
                                   span.SetAttribute("meshloop.node.id", id(self));
                                   span.SetAttribute("meshloop.lsa.origin", id(self));
                                   span.SetAttribute("meshloop.lsa.seq", static_cast<std::int64_t>(seq));
                                   span.SetAttribute("meshloop.lsa.links", static_cast<std::int64_t>(links_count));
                                 });
  // Other nodes' spans hang under the detection this advertisement reports (or under it when it reports none).
  const SpanContext advertised = parent.IsValid() ? parent : ctx;
  if (!advertised.IsSampled()) return {};
  if (!s.spf_cause.context.IsValid() || !fresh(s.spf_cause, now)) s.spf_cause = Recent{advertised, now};
  return encode_context(advertised);
}

void MeshTracer::lsa_received(mesh::NodeId self, mesh::NodeId origin, std::uint32_t seq,
                              std::span<const std::uint8_t> context, TimePoint now) {
  const SpanContext remote = decode_context(context);
  if (!remote.IsValid()) return;  // an untraced advertisement: nothing to hang a span under
  NodeState& s = state(self);
  s.peer_reports[origin] = Recent{remote, now};
  Links links;
  auto down = s.down.find(origin);
  if (down != s.down.end() && fresh(down->second, now)) {
    links.push_back({down->second.context, {{"meshloop.link.reason", "same_failure"}}});
  }
  const SpanContext ctx = record(*tracer_, options_.unix_offset_us, "mesh.advertisement.receive",
                                 otel::trace::SpanKind::kConsumer, remote, links, now, [&](otel::trace::Span& span) {
                                   span.SetAttribute("meshloop.node.id", id(self));
                                   span.SetAttribute("meshloop.lsa.origin", id(origin));
                                   span.SetAttribute("meshloop.lsa.seq", static_cast<std::int64_t>(seq));
                                 });
  if (ctx.IsSampled()) s.spf_cause = Recent{ctx, now};
}

void MeshTracer::spf_ran(mesh::NodeId self, std::size_t reachable, TimePoint now) {
  NodeState& s = state(self);
  // Only as part of a traced incident: an SPF run whose cause was not sampled is not sampled either (a root span per
  // run would be noise, and most of tracing's cost at low sampling ratios).
  if (!fresh(s.spf_cause, now)) return;
  const SpanContext parent = s.spf_cause.context;
  s.spf_cause = Recent{};
  record(*tracer_, options_.unix_offset_us, "mesh.spf", otel::trace::SpanKind::kInternal, parent, Links{}, now,
         [&](otel::trace::Span& span) {
           span.SetAttribute("meshloop.node.id", id(self));
           span.SetAttribute("meshloop.spf.reachable", static_cast<std::int64_t>(reachable));
         });
}

void MeshTracer::failover(mesh::NodeId self, mesh::NodeId lost, mesh::NodeId destination, mesh::NodeId via,
                          TimePoint now) {
  NodeState& s = state(self);
  auto down = s.down.find(lost);
  if (down == s.down.end() || !fresh(down->second, now)) return;  // only under a traced detection, as SPF runs
  record(*tracer_, options_.unix_offset_us, "mesh.failover", otel::trace::SpanKind::kInternal, down->second.context,
         Links{}, now, [&](otel::trace::Span& span) {
           span.SetAttribute("meshloop.node.id", id(self));
           span.SetAttribute("meshloop.route.destination", id(destination));
           span.SetAttribute("meshloop.route.lost_next_hop", id(lost));
           span.SetAttribute("meshloop.route.backup_next_hop", id(via));
         });
}

}  // namespace meshloop::trace
