// api::Server: the process's one HTTP server (cpp-httplib), JSON by default.
//
// Generic on purpose: components register their own routes (route()) before start(); the node adds its status and
// fault routes (node_routes.h), and later issues add /metrics, /readyz and the rest of the API the same way. The
// server answers unknown paths with 404 and known paths with the wrong method with 405 (Allow header), methods it
// does not serve at all with 405 too, every error as JSON {"error":{"code","message"}}, bounds request bodies (413),
// header lines (431: cpp-httplib refuses a line over 8 KiB) and the headers' total size (431), and read time, and
// turns a handler's exception into a 500 without stopping.
//
// cpp-httplib (Debian's 0.11, built with zlib and brotli) compresses text and JSON bodies itself when the client
// accepts gzip or br. A response that is already encoded (the gzipped /metrics) sets Response::verbatim and goes out
// byte for byte.
//
// Write routes (Access::kWrite) are guarded: with a token configured they need "Authorization: Bearer <token>"
// (401 otherwise); without one they accept loopback clients only (403 otherwise).
//
// Thread-safety: route() and set_observer() before start() only; start(), stop(), port() from any thread. Handlers
// run on the server's worker threads, concurrently: they must read shared data thread-safely (for the node, through
// UdpDriver::snapshot()/call(), which run on the driver thread).
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"

namespace meshloop::api {

struct Request {
  std::string method;
  std::string path;
  std::string body;
  std::string remote_addr;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  bool verbatim = false;  // send the body unchanged (it carries its own Content-Encoding); no compression

  static Response json(const nlohmann::json& j, int status = 200);
  // {"error":{"code": code, "message": message}}
  static Response error(int status, const std::string& code, const std::string& message);
};

using Handler = std::function<Response(const Request&)>;
enum class Access { kRead, kWrite };

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                    // 0: any free port (read it back with port())
  std::string token;               // bearer token for write routes; empty: loopback clients only
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 32 * 1024;  // request line and headers together; more is refused with 431
  std::chrono::seconds read_timeout{5};
  std::chrono::seconds write_timeout{5};
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers `handler` for `method` ("GET", "POST", ...) on the exact `path`. A path ending in "/*" matches every
  // path below it. REQUIRES: before start().
  void route(const std::string& method, const std::string& path, Handler handler, Access access = Access::kRead);
  // Called after every request with the matched route pattern ("" when none), the status and the duration,
  // including requests refused before routing (bad request line, huge headers, unknown method: route "").
  // REQUIRES: before start().
  void set_observer(std::function<void(const std::string& route, int status, double seconds)> observer);

  // Binds (the port is known when this returns) and serves on a background thread. IoError if it cannot bind.
  Status start();
  // Stops serving and joins; idempotent.
  void stop();
  int port() const { return port_.load(); }
  // The registered route patterns, sorted.
  std::vector<std::string> route_patterns() const;
  const std::string& host() const { return options_.host; }
  bool is_write_allowed_from(const std::string& remote_addr, const std::string& authorization,
                             Response* refusal) const;

 private:
  struct Route {
    Handler handler;
    Access access;
  };
  Response dispatch(const Request& request, std::string* matched) const;

  ServerOptions options_;
  std::map<std::string, std::map<std::string, Route>> routes_;  // path -> method -> route
  std::function<void(const std::string&, int, double)> observer_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<int> port_{0};
  std::atomic<bool> listen_returned_{false};
  std::thread thread_;
};

}  // namespace meshloop::api
