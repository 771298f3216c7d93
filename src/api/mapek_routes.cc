#include "api/mapek_routes.h"

#include <cmath>
#include <memory>

#include "core/config.h"

namespace meshloop::api {
namespace {

using nlohmann::json;

constexpr std::size_t kDefaultIncidents = 100, kMaxIncidents = 1000;
constexpr double kMaxExpiresS = 7 * 24 * 3600.0;

Result<json> parse_object(const std::string& body, const char* shape) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(std::string("the body is not valid JSON; expected ") + shape);
  if (!j.is_object()) return Status::InvalidArgument(std::string("the body must be a JSON object ") + shape);
  return j;
}

Response status_error(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return Response::error(400, "invalid_argument", s.message());
    case StatusCode::kNotFound:
      return Response::error(404, "not_found", s.message());
    case StatusCode::kFailedPrecondition:
      return Response::error(409, "failed_precondition", s.message());
    default:
      return Response::error(503, "unavailable", s.message());
  }
}

// Runs `fn(mapek, ctx)` on the driver thread; the result travels back in a shared slot (a caller that timed out
// leaves, and the task may still run later).
template <typename T, typename Fn>
Result<T> on_driver(transport::UdpDriver& driver, Fn fn) {
  auto slot = std::make_shared<std::optional<Result<T>>>();
  Status s = driver.control([slot, fn](transport::ControlContext& ctx) { *slot = fn(ctx); });
  if (!s.ok()) return s;
  if (!*slot) return Status::Unavailable("the node did not answer");
  return std::move(**slot);
}

}  // namespace

Result<mapek::Mode> parse_mode_request(const std::string& body) {
  auto j = parse_object(body, "{\"mode\": \"observe\" | \"act\" | \"paused\"}");
  if (!j.ok()) return j.status();
  for (const auto& [k, v] : j->items()) {
    if (k != "mode") return Status::InvalidArgument("unknown field '" + k + "'; the body is {\"mode\": ...}");
  }
  if (!j->contains("mode") || !(*j)["mode"].is_string()) {
    return Status::InvalidArgument("'mode' must be one of \"observe\", \"act\", \"paused\"");
  }
  auto m = mapek::parse_mode((*j)["mode"].get<std::string>());
  if (!m) {
    return Status::InvalidArgument("unknown mode '" + (*j)["mode"].get<std::string>() +
                                   "'; expected observe, act or paused");
  }
  return *m;
}

Result<OverrideRequest> parse_override(const std::string& body) {
  auto j = parse_object(body, "{\"action\": ..., \"element\": ..., \"expires_in_s\": ...}");
  if (!j.ok()) return j.status();
  for (const auto& [k, v] : j->items()) {
    if (k != "action" && k != "element" && k != "expires_in_s") {
      return Status::InvalidArgument("unknown field '" + k + "'; expected action, element, expires_in_s");
    }
  }
  OverrideRequest r;
  if (!j->contains("element") || !(*j)["element"].is_string()) {
    return Status::InvalidArgument("'element' must be a string: \"node N\" or \"link A-B\"");
  }
  const std::string element = (*j)["element"].get<std::string>();
  auto e = mapek::parse_element(element);
  if (!e || e->a == mesh::kNoNode || (e->is_link() && (e->b == mesh::kNoNode || e->a == e->b))) {
    return Status::InvalidArgument("'element' \"" + element + "\" is not \"node N\" or \"link A-B\"");
  }
  r.element = *e;
  if (!j->contains("action") || !(*j)["action"].is_string()) {
    return Status::InvalidArgument("'action' must be a string: an action name or \"clear\"");
  }
  const std::string action = (*j)["action"].get<std::string>();
  if (action != "clear") {
    auto a = mapek::parse_action(action);
    if (!a) {
      std::string names;
      for (std::size_t k = 1; k < mapek::kActionKindCount; ++k) {
        names += std::string(k == 1 ? "" : ", ") + mapek::action_name(static_cast<mapek::ActionKind>(k));
      }
      return Status::InvalidArgument("unknown action '" + action + "'; expected clear, " + names);
    }
    if (*a != mapek::ActionKind::kNone) r.pin = *a;
  }
  if (j->contains("expires_in_s") && !(*j)["expires_in_s"].is_null()) {
    const json& x = (*j)["expires_in_s"];
    if (!x.is_number() || !std::isfinite(x.get<double>()) || x.get<double>() <= 0 || x.get<double>() > kMaxExpiresS) {
      return Status::InvalidArgument("'expires_in_s' must be a number of seconds in (0, 604800]");
    }
    r.expires_in_s = x.get<double>();
  }
  return r;
}

void add_mapek_routes(Server& server, transport::UdpDriver& driver, mapek::NodeMapek& mapek) {
  server.route("GET", "/api/v1/incidents", [&driver, &mapek](const Request& req) {
    std::size_t limit = kDefaultIncidents;
    if (auto it = req.query.find("limit"); it != req.query.end()) {
      auto n = parse_int(it->second);
      if (!n.ok() || *n < 1 || *n > static_cast<std::int64_t>(kMaxIncidents)) {
        return Response::error(400, "invalid_argument",
                               "'limit' must be a whole number in 1.." + std::to_string(kMaxIncidents));
      }
      limit = static_cast<std::size_t>(*n);
    }
    auto r = on_driver<json>(
        driver, [&mapek, limit](transport::ControlContext&) { return Result<json>(mapek.incidents_json(limit)); });
    return r.ok() ? Response::json(*r) : status_error(r.status());
  });
  server.route("GET", "/api/v1/mapek", [&driver, &mapek](const Request&) {
    auto r = on_driver<json>(
        driver, [&mapek](transport::ControlContext& ctx) { return Result<json>(mapek.state_json(ctx.now)); });
    return r.ok() ? Response::json(*r) : status_error(r.status());
  });
  server.route(
      "PUT", "/api/v1/mapek/mode",
      [&driver, &mapek](const Request& req) {
        auto mode = parse_mode_request(req.body);
        if (!mode.ok()) return status_error(mode.status());
        auto r = on_driver<json>(driver, [&mapek, m = *mode](transport::ControlContext& ctx) {
          mapek.set_mode(m, ctx.now, ctx.commands);
          return Result<json>(mapek.state_json(ctx.now));
        });
        return r.ok() ? Response::json(*r) : status_error(r.status());
      },
      Access::kWrite);
  server.route("GET", "/api/v1/mapek/overrides", [&driver, &mapek](const Request&) {
    auto r = on_driver<json>(driver, [&mapek](transport::ControlContext& ctx) {
      return Result<json>(json{{"overrides", mapek.state_json(ctx.now)["overrides"]}});
    });
    return r.ok() ? Response::json(*r) : status_error(r.status());
  });
  server.route(
      "POST", "/api/v1/mapek/overrides",
      [&driver, &mapek](const Request& req) {
        auto o = parse_override(req.body);
        if (!o.ok()) return status_error(o.status());
        auto r = on_driver<json>(driver, [&mapek, o = *o](transport::ControlContext& ctx) -> Result<json> {
          std::optional<Duration> expires;
          if (o.expires_in_s) expires = Duration{static_cast<std::int64_t>(std::llround(*o.expires_in_s * 1e6))};
          auto id = mapek.add_override(o.element, o.pin, expires, ctx.now, ctx.commands);
          if (!id.ok()) return id.status();
          const json state = mapek.state_json(ctx.now);  // named: a range-for over a temporary's member dangles
          for (const json& x : state["overrides"]) {
            if (x["id"] == *id) return json{{"override", x}};
          }
          return json{{"override", {{"id", *id}}}};
        });
        return r.ok() ? Response::json(*r, 201) : status_error(r.status());
      },
      Access::kWrite);
  server.route(
      "DELETE", "/api/v1/mapek/overrides/*",
      [&driver, &mapek](const Request& req) {
        const std::string prefix = "/api/v1/mapek/overrides/";
        const std::string text = req.path.substr(prefix.size());
        auto id = parse_int(text);
        if (text.empty() || !id.ok() || *id < 1) {
          return Response::error(400, "invalid_argument", "'" + text + "' is not an override id (a whole number >= 1)");
        }
        auto r = on_driver<json>(driver, [&mapek, id = *id](transport::ControlContext& ctx) -> Result<json> {
          Status s = mapek.remove_override(static_cast<std::uint64_t>(id), ctx.now, ctx.commands);
          if (!s.ok()) return s;
          return json{{"deleted", id}};
        });
        return r.ok() ? Response::json(*r) : status_error(r.status());
      },
      Access::kWrite);
}

}  // namespace meshloop::api
