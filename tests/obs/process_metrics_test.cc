#include "obs/process_metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fcntl.h>
#include <unistd.h>

#include "core/version.h"
#include "metrics_test_util.h"

namespace meshloop::obs {
namespace {

using testing::sample;

TEST(ProcessMetrics, ReadsThisProcessFromProc) {
  const ProcessSample s = read_process_sample();
  ASSERT_TRUE(s.cpu_seconds && s.resident_bytes && s.virtual_bytes && s.open_fds && s.max_fds &&
              s.start_time_seconds);
  EXPECT_GE(*s.cpu_seconds, 0);
  EXPECT_GT(*s.resident_bytes, 1e5);
  EXPECT_GE(*s.virtual_bytes, *s.resident_bytes);
  EXPECT_GE(*s.open_fds, 3);
  EXPECT_GE(*s.max_fds, *s.open_fds);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(*s.start_time_seconds, now + 1);
  EXPECT_GT(*s.start_time_seconds, now - 3600);  // a test binary started within the hour
}

TEST(ProcessMetrics, OpenFdsFollowsTheProcess) {
  const double before = *read_process_sample().open_fds;
  const int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(*read_process_sample().open_fds, before + 1);
  ::close(fd);
}

TEST(ProcessMetrics, CollectedAtScrapeWithStandardNamesAndTheNodeLabel) {
  MetricsRegistry r("9");
  register_process_metrics(r);
  register_build_info(r);
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
                           "process_start_time_seconds"}) {
    EXPECT_TRUE(sample(r, name, {{"node", "9"}}).has_value()) << name;
  }
  EXPECT_EQ(sample(r, "meshloop_build_info", {{"node", "9"}, {"version", version()}, {"revision", revision()}}), 1);
  EXPECT_EQ(r.catalogue().size(), 7u);
}

}  // namespace
}  // namespace meshloop::obs
