#include "api/client.h"

#include <httplib.h>

#include <map>
#include <opentelemetry/context/runtime_context.h>
#include <opentelemetry/trace/context.h>

#include "trace/context.h"

namespace meshloop::api {
namespace {

httplib::Headers auth_headers(const std::string& token) {
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  // W3C trace context of the caller's active span, if any (a no-op without tracing).
  std::map<std::string, std::string> trace_headers;
  trace::inject_http(
      opentelemetry::trace::GetSpan(opentelemetry::context::RuntimeContext::GetCurrent())->GetContext(),
      trace_headers);
  for (auto& [k, v] : trace_headers) h.emplace(k, v);
  return h;
}

void configure(httplib::Client& c, std::chrono::milliseconds timeout) {
  const auto s = timeout.count() / 1000;
  const auto us = (timeout.count() % 1000) * 1000;
  c.set_connection_timeout(s, us);
  c.set_read_timeout(s, us);
  c.set_write_timeout(s, us);
  c.set_keep_alive(false);
}

Result<HttpReply> reply(const httplib::Result& r, const std::string& what) {
  if (!r) return Status::Unavailable(what + ": " + httplib::to_string(r.error()));
  return HttpReply{r->status, r->body};
}

}  // namespace

Result<HttpReply> http_get(const std::string& host, int port, const std::string& path,
                           std::chrono::milliseconds timeout, const std::string& token) {
  httplib::Client c(host, port);
  configure(c, timeout);
  return reply(c.Get(path.c_str(), auth_headers(token)), "GET http://" + host + ":" + std::to_string(port) + path);
}

Result<HttpReply> http_post(const std::string& host, int port, const std::string& path, const std::string& json_body,
                            std::chrono::milliseconds timeout, const std::string& token) {
  httplib::Client c(host, port);
  configure(c, timeout);
  return reply(c.Post(path.c_str(), auth_headers(token), json_body, "application/json"),
               "POST http://" + host + ":" + std::to_string(port) + path);
}

namespace {

std::string error_message(const HttpReply& r) {
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.contains("error") && j["error"].contains("message")) {
    return j["error"]["message"].get<std::string>();
  }
  return r.body;
}

}  // namespace

Result<nlohmann::json> get_status(const std::string& host, int port, std::chrono::milliseconds timeout) {
  auto r = http_get(host, port, "/api/v1/status", timeout);
  if (!r.ok()) return r.status();
  if (r->status != 200) return Status::Unavailable("status " + std::to_string(r->status) + ": " + error_message(*r));
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return Status::Corruption("the status reply is not JSON");
  return j;
}

Status set_drop(const std::string& host, int port, const std::string& peer, bool drop, const std::string& token,
                std::chrono::milliseconds timeout) {
  nlohmann::json body = {{"drop", drop}};
  const bool numeric = !peer.empty() && peer.find_first_not_of("0123456789") == std::string::npos;
  if (numeric) {
    body["peer"] = std::stoull(peer);
  } else {
    body["peer"] = peer;
  }
  auto r = http_post(host, port, "/api/v1/faults/drop", body.dump(), timeout, token);
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return Status::FailedPrecondition("drop " + peer + ": HTTP " + std::to_string(r->status) + ": " +
                                      error_message(*r));
  }
  return Status::Ok();
}

}  // namespace meshloop::api
