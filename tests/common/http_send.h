// One HTTP request with any method, body and Authorization header to 127.0.0.1:port, for tests of our APIs.
#pragma once

#include <httplib.h>

#include <string>

namespace meshloop::testing {

struct HttpReply {
  int status = 0;  // 0: no reply within 10 s
  std::string body;
  std::string allow;  // the Allow header (405 replies)
};

inline HttpReply http_send(int port, const std::string& method, const std::string& path, const std::string& body = "",
                           const std::string& authorization = "") {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(10, 0);
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.body = body;
  if (!body.empty()) req.set_header("Content-Type", "application/json");
  if (!authorization.empty()) req.set_header("Authorization", authorization);
  auto r = c.send(req);
  if (!r) return {};
  return {r->status, r->body, r->get_header_value("Allow")};
}

}  // namespace meshloop::testing
