#include "transport/local_mesh.h"

#include <signal.h>

#include <cstdlib>
#include <set>

namespace meshloop::transport {

std::vector<std::pair<mesh::NodeId, mesh::NodeId>> ring_with_chords(int n) {
  std::vector<std::pair<mesh::NodeId, mesh::NodeId>> links;
  std::set<std::pair<mesh::NodeId, mesh::NodeId>> seen;
  auto add = [&](int a, int b) {
    const auto x = static_cast<mesh::NodeId>(std::min(a, b) + 1);
    const auto y = static_cast<mesh::NodeId>(std::max(a, b) + 1);
    if (x != y && seen.insert({x, y}).second) links.emplace_back(x, y);
  };
  if (n < 2) return links;
  for (int i = 0; i < n; ++i) add(i, (i + 1) % n);
  if (n >= 4) {
    for (int i = 0; i < n / 2; ++i) add(i, i + n / 2);
  }
  return links;
}

LocalMesh::LocalMesh(Options options) : options_(std::move(options)) {}

LocalMesh::~LocalMesh() { stop_all(); }

Status LocalMesh::add_node(mesh::NodeId id) {
  if (nodes_.count(id) != 0) return Status::AlreadyExists("node " + std::to_string(id) + " is already planned");
  auto udp = free_udp_port();
  if (!udp.ok()) return udp.status();
  auto http = free_tcp_port();
  if (!http.ok()) return http.status();
  LocalNode n;
  n.id = id;
  n.udp = HostPort{"127.0.0.1", *udp};
  n.http_port = *http;
  n.log_path = options_.work_dir + "/node-" + std::to_string(id) + ".log";
  nodes_.emplace(id, std::move(n));
  return Status::Ok();
}

Status LocalMesh::link(mesh::NodeId a, mesh::NodeId b) {
  if (nodes_.count(a) == 0 || nodes_.count(b) == 0 || a == b) {
    return Status::InvalidArgument("cannot link " + std::to_string(a) + " and " + std::to_string(b));
  }
  nodes_[a].peers.push_back(b);
  nodes_[b].peers.push_back(a);
  links_.emplace_back(std::min(a, b), std::max(a, b));
  return Status::Ok();
}

void LocalMesh::add_traffic(mesh::NodeId from, TrafficSpec spec) { nodes_.at(from).traffic.push_back(spec); }

void LocalMesh::set_key(mesh::NodeId id, std::string key) { nodes_.at(id).key = std::move(key); }

std::vector<std::string> LocalMesh::command_line(mesh::NodeId id) const {
  const LocalNode& n = nodes_.at(id);
  std::vector<std::string> argv = {options_.binary,
                                   "node",
                                   "--id",
                                   std::to_string(id),
                                   "--listen",
                                   to_string(n.udp),
                                   "--http-listen",
                                   "127.0.0.1:" + std::to_string(n.http_port),
                                   "--hello-interval",
                                   std::to_string(options_.hello_interval.count()) + "us",
                                   "--dead-multiplier",
                                   std::to_string(options_.dead_multiplier),
                                   "--log-level",
                                   options_.log_level};
  for (mesh::NodeId p : n.peers) {
    argv.push_back("--peer");
    argv.push_back(to_string(nodes_.at(p).udp));
  }
  for (const auto& t : n.traffic) {
    argv.push_back("--traffic");
    argv.push_back(std::to_string(t.destination) + ":" + std::to_string(t.rate_pps));
  }
  for (std::string a : options_.extra_args) {
    for (auto at = a.find("{id}"); at != std::string::npos; at = a.find("{id}", at))
      a.replace(at, 4, std::to_string(id));
    argv.push_back(std::move(a));
  }
  return argv;
}

Status LocalMesh::start(mesh::NodeId id) {
  LocalNode& n = nodes_.at(id);
  if (n.process.running()) return Status::FailedPrecondition("node " + std::to_string(id) + " is already running");
  SpawnOptions spawn;
  spawn.argv = command_line(id);
  spawn.output_path = n.log_path;
  // The key travels in the environment, not on the command line (ps shows argv to every user).
  spawn.env.push_back("MESHLOOP_MESH_KEY=" + (n.key.empty() ? options_.key : n.key));
  spawn.own_process_group = true;
  auto child = ChildProcess::spawn(spawn);
  if (!child.ok()) return child.status();
  n.process = std::move(child).value();
  ++n.starts;
  return Status::Ok();
}

Status LocalMesh::start_all() {
  for (auto& [id, n] : nodes_) {
    if (Status s = start(id); !s.ok()) return s;
  }
  return Status::Ok();
}

void LocalMesh::kill(mesh::NodeId id, int signo) {
  LocalNode& n = nodes_.at(id);
  n.process.signal(signo);
  n.process.wait_for(std::chrono::seconds(5));
}

bool LocalMesh::running(mesh::NodeId id) { return nodes_.at(id).process.running(); }

void LocalMesh::stop_all() {
  for (auto& [id, n] : nodes_) n.process.signal(SIGTERM);
  for (auto& [id, n] : nodes_) n.process.terminate(std::chrono::milliseconds(3000));
}

Result<std::string> make_temp_dir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return Status::IoError("cannot create a directory like " + pattern);
  return pattern;
}

}  // namespace meshloop::transport
