// transport::LocalMesh: a mesh of real `meshloop node` processes on 127.0.0.1, for `meshloop demo` and the
// integration tests. It plans nodes (ids, free UDP and HTTP ports, links, traffic), starts, kills and restarts
// their processes, and stops every one of them when destroyed. It knows nothing of HTTP: callers talk to each
// node's API on node(id).http_port.
// Thread-safety: none; use it from the thread that lives as long as the children (the main thread: see process.h).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/time.h"
#include "mesh/types.h"
#include "transport/address.h"
#include "transport/process.h"
#include "transport/traffic.h"

namespace meshloop::transport {

// Links of a ring 1..n with chords i <-> i + n/2 (for n >= 4): every node has degree 3 (n even), so any single
// link or node failure leaves the rest connected.
std::vector<std::pair<mesh::NodeId, mesh::NodeId>> ring_with_chords(int n);

struct LocalNode {
  mesh::NodeId id = mesh::kNoNode;
  HostPort udp;
  int http_port = 0;
  std::vector<mesh::NodeId> peers;     // in port order
  std::vector<TrafficSpec> traffic;
  std::string key;                     // empty: the mesh's key
  std::string log_path;
  ChildProcess process;
  int starts = 0;
};

class LocalMesh {
 public:
  struct Options {
    std::string binary;                // the meshloop executable
    std::string work_dir;              // logs go here (node-<id>.log)
    Duration hello_interval = milliseconds(100);
    int dead_multiplier = 3;
    std::string key = "local-mesh-key";
    std::string log_level = "info";
    std::vector<std::string> extra_args;  // appended to every node's command line, "{id}" replaced by the node's id
  };
  explicit LocalMesh(Options options);
  ~LocalMesh();  // stop_all()
  LocalMesh(const LocalMesh&) = delete;
  LocalMesh& operator=(const LocalMesh&) = delete;

  // Plans a node with free ports. AlreadyExists for a duplicate id.
  Status add_node(mesh::NodeId id);
  // Plans a link (each end lists the other as a peer). REQUIRES: both nodes added, before they start.
  Status link(mesh::NodeId a, mesh::NodeId b);
  void add_traffic(mesh::NodeId from, TrafficSpec spec);
  void set_key(mesh::NodeId id, std::string key);

  std::vector<std::string> command_line(mesh::NodeId id) const;
  Status start(mesh::NodeId id);
  Status start_all();
  // Sends `signo` and reaps the process (SIGKILL: a crash).
  void kill(mesh::NodeId id, int signo);
  // SIGTERM to all, then SIGKILL after a grace period; every child reaped.
  void stop_all();
  bool running(mesh::NodeId id);

  LocalNode& node(mesh::NodeId id) { return nodes_.at(id); }
  const std::map<mesh::NodeId, LocalNode>& nodes() const { return nodes_; }
  const std::vector<std::pair<mesh::NodeId, mesh::NodeId>>& links() const { return links_; }
  const Options& options() const { return options_; }

 private:
  Options options_;
  std::map<mesh::NodeId, LocalNode> nodes_;
  std::vector<std::pair<mesh::NodeId, mesh::NodeId>> links_;
};

// A fresh directory under $TMPDIR (or /tmp) named prefix-XXXXXX.
Result<std::string> make_temp_dir(const std::string& prefix);

}  // namespace meshloop::transport
