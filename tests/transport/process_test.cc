#include "transport/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace meshloop::transport {
namespace {

TEST(ProcessTest, RunsAChildAndCapturesItsOutput) {
  char path[] = "/tmp/meshloop-process-test-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  auto child = ChildProcess::spawn({{"/bin/sh", "-c", "echo hello $GREETING; exit 3"}, path, {"GREETING=world"}});
  ASSERT_TRUE(child.ok()) << child.status().to_string();
  auto status = child->wait_for(std::chrono::seconds(5));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(describe_wait_status(*status), "exit 3");
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "hello world\n");
  std::remove(path);
}

TEST(ProcessTest, TerminateStopsALongRunningChild) {
  auto child = ChildProcess::spawn({{"/bin/sleep", "30"}, "", {}});
  ASSERT_TRUE(child.ok());
  EXPECT_TRUE(child->running());
  child->signal(SIGKILL);
  auto status = child->wait_for(std::chrono::seconds(5));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(describe_wait_status(*status), "killed by SIGKILL");
  EXPECT_FALSE(child->running());
}

TEST(ProcessTest, DestructorReapsARunningChild) {
  pid_t pid = -1;
  {
    auto child = ChildProcess::spawn({{"/bin/sleep", "30"}, "", {}});
    ASSERT_TRUE(child.ok());
    pid = child->pid();
  }
  EXPECT_EQ(kill(pid, 0), -1);  // gone and reaped
}

TEST(ProcessTest, MissingExecutableIsAnError) {
  EXPECT_FALSE(ChildProcess::spawn({{"/nonexistent/meshloop"}, "", {}}).ok());
  EXPECT_FALSE(ChildProcess::spawn({{}, "", {}}).ok());
}

TEST(ProcessTest, FreePortsAreUsable) {
  auto u = free_udp_port();
  auto t = free_tcp_port();
  ASSERT_TRUE(u.ok());
  ASSERT_TRUE(t.ok());
  EXPECT_GT(*u, 0);
  EXPECT_GT(*t, 0);
}

}  // namespace
}  // namespace meshloop::transport
