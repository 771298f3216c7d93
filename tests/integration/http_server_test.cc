#include <gtest/gtest.h>

#include <stdexcept>

#include "api/client.h"
#include "api/server.h"

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
