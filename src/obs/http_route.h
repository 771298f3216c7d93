// Serving an obs::Exposition from cpp-httplib. Header-only on purpose: the metrics library does not link the HTTP
// server (STYLE.md); code that already uses cpp-httplib includes this.
//
// Why a sized content provider rather than Response::set_content: Debian's cpp-httplib 0.11 is built with zlib and
// brotli and compresses every text/* body itself whenever the request's Accept-Encoding merely contains "gzip" or
// "br" (even with q=0), and it does so again on a body we already compressed (two Content-Encoding headers, a
// doubly gzipped body). A sized content provider is sent as is, so the encoding we negotiated is the one on the wire.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "obs/exposition.h"

namespace meshloop::obs {

// Writes `rendered` into `res` so that cpp-httplib sends it unchanged.
inline void write_rendered(Rendered rendered, httplib::Response& res) {
  auto body = std::make_shared<std::string>(std::move(rendered.body));
  if (!rendered.content_encoding.empty()) res.set_header("Content-Encoding", rendered.content_encoding);
  res.set_header("Vary", "Accept-Encoding");
  res.set_content_provider(body->size(), rendered.content_type.c_str(),
                           [body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                             return sink.write(body->data() + offset, length);
                           });
}

// GET `path` on `server` serves `exposition`. REQUIRES: `exposition` outlives the server's serving.
inline void register_metrics_route(httplib::Server& server, const Exposition& exposition,
                                   const std::string& path = "/metrics") {
  server.Get(path, [&exposition](const httplib::Request& req, httplib::Response& res) {
    write_rendered(exposition.render(req.get_header_value("Accept-Encoding")), res);
  });
}

}  // namespace meshloop::obs
