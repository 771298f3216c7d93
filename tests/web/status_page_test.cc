// The status page is served from the binary itself: GET / is the page, GET /static/<file> its assets with their
// content types, anything else under /static/ a JSON 404; the page references only its own assets (no CDN).
#include "web/status_page.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <regex>
#include <string>

#include "web/embedded.h"

namespace meshloop::web {
namespace {

class StatusPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    add_status_page(server_);
    ASSERT_TRUE(server_.start().ok());
  }
  httplib::Result get(const std::string& path) {
    httplib::Client c("127.0.0.1", server_.port());
    return c.Get(path.c_str());
  }
  api::Server server_{api::ServerOptions{}};
};

TEST_F(StatusPageTest, ServesThePageAtTheRoot) {
  auto r = get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r->body.find("<svg id=\"topology\""), std::string::npos);
  EXPECT_NE(r->body.find("/static/status.js"), std::string::npos);
}

TEST_F(StatusPageTest, ServesEveryAssetThePageReferencesWithItsType) {
  const std::string page = get("/")->body;
  const std::regex ref(R"re((?:src|href)="(/static/[^"]+)")re");
  int refs = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), ref); it != std::sregex_iterator(); ++it, ++refs) {
    auto r = get((*it)[1]);
    ASSERT_TRUE(r) << (*it)[1];
    EXPECT_EQ(r->status, 200) << (*it)[1];
    EXPECT_FALSE(r->body.empty());
  }
  EXPECT_EQ(refs, 2);  // status.css and status.js
  EXPECT_EQ(get("/static/status.js")->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(get("/static/status.css")->get_header_value("Content-Type"), "text/css; charset=utf-8");
  // Nothing from another origin: the page must work on a mesh without Internet access.
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
}

TEST_F(StatusPageTest, TheEmbeddedBytesAreTheFilesUnderWeb) {
  for (const EmbeddedFile& f : embedded_files()) {
    auto r = f.path == "index.html" ? get("/") : get("/static/" + std::string(f.path));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, std::string(f.bytes)) << f.path;
  }
  EXPECT_EQ(embedded_files().size(), 3u);
}

TEST_F(StatusPageTest, UnknownAssetsAreJsonNotFound) {
  for (const char* path : {"/static/nope.js", "/static/", "/static/index.html", "/static/../CMakeLists.txt"}) {
    auto r = get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_NE(r->body.find("\"error\""), std::string::npos) << path;
  }
}

}  // namespace
}  // namespace meshloop::web
