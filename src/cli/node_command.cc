// `meshloop node`: one mesh node on UDP, with its HTTP API and optional built-in traffic.
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>

#include "api/mapek_routes.h"
#include "api/metrics.h"
#include "api/node_routes.h"
#include "api/server.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/trace_setup.h"
#include "core/log.h"
#include "core/version.h"
#include "mapek/node_mapek.h"
#include "obs/mapek_metrics.h"
#include "obs/rag_metrics.h"
#include "obs/trace_metrics.h"
#include "rag/served_kb.h"
#include "trace/mesh_tracer.h"
#include "transport/udp_driver.h"
#include "web/status_page.h"

namespace meshloop::cli {
namespace {

constexpr const char* kDefaultMeshKey = "meshloop-default-key";

struct NodeFlags {
  std::vector<std::string> peers;    // --peer, repeatable (comma lists allowed)
  std::vector<std::string> traffic;  // --traffic, repeatable
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

// Builds the driver's and the server's options from the merged configuration; every error names its key.
// The knowledge base served on the HTTP server: kb.path ("" in memory, "off" none), kb.runbooks ("off" none).
struct KbSettings {
  bool enabled = true;
  rag::ServedKnowledgeBaseOptions options;
};

// The node's MAPE-K loop: mapek.mode, mapek.max_actions / mapek.rate_window (the per-node rate limit),
// mapek.model, mapek.knowledge, mapek.interval (tick) and mapek.window (observation window).
Status build_mapek_options(const Config& c, mapek::NodeMapekOptions* m, Duration* interval) {
  const std::string mode_text = c.get_string("mapek.mode", "act");
  auto mode = mapek::parse_mode(mode_text);
  if (!mode) return Status::InvalidArgument("mapek.mode = '" + mode_text + "': expected observe, act or paused");
  m->loop.mode = *mode;
  auto max_actions = c.get_int("mapek.max_actions", m->loop.node_max_actions);
  if (!max_actions.ok()) return max_actions.status();
  if (*max_actions < 0 || *max_actions > 1000) return Status::InvalidArgument("mapek.max_actions must be in 0..1000");
  m->loop.node_max_actions = static_cast<int>(*max_actions);
  auto rate_window = c.get_duration("mapek.rate_window", m->loop.rate_window);
  if (!rate_window.ok()) return rate_window.status();
  if (*rate_window < seconds(1) || *rate_window > seconds(24 * 3600)) {
    return Status::InvalidArgument("mapek.rate_window must be between 1s and 24h");
  }
  m->loop.rate_window = *rate_window;
  auto window = c.get_duration("mapek.window", m->window);
  if (!window.ok()) return window.status();
  if (*window < milliseconds(500) || *window > seconds(600)) {
    return Status::InvalidArgument("mapek.window must be between 500ms and 10m");
  }
  m->window = *window;
  m->loop.verify_after = *window;  // an action is judged on the first full window after it
  auto tick = c.get_duration("mapek.interval", seconds(1));
  if (!tick.ok()) return tick.status();
  if (*tick < milliseconds(10) || *tick > *window) {
    return Status::InvalidArgument("mapek.interval must be between 10ms and mapek.window");
  }
  *interval = *tick;
  m->model_path = c.get_string("mapek.model", "");
  m->knowledge_path = c.get_string("mapek.knowledge", "");
  if (m->knowledge_path == "memory" || m->knowledge_path == "none") m->knowledge_path.clear();
  return Status::Ok();
}

double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

Status build_options(const Config& c, transport::DriverOptions* d, api::ServerOptions* http, bool* http_enabled,
                     std::string* log_level, KbSettings* kb) {
  *log_level = c.get_string("log.level", "info");
  auto id = c.get_int("node.id", 0);
  if (!id.ok()) return id.status();
  if (*id <= 0 || *id > 0xFFFFFFFFLL) {
    return Status::InvalidArgument(c.has("node.id") ? "node.id must be a whole number in 1..4294967295"
                                                    : "a node id is required: --id N (or node.id, MESHLOOP_NODE_ID)");
  }
  d->id = static_cast<mesh::NodeId>(*id);
  auto listen = transport::parse_host_port(c.get_string("node.listen", "127.0.0.1:7000"), true);
  if (!listen.ok()) return Status::InvalidArgument("node.listen: " + listen.status().message());
  d->listen = *listen;
  for (const auto& p : c.get_list("mesh.peers")) {
    auto hp = transport::parse_host_port(p);
    if (!hp.ok()) return Status::InvalidArgument("mesh.peers: " + hp.status().message());
    d->peers.push_back(*hp);
  }
  for (const auto& t : c.get_list("traffic")) {
    auto spec = transport::parse_traffic_spec(t);
    if (!spec.ok()) return Status::InvalidArgument("traffic: " + spec.status().message());
    d->traffic.push_back(*spec);
  }
  auto hello = c.get_duration("mesh.hello_interval", d->node.hello_interval);
  if (!hello.ok()) return hello.status();
  if (*hello < milliseconds(1) || *hello > seconds(60)) {
    return Status::InvalidArgument("mesh.hello_interval must be between 1ms and 60s");
  }
  d->node.hello_interval = *hello;
  auto mult = c.get_int("mesh.dead_multiplier", d->node.dead_multiplier);
  if (!mult.ok()) return mult.status();
  if (*mult < 2 || *mult > 100) return Status::InvalidArgument("mesh.dead_multiplier must be between 2 and 100");
  d->node.dead_multiplier = static_cast<int>(*mult);
  d->node.mesh_key = c.get_string("mesh.key", kDefaultMeshKey);
  if (d->node.mesh_key.empty()) return Status::InvalidArgument("mesh.key must not be empty");
  d->node.boot_epoch = static_cast<std::uint32_t>(std::time(nullptr));
  d->rng_seed = (static_cast<std::uint64_t>(d->id) << 32) ^ d->node.boot_epoch;
  d->handle_signals = true;

  const std::string http_text = c.get_string("http.listen", "");
  *http_enabled = http_text != "off" && http_text != "none";
  if (*http_enabled) {
    if (http_text.empty()) {
      // Derived from the UDP port so that nodes on one host never collide.
      if (d->listen.port == 0) {
        http->port = 0;
      } else if (d->listen.port + 1000 > 65535) {
        return Status::InvalidArgument("cannot derive the HTTP port from UDP port " + std::to_string(d->listen.port) +
                                       " (+1000 > 65535): set --http-listen");
      } else {
        http->port = d->listen.port + 1000;
      }
      http->host = "127.0.0.1";
    } else {
      auto hp = transport::parse_host_port(http_text, true);
      if (!hp.ok()) return Status::InvalidArgument("http.listen: " + hp.status().message());
      http->host = hp->host;
      http->port = hp->port;
    }
  }
  http->token = c.get_string("api.token", "");
  const std::string kb_path = c.get_string("kb.path", "");
  kb->enabled = kb_path != "off" && kb_path != "none";
  kb->options.path = kb_path == "memory" ? "" : kb_path;
  const std::string runbooks = c.get_string("kb.runbooks", "");
  kb->options.runbooks = runbooks != "off" && runbooks != "none";
  kb->options.runbook_dir = kb->options.runbooks ? runbooks : "";
  return Status::Ok();
}

int run_node(const Config& config) {
  transport::DriverOptions options;
  api::ServerOptions http;
  bool http_enabled = true;
  std::string log_level;
  KbSettings kb_settings;
  mapek::NodeMapekOptions mapek_options;
  Status s = build_options(config, &options, &http, &http_enabled, &log_level, &kb_settings);
  if (s.ok()) s = build_mapek_options(config, &mapek_options, &options.control_interval);
  // Write routes change routing: on an address others can reach, only a token may open them.
  if (s.ok() && http_enabled && !transport::is_loopback_host(http.host) && http.token.empty()) {
    s = Status::InvalidArgument("http.listen " + http.host +
                                " is not a loopback address and no api.token is set: refusing to serve write routes "
                                "to the network unauthenticated (set --api-token or MESHLOOP_API_TOKEN, or listen on "
                                "127.0.0.1)");
  }
  if (s.ok()) s = init_logging(log_level, "node");
  if (!s.ok()) {
    std::cerr << "meshloop node: " << s.message() << "\n";
    return 2;
  }
  if (options.node.mesh_key == kDefaultMeshKey) {
    spdlog::warn("using the built-in default mesh key: anyone can join this mesh; set --key or MESHLOOP_MESH_KEY");
  }
  if (options.peers.empty()) spdlog::warn("no peers configured (--peer host:port): this node will stay alone");
  // Metrics are served on the HTTP server; without it they would have no reader, so they are not kept either.
  std::unique_ptr<api::NodeMetrics> metrics;
  transport::UdpDriver::Callbacks callbacks;
  if (http_enabled) {
    metrics =
        std::make_unique<api::NodeMetrics>(options.id, options.node.hello_interval * options.node.dead_multiplier);
    callbacks.observer = metrics.get();
  }
  // The MAPE-K loop, ticked on the driver thread (its commands applied to the node there).
  std::unique_ptr<obs::MapekMetrics> mapek_metrics;
  if (metrics)
    mapek_metrics = std::make_unique<obs::MapekMetrics>(metrics->registry(), mapek::diagnosis_names(),
                                                        mapek::action_names(), mapek::final_outcome_names());
  mapek_options.self = options.id;
  mapek_options.configured_links = options.peers.size();
  {
    const auto steady_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    mapek_options.unix_offset_us = transport::unix_now_us() - steady_us;
  }
  auto node_mapek = std::make_unique<mapek::NodeMapek>(mapek_options, mapek_metrics.get());
  spdlog::info("mapek: mode {}, detector {}, at most {} actions per {}s", mapek::mode_name(node_mapek->mode()),
               node_mapek->loop().detector_name(), mapek_options.loop.node_max_actions,
               to_seconds(mapek_options.loop.rate_window));
  callbacks.control = [m = node_mapek.get()](transport::ControlContext& ctx) {
    mapek::NodeSample sample{ctx.node.telemetry(ctx.now), ctx.data_tx_bytes, process_cpu_seconds()};
    const mesh::Node& node = ctx.node;
    m->tick(
        sample, [&node](mesh::NodeId d) { return node.next_hop(d) != mesh::kNoNode; }, ctx.commands);
  };
  // Tracing, before the driver and the server (both use it) and after the metrics its callbacks feed.
  std::unique_ptr<obs::TraceMetrics> trace_metrics;
  trace::Callbacks trace_callbacks;
  if (metrics) {
    trace_metrics = std::make_unique<obs::TraceMetrics>(metrics->registry());
    trace_callbacks.on_dropped = [m = trace_metrics.get()](std::uint64_t n) { m->dropped(n); };
    trace_callbacks.on_exported = [m = trace_metrics.get()](std::uint64_t n) { m->exported(n); };
  }
  trace::TracingConfig trace_defaults;
  trace_defaults.file =
      (std::filesystem::temp_directory_path() / ("meshloop-node-" + std::to_string(options.id) + ".traces.jsonl"))
          .string();
  auto tracing = make_tracing(config, trace_defaults,
                              trace::ResourceInfo{std::to_string(options.id), trace::local_host_name(), version()},
                              std::move(trace_callbacks));
  if (!tracing.ok()) {
    spdlog::error("{}", tracing.status().message());
    return tracing.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  (*tracing)->install_global();
  std::unique_ptr<trace::MeshTracer> mesh_tracer;
  if ((*tracing)->enabled()) {
    // The driver's TimePoints are steady-clock microseconds: spans get wall time through this offset.
    const auto steady_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    mesh_tracer = std::make_unique<trace::MeshTracer>((*tracing)->tracer("meshloop.mesh"),
                                                      trace::MeshTracerOptions{transport::unix_now_us() - steady_us});
    callbacks.trace_hooks = mesh_tracer.get();
  }
  auto driver = transport::UdpDriver::create(options, callbacks);
  if (!driver.ok()) {
    spdlog::error("{}", driver.status().message());
    return driver.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  // Declared before the server so that they outlive the server's use of its routes.
  std::unique_ptr<obs::RagMetrics> rag_metrics;
  std::unique_ptr<rag::ServedKnowledgeBase> kb;
  std::unique_ptr<api::Server> server;
  if (http_enabled) {
    server = std::make_unique<api::Server>(http);
    api::add_node_routes(*server, **driver);
    web::add_status_page(*server);
    api::add_mapek_routes(*server, **driver, *node_mapek);
    metrics->attach(*server);
    if (kb_settings.enabled) {
      rag_metrics = std::make_unique<obs::RagMetrics>(
          metrics->registry(), std::vector<std::string>{rag::search_mode_name(rag::SearchMode::kHybrid),
                                                        rag::search_mode_name(rag::SearchMode::kVector),
                                                        rag::search_mode_name(rag::SearchMode::kKeyword)});
      kb_settings.options.metrics = rag_metrics.get();
      kb = std::make_unique<rag::ServedKnowledgeBase>(kb_settings.options);
      kb->register_routes(*server);
    }
    if (Status bound = server->start(); !bound.ok()) {
      spdlog::error("{}", bound.message());
      return 1;
    }
    spdlog::info("http api on http://{}:{}",
                 http.host.find(':') != std::string::npos ? "[" + http.host + "]" : http.host, server->port());
    if (kb) kb->start();  // opened in the background: the mesh and the rest of the API do not wait for it
  }
  (*driver)->start();
  (*driver)->wait();
  if (server) server->stop();
  node_mapek->flush();  // the driver thread has stopped: the loop is ours now
  return 0;
}

}  // namespace

void add_node_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("node", "Run one mesh node on UDP, with its HTTP API and optional test traffic");
  cmd->footer(
      "Peers are listed by address; a peer's position in the list is its port. The HTTP API (docs/api.md: /healthz, "
      "/readyz, /metrics, /api/v1/{status,topology,routes,incidents,mapek,...}, the KB routes) listens on 127.0.0.1 "
      "at the UDP port + 1000 unless --http-listen says otherwise ('off' disables it; port 0 picks a free port and "
      "logs it; a non-loopback address requires --api-token). The node runs its MAPE-K loop (--mapek-mode). "
      "SIGINT/SIGTERM stop the node cleanly.");
  auto options = std::make_shared<LayeredOptions>(*cmd);
  auto flags = std::make_shared<NodeFlags>();
  options->add("node.id", "--id", "This node's id (1..4294967295), unique in the mesh");
  options->add("node.listen", "--listen", "UDP address to bind, host:port", "127.0.0.1:7000");
  options->add_key("mesh.peers");
  cmd->add_option("--peer", flags->peers,
                  "A peer's UDP address host:port; repeat it or give a comma list [MESHLOOP_MESH_PEERS; "
                  "mesh.peers in YAML]")
      ->delimiter(',');
  options->add("mesh.key", "--key", "Mesh pre-shared key (HMAC-SHA256); every node needs the same", "a built-in key");
  options->add("mesh.hello_interval", "--hello-interval", "Hello interval", "100ms");
  options->add("mesh.dead_multiplier", "--dead-multiplier", "Silent hello intervals before a neighbour is down", "3");
  options->add("http.listen", "--http-listen", "HTTP API address host:port, or 'off'", "127.0.0.1:<UDP port + 1000>");
  options->add("api.token", "--api-token",
               "Bearer token that write routes require (else loopback clients only); required when --http-listen is "
               "not a loopback address");
  options->add("mapek.mode", "--mapek-mode", "MAPE-K loop mode: act, observe (decide, change nothing) or paused",
               "act");
  options->add("mapek.max_actions", "--mapek-max-actions", "MAPE-K actions allowed per rate window on this node", "4");
  options->add("mapek.rate_window", "--mapek-rate-window", "MAPE-K rate-limit window", "60s");
  options->add("mapek.model", "--mapek-model",
               "GraphSAGE model file for the loop's detector (absent or refused: learned thresholds)", "none");
  options->add("mapek.knowledge", "--mapek-knowledge",
               "Knowledge file of the loop's incidents and outcomes (crash-safe writes); 'memory' keeps none",
               "memory");
  options->add("mapek.window", "--mapek-window", "MAPE-K observation window", "5s");
  options->add("mapek.interval", "--mapek-interval", "MAPE-K tick (overrides expire, actions are verified)", "1s");
  options->add("kb.path", "--kb",
               "Knowledge-base file served on the HTTP API (loaded, or created; saved after every add); 'memory' "
               "keeps it in memory, 'off' disables the KB routes",
               "memory");
  options->add("kb.runbooks", "--runbooks", "Runbook directory a new knowledge base starts with, or 'off'",
               "docs/runbooks (or MESHLOOP_RUNBOOKS)");
  options->add_key("traffic");
  cmd->add_option("--traffic", flags->traffic,
                  "Send test traffic DST_ID:RATE (packets/s); repeatable [MESHLOOP_TRAFFIC; traffic in YAML]");
  options->add("log.level", "--log-level", "trace, debug, info, warn, error or off", "info");
  add_trace_options(*options, "on");
  cmd->callback([cmd, options, flags] {
    auto config = options->resolve();
    if (!config.ok()) {
      std::cerr << "meshloop node: " << config.status().message() << "\n";
      exit_code() = 2;
      return;
    }
    if (!flags->peers.empty()) config->set("mesh.peers", join(flags->peers), "flag --peer");
    if (!flags->traffic.empty()) config->set("traffic", join(flags->traffic), "flag --traffic");
    (void)cmd;
    exit_code() = run_node(*config);
  });
}

}  // namespace meshloop::cli
