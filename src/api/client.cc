#include "api/client.h"

#include <httplib.h>

namespace meshloop::api {
namespace {

httplib::Headers auth_headers(const std::string& token) {
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
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

}  // namespace meshloop::api
