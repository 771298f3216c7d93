#include "api/server.h"

#include <httplib.h>
#include <opentelemetry/trace/provider.h>
#include <opentelemetry/trace/span_metadata.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "trace/context.h"
#include "transport/address.h"

namespace meshloop::api {

struct Server::Impl {
  httplib::Server http;
};

Response Response::json(const nlohmann::json& j, int status) {
  Response r;
  r.status = status;
  r.body = j.dump() + "\n";
  return r;
}

Response Response::error(int status, const std::string& code, const std::string& message) {
  return json({{"error", {{"code", code}, {"message", message}}}}, status);
}

Server::Server(ServerOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

Server::~Server() { stop(); }

void Server::route(const std::string& method, const std::string& path, Handler handler, Access access) {
  routes_[path][method] = Route{std::move(handler), access};
}

std::vector<std::string> Server::route_patterns() const {
  std::vector<std::string> out;
  for (const auto& kv : routes_) out.push_back(kv.first);
  return out;
}

void Server::set_observer(std::function<void(const std::string&, int, double)> observer) {
  observer_ = std::move(observer);
}

namespace {

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::string& longer = a.size() >= b.size() ? a : b;
  for (std::size_t i = 0; i < longer.size(); ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

const char* status_code_for(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthenticated";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 408: return "request_timeout";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 431: return "headers_too_large";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "error";
  }
}

}  // namespace

bool Server::is_write_allowed_from(const std::string& remote_addr, const std::string& authorization,
                                   Response* refusal) const {
  if (!options_.token.empty()) {
    const std::string prefix = "Bearer ";
    if (authorization.size() <= prefix.size() || authorization.compare(0, prefix.size(), prefix) != 0 ||
        !constant_time_equal(authorization.substr(prefix.size()), options_.token)) {
      *refusal = Response::error(401, "unauthenticated", "this route needs 'Authorization: Bearer <api token>'");
      refusal->headers["WWW-Authenticate"] = "Bearer";
      return false;
    }
    return true;
  }
  if (!transport::is_loopback_host(remote_addr)) {
    *refusal = Response::error(403, "forbidden",
                               "write routes accept loopback clients only unless an API token is configured "
                               "(--api-token or MESHLOOP_API_TOKEN)");
    return false;
  }
  return true;
}

Response Server::dispatch(const Request& request, std::string* matched) const {
  auto it = routes_.find(request.path);
  if (it == routes_.end()) {
    // Longest "/*" prefix route.
    for (auto r = routes_.rbegin(); r != routes_.rend(); ++r) {
      const std::string& p = r->first;
      if (p.size() >= 2 && p.compare(p.size() - 2, 2, "/*") == 0 &&
          request.path.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0) {
        it = routes_.find(p);
        break;
      }
    }
  }
  if (it == routes_.end()) return Response::error(404, "not_found", "no route " + request.path);
  *matched = it->first;
  std::string method = request.method == "HEAD" ? "GET" : request.method;
  auto m = it->second.find(method);
  if (m == it->second.end()) {
    std::string allow;
    for (const auto& kv : it->second) allow += (allow.empty() ? "" : ", ") + kv.first;
    Response r = Response::error(405, "method_not_allowed",
                                 request.method + " is not allowed on " + it->first + " (allowed: " + allow + ")");
    r.headers["Allow"] = allow;
    return r;
  }
  if (m->second.access == Access::kWrite) {
    Response refusal;
    if (!is_write_allowed_from(request.remote_addr, request.header("authorization"), &refusal)) return refusal;
  }
  return m->second.handler(request);
}

Status Server::start() {
  auto& http = impl_->http;
  http.set_payload_max_length(options_.max_body_bytes);
  http.set_read_timeout(options_.read_timeout.count(), 0);
  http.set_write_timeout(options_.write_timeout.count(), 0);
  http.set_keep_alive_max_count(100);
  // httplib's default also sets SO_REUSEPORT, which lets a second process bind the same port and silently share
  // (steal) its connections: two nodes configured with one HTTP port must fail loudly instead.
  http.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  auto handle = [this](const httplib::Request& req, httplib::Response& res) {
    const auto started = std::chrono::steady_clock::now();
    Request r;
    r.method = req.method;
    r.path = req.path;
    r.body = req.body;
    r.remote_addr = req.remote_addr;
    for (const auto& [k, v] : req.params) r.query[k] = v;
    for (const auto& [k, v] : req.headers) {
      std::string lower = k;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      r.headers[lower] = v;
    }
    std::size_t header_bytes = req.method.size() + req.target.size() + req.version.size() + 4;
    for (const auto& [k, v] : req.headers) header_bytes += k.size() + v.size() + 4;
    std::string matched;
    Response out;
    // One server span per request (the API's no-op tracer unless main installed the SDK), child of the caller's
    // W3C context when it sent one, and active while the handler runs.
    namespace otel_trace = opentelemetry::trace;
    auto tracer = otel_trace::Provider::GetTracerProvider()->GetTracer("meshloop.api");
    otel_trace::StartSpanOptions span_options;
    span_options.kind = otel_trace::SpanKind::kServer;
    const otel_trace::SpanContext remote = trace::extract_http(r.headers);
    if (remote.IsValid()) span_options.parent = remote;
    auto span = tracer->StartSpan("http.server.request",
                                  {{"http.request.method", r.method}, {"url.path", r.path}, {"url.scheme", "http"},
                                   {"server.port", port_.load()}},
                                  span_options);
    auto active = tracer->WithActiveSpan(span);
    if (header_bytes > options_.max_header_bytes) {
      out = Response::error(431, "headers_too_large",
                            "the request's headers take " + std::to_string(header_bytes) + " bytes; at most " +
                                std::to_string(options_.max_header_bytes) + " are accepted");
    } else {
      try {
        out = dispatch(r, &matched);
      } catch (const std::exception& e) {
        spdlog::error("http {} {}: handler failed: {}", req.method, req.path, e.what());
        out = Response::error(500, "internal", "the handler failed; see the node's log");
      }
    }
    if (!matched.empty()) span->SetAttribute("http.route", matched);
    span->SetAttribute("http.response.status_code", out.status);
    if (out.status >= 500) span->SetStatus(otel_trace::StatusCode::kError);
    span->End();
    res.status = out.status;
    for (const auto& [k, v] : out.headers) res.set_header(k, v);
    if (out.verbatim) {
      // A sized content provider is sent as is: cpp-httplib compresses set_content bodies (text, JSON) itself.
      auto body = std::make_shared<std::string>(std::move(out.body));
      res.set_content_provider(body->size(), out.content_type.c_str(),
                               [body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                 return sink.write(body->data() + offset, length);
                               });
    } else {
      res.set_content(out.body, out.content_type.c_str());
    }
    if (observer_) {
      observer_(matched, out.status,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
  };
  const std::string any = ".*";
  http.Get(any, handle);
  http.Post(any, handle);
  http.Put(any, handle);
  http.Patch(any, handle);
  http.Delete(any, handle);
  http.Options(any, handle);
  // Errors cpp-httplib answers itself, before any route (our handlers' errors already carry a body).
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                     httplib::Response& res) {
    if (!res.body.empty() || res.has_header("Content-Length")) return httplib::Server::HandlerResponse::Unhandled;
    const bool routed_method = req.method == "GET" || req.method == "HEAD" || req.method == "POST" ||
                               req.method == "PUT" || req.method == "PATCH" || req.method == "DELETE" ||
                               req.method == "OPTIONS";
    std::string msg = "the request could not be served";
    if (res.status == 413) {
      msg = "the request body is too large";
    } else if (res.status == 414) {
      msg = "the request line is too long";
    } else if (res.status == 404) {
      msg = "no route " + req.path;
    } else if (res.status == 400 && !req.path.empty() && !routed_method) {
      // A well-formed request line with a method no route serves (TRACE, CONNECT): cpp-httplib calls that 400.
      res.status = 405;
      msg = req.method + " is not served here";
    } else if (res.status == 400 && !req.path.empty()) {
      // The request line parsed but the headers did not: cpp-httplib refuses a header line over 8 KiB this way.
      res.status = 431;
      msg = "a request header line is too long or malformed";
    } else if (res.status == 400) {
      msg = "the request line is malformed";
    }
    res.set_content(Response::error(res.status, status_code_for(res.status), msg).body, "application/json");
    if (observer_) observer_("", res.status, 0.0);
    return httplib::Server::HandlerResponse::Handled;
  }));
  int port = options_.port;
  if (port == 0) {
    port = http.bind_to_any_port(options_.host);
    if (port < 0) return Status::IoError("cannot bind HTTP on " + options_.host + " (any port)");
  } else if (!http.bind_to_port(options_.host, port)) {
    return Status::IoError("cannot bind HTTP on " + options_.host + ":" + std::to_string(port) +
                           " (in use, or not a local address)");
  }
  port_ = port;
  listen_returned_ = false;
  thread_ = std::thread([this] {
    impl_->http.listen_after_bind();
    listen_returned_ = true;
  });
  return Status::Ok();
}

void Server::stop() {
  if (!thread_.joinable()) return;
  // httplib's stop() is a no-op until listen has started running: repeat it until the listener has returned.
  while (!listen_returned_) {
    if (impl_->http.is_running()) impl_->http.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  thread_.join();
}

}  // namespace meshloop::api
