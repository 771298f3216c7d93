// Child processes and free ports on this host: what `meshloop demo` and the integration tests use to run real
// `meshloop node` processes on 127.0.0.1 and to clean up after them.
//
// A child is started with fork + exec; it gets PR_SET_PDEATHSIG(SIGTERM), so it stops when the thread that started
// it dies (a crashed or SIGKILLed demo leaves no orphans). Note the Linux rule behind it: the signal fires when the
// parent *thread* exits, so start children from a thread that lives as long as they should (the main thread).
// Thread-safety: a ChildProcess is not thread-safe; free_*_port() are.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace meshloop::transport {

struct SpawnOptions {
  std::vector<std::string> argv;      // argv[0] is the executable's path
  std::string output_path;            // stdout and stderr appended here; empty: inherit ours
  std::vector<std::string> env;       // extra "NAME=value" entries on top of our environment
  bool own_process_group = false;     // setpgid(0, 0): a terminal's Ctrl-C reaches the parent only, which then
                                      // stops the child in order
};

class ChildProcess {
 public:
  ChildProcess() = default;
  static Result<ChildProcess> spawn(const SpawnOptions& options);
  ~ChildProcess();  // SIGKILL and reap if it is still running
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Reaps it if it has exited. False for a default-constructed or reaped child.
  bool running();
  // Sends `signo` if it is still running.
  void signal(int signo);
  // Waits up to `timeout` for it to exit; its wait status (see waitpid), or nullopt if it is still running.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; always reaps.
  void terminate(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  // The exit status once reaped.
  std::optional<int> exit_status() const { return status_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// A port that was free a moment ago on 127.0.0.1 (bound with port 0 and released). Another process may take it
// in between: callers that can, pass port 0 to the child instead.
Result<std::uint16_t> free_udp_port();
Result<std::uint16_t> free_tcp_port();

// "exit 3", "killed by SIGKILL".
std::string describe_wait_status(int status);

}  // namespace meshloop::transport
