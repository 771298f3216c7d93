#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "api/client.h"
#include "api/server.h"
#include "common/raw_http.h"

namespace meshloop::api {
namespace {

using nlohmann::json;

std::string error_code(const HttpReply& r) { return json::parse(r.body)["error"]["code"].get<std::string>(); }

class HttpServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}) {
    server_ = std::make_unique<Server>(options);
    server_->route("GET", "/hello", [](const Request& r) {
      return Response::json({{"hello", r.query.count("name") ? r.query.at("name") : "world"}});
    });
    server_->route("POST", "/echo", [](const Request& r) { return Response::json({{"body", r.body}}); },
                   Access::kWrite);
    server_->route("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("boom"); });
    server_->route("GET", "/files/*", [](const Request& r) { return Response::json({{"path", r.path}}); });
    server_->set_observer([this](const std::string& route, int status, double) {
      std::lock_guard<std::mutex> lock(mu_);
      observed_.emplace_back(route, status);
    });
    ASSERT_TRUE(server_->start().ok());
    ASSERT_GT(server_->port(), 0);
  }
  int port() const { return server_->port(); }

  std::unique_ptr<Server> server_;
  std::mutex mu_;
  std::vector<std::pair<std::string, int>> observed_;
};

TEST_F(HttpServerTest, ServesRegisteredRoutesAsJson) {
  start();
  auto r = http_get("127.0.0.1", port(), "/hello?name=mesh");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["hello"], "mesh");
  auto f = http_get("127.0.0.1", port(), "/files/a/b");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(json::parse(f->body)["path"], "/files/a/b");
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405WithJsonErrors) {
  start();
  auto r = http_get("127.0.0.1", port(), "/nope");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(error_code(*r), "not_found");
  auto m = http_post("127.0.0.1", port(), "/hello", "{}");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, 405);
  EXPECT_EQ(error_code(*m), "method_not_allowed");
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndTheServerKeepsServing) {
  start();
  auto r = http_get("127.0.0.1", port(), "/boom");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(error_code(*r), "internal");
  EXPECT_EQ(http_get("127.0.0.1", port(), "/hello")->status, 200);
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  ServerOptions o;
  o.max_body_bytes = 1024;
  start(o);
  auto r = http_post("127.0.0.1", port(), "/echo", std::string(4096, 'x'));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(http_post("127.0.0.1", port(), "/echo", "small")->status, 200);
}

TEST_F(HttpServerTest, WriteRoutesNeedTheBearerTokenWhenOneIsConfigured) {
  ServerOptions o;
  o.token = "s3cret";
  start(o);
  auto none = http_post("127.0.0.1", port(), "/echo", "x");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(error_code(*none), "unauthenticated");
  EXPECT_EQ(http_post("127.0.0.1", port(), "/echo", "x", std::chrono::seconds(2), "wrong")->status, 401);
  EXPECT_EQ(http_post("127.0.0.1", port(), "/echo", "x", std::chrono::seconds(2), "s3cret")->status, 200);
  EXPECT_EQ(http_get("127.0.0.1", port(), "/hello")->status, 200);  // reads need no token
}

TEST_F(HttpServerTest, WithoutATokenWritesAreForLoopbackClientsOnly) {
  start();
  EXPECT_EQ(http_post("127.0.0.1", port(), "/echo", "x")->status, 200);
  Response refusal;
  EXPECT_FALSE(server_->is_write_allowed_from("10.1.2.3", "", &refusal));
  EXPECT_EQ(refusal.status, 403);
  EXPECT_TRUE(server_->is_write_allowed_from("::1", "", &refusal));
}

TEST_F(HttpServerTest, ObserverSeesRouteAndStatus) {
  start();
  (void)http_get("127.0.0.1", port(), "/hello");
  (void)http_get("127.0.0.1", port(), "/nope");
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(observed_.size(), 2u);
  EXPECT_EQ(observed_[0], (std::pair<std::string, int>{"/hello", 200}));
  EXPECT_EQ(observed_[1], (std::pair<std::string, int>{"", 404}));
}

using testing::raw_status;

TEST_F(HttpServerTest, MalformedAndUnexpectedRequestsGetProperErrorsAndServingGoesOn) {
  start();
  const std::string end = "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
  // One header line over cpp-httplib's 8 KiB limit, and many small ones over our total.
  EXPECT_EQ(raw_status(port(), "GET /hello HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n" + end), 431);
  std::string many;
  for (int i = 0; i < 400; ++i) many += "X-H" + std::to_string(i) + ": " + std::string(100, 'b') + "\r\n";
  EXPECT_EQ(raw_status(port(), "GET /hello HTTP/1.1\r\n" + many + end), 431);
  // Methods: one the path does not serve, one no route serves, one that is not HTTP.
  EXPECT_EQ(raw_status(port(), "DELETE /hello HTTP/1.1\r\n" + end), 405);
  EXPECT_EQ(raw_status(port(), "TRACE /hello HTTP/1.1\r\n" + end), 405);
  EXPECT_EQ(raw_status(port(), "BREW /hello HTTP/1.1\r\n" + end), 400);
  EXPECT_EQ(raw_status(port(), std::string("\x01\x02 garbage\r\n\r\n")), 400);
  EXPECT_EQ(raw_status(port(), "GET /" + std::string(10000, 'u') + " HTTP/1.1\r\n" + end), 414);
  EXPECT_EQ(raw_status(port(), "GET /nope HTTP/1.1\r\n" + end), 404);
  // Still serving.
  auto r = http_get("127.0.0.1", port(), "/hello");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  // Refusals before routing reach the observer too (route "").
  std::lock_guard<std::mutex> lock(mu_);
  int refused = 0;
  for (const auto& [route, status] : observed_) refused += route.empty() && status >= 400 ? 1 : 0;
  EXPECT_GE(refused, 7);
}

TEST_F(HttpServerTest, VerbatimBodiesAreSentUnchangedEvenWhenTheClientAcceptsGzip) {
  server_ = std::make_unique<Server>(ServerOptions{});
  server_->route("GET", "/text", [](const Request&) {
    Response r;
    r.body = std::string(4096, 'x');
    r.content_type = "text/plain";
    r.verbatim = true;
    return r;
  });
  ASSERT_TRUE(server_->start().ok());
  httplib::Client c("127.0.0.1", port());
  c.set_decompress(false);
  auto r = c.Get("/text", {{"Accept-Encoding", "gzip, br"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->has_header("Content-Encoding"));
  EXPECT_EQ(r->body, std::string(4096, 'x'));
}

TEST_F(HttpServerTest, StopsPromptlyEvenRightAfterStart) {
  for (int i = 0; i < 5; ++i) {
    Server s(ServerOptions{});
    ASSERT_TRUE(s.start().ok());
    s.stop();
  }
  start();
  server_->stop();
  EXPECT_FALSE(http_get("127.0.0.1", port(), "/hello", std::chrono::milliseconds(300)).ok());
}

TEST_F(HttpServerTest, BindFailureIsAnError) {
  start();
  ServerOptions o;
  o.port = port();
  Server second(o);
  EXPECT_FALSE(second.start().ok());
}

}  // namespace
}  // namespace meshloop::api
