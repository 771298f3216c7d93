#include "trace/otlp_json.h"

#include <opentelemetry/sdk/resource/resource.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

namespace meshloop::trace {
namespace {

namespace sdk_trace = opentelemetry::sdk::trace;
using opentelemetry::sdk::common::OwnedAttributeValue;
using nlohmann::json;

std::string hex(const std::uint8_t* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[p[i] >> 4];
    s[2 * i + 1] = kDigits[p[i] & 15];
  }
  return s;
}
std::string hex(const opentelemetry::trace::TraceId& id) { return hex(id.Id().data(), id.Id().size()); }
std::string hex(const opentelemetry::trace::SpanId& id) { return hex(id.Id().data(), id.Id().size()); }

json any_value(const OwnedAttributeValue& v) {
  return opentelemetry::nostd::visit(
      [](const auto& x) -> json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return json{{"boolValue", x}};
        } else if constexpr (std::is_same_v<T, double>) {
          return json{{"doubleValue", x}};
        } else if constexpr (std::is_same_v<T, std::string>) {
          return json{{"stringValue", x}};
        } else if constexpr (std::is_integral_v<T>) {
          return json{{"intValue", std::to_string(x)}};
        } else if constexpr (std::is_same_v<T, std::vector<std::uint8_t>>) {
          return json{{"stringValue", hex(x.data(), x.size())}};
        } else {  // arrays
          json values = json::array();
          for (const auto& e : x) {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, std::string>) {
              values.push_back(json{{"stringValue", e}});
            } else if constexpr (std::is_same_v<E, double>) {
              values.push_back(json{{"doubleValue", e}});
            } else if constexpr (std::is_same_v<E, bool>) {
              values.push_back(json{{"boolValue", static_cast<bool>(e)}});
            } else {
              values.push_back(json{{"intValue", std::to_string(e)}});
            }
          }
          return json{{"arrayValue", json{{"values", values}}}};
        }
      },
      v);
}

template <typename Map>
json attributes(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : map) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  json out = json::array();
  for (const auto& k : keys) out.push_back(json{{"key", k}, {"value", any_value(map.at(k))}});
  return out;
}

std::uint64_t nanos(opentelemetry::common::SystemTimestamp t) {
  return static_cast<std::uint64_t>(t.time_since_epoch().count());
}

json span_json(const sdk_trace::SpanData& s) {
  json j;
  j["traceId"] = hex(s.GetTraceId());
  j["spanId"] = hex(s.GetSpanId());
  if (s.GetParentSpanId().IsValid()) j["parentSpanId"] = hex(s.GetParentSpanId());
  j["name"] = std::string(s.GetName());
  j["kind"] = static_cast<int>(s.GetSpanKind()) + 1;  // OTLP's SpanKind counts from UNSPECIFIED = 0
  const std::uint64_t start = nanos(s.GetStartTime());
  j["startTimeUnixNano"] = std::to_string(start);
  j["endTimeUnixNano"] = std::to_string(start + static_cast<std::uint64_t>(s.GetDuration().count()));
  j["attributes"] = attributes(s.GetAttributes());
  json links = json::array();
  for (const auto& l : s.GetLinks()) {
    links.push_back(json{{"traceId", hex(l.GetSpanContext().trace_id())},
                         {"spanId", hex(l.GetSpanContext().span_id())},
                         {"attributes", attributes(l.GetAttributes())}});
  }
  j["links"] = links;
  json events = json::array();
  for (const auto& e : s.GetEvents()) {
    events.push_back(json{{"name", e.GetName()},
                          {"timeUnixNano", std::to_string(nanos(e.GetTimestamp()))},
                          {"attributes", attributes(e.GetAttributes())}});
  }
  j["events"] = events;
  json status = json::object();
  switch (s.GetStatus()) {
    case opentelemetry::trace::StatusCode::kOk:
      status["code"] = 1;
      break;
    case opentelemetry::trace::StatusCode::kError:
      status["code"] = 2;
      status["message"] = std::string(s.GetDescription());
      break;
    default:
      break;
  }
  j["status"] = status;
  return j;
}

}  // namespace

json otlp_json_request(std::span<const std::unique_ptr<sdk_trace::SpanData>> spans) {
  struct Scope {
    const opentelemetry::sdk::instrumentationscope::InstrumentationScope* scope;
    json spans = json::array();
  };
  struct Group {
    const opentelemetry::sdk::resource::Resource* resource;
    std::vector<Scope> scopes;
  };
  std::vector<Group> groups;
  for (const auto& s : spans) {
    if (!s) continue;
    const auto* resource = &s->GetResource();
    const auto* scope = &s->GetInstrumentationScope();
    auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.resource == resource; });
    if (g == groups.end()) g = groups.insert(groups.end(), Group{resource, {}});
    auto sc = std::find_if(g->scopes.begin(), g->scopes.end(), [&](const Scope& x) { return x.scope == scope; });
    if (sc == g->scopes.end()) sc = g->scopes.insert(g->scopes.end(), Scope{scope});
    sc->spans.push_back(span_json(*s));
  }
  json resource_spans = json::array();
  for (auto& g : groups) {
    json scope_spans = json::array();
    for (auto& sc : g.scopes) {
      json scope{{"name", sc.scope->GetName()}};
      if (!sc.scope->GetVersion().empty()) scope["version"] = sc.scope->GetVersion();
      scope_spans.push_back(json{{"scope", scope}, {"spans", std::move(sc.spans)}});
    }
    resource_spans.push_back(
        json{{"resource", json{{"attributes", attributes(g.resource->GetAttributes())}}}, {"scopeSpans", scope_spans}});
  }
  return json{{"resourceSpans", resource_spans}};
}

}  // namespace meshloop::trace
