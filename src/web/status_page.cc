#include "web/status_page.h"

#include <string>
#include <string_view>

#include "web/embedded.h"

namespace meshloop::web {

namespace {

std::string content_type(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

api::Response file_response(const EmbeddedFile& f) {
  api::Response r;
  r.body = std::string(f.bytes);
  r.content_type = content_type(f.path);
  // The page changes with the binary only; revalidating is cheap and never serves a stale page after an upgrade.
  r.headers["Cache-Control"] = "no-cache";
  r.headers["X-Content-Type-Options"] = "nosniff";
  return r;
}

const EmbeddedFile* find(std::string_view path) {
  for (const EmbeddedFile& f : embedded_files()) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

}  // namespace

void add_status_page(api::Server& server) {
  server.route("GET", "/", [](const api::Request&) {
    const EmbeddedFile* index = find("index.html");
    if (index == nullptr) return api::Response::error(500, "internal", "status page not embedded");
    return file_response(*index);
  });
  server.route("GET", "/static/*", [](const api::Request& req) {
    constexpr std::string_view kPrefix = "/static/";
    const std::string_view path(req.path);
    const EmbeddedFile* f = path.size() > kPrefix.size() ? find(path.substr(kPrefix.size())) : nullptr;
    if (f == nullptr || f->path == "index.html") {
      return api::Response::error(404, "not_found", "no static file '" + req.path + "'");
    }
    return file_response(*f);
  });
}

}  // namespace meshloop::web
