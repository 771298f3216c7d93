#include "obs/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/version.h"

namespace meshloop::obs {

namespace {

struct Standard {
  const char* name;
  MetricKind kind;
  const char* unit;
  const char* help;
};
// HELP texts as the Go client writes them.
constexpr Standard kCpu{"process_cpu_seconds_total", MetricKind::kCounter, "seconds",
                        "Total user and system CPU time spent in seconds."};
constexpr Standard kResident{"process_resident_memory_bytes", MetricKind::kGauge, "bytes",
                             "Resident memory size in bytes."};
constexpr Standard kVirtual{"process_virtual_memory_bytes", MetricKind::kGauge, "bytes",
                            "Virtual memory size in bytes."};
constexpr Standard kOpenFds{"process_open_fds", MetricKind::kGauge, "", "Number of open file descriptors."};
constexpr Standard kMaxFds{"process_max_fds", MetricKind::kGauge, "", "Maximum number of open file descriptors."};
constexpr Standard kStart{"process_start_time_seconds", MetricKind::kGauge, "seconds",
                          "Start time of the process since unix epoch in seconds."};
constexpr Standard kAll[] = {kCpu, kResident, kVirtual, kOpenFds, kMaxFds, kStart};

std::optional<double> boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double v = 0;
      if (in >> v) return v;
      return std::nullopt;
    }
    in.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

class ProcessCollector : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::string node) : node_(std::move(node)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const ProcessSample s = read_process_sample();
    std::vector<prometheus::MetricFamily> out;
    auto add = [&](const Standard& st, const std::optional<double>& v) {
      if (!v) return;
      prometheus::MetricFamily f;
      f.name = st.name;
      f.help = st.help;
      f.type = st.kind == MetricKind::kCounter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
      prometheus::ClientMetric m;
      m.label.push_back({"node", node_});
      if (st.kind == MetricKind::kCounter) {
        m.counter.value = *v;
      } else {
        m.gauge.value = *v;
      }
      f.metric.push_back(std::move(m));
      out.push_back(std::move(f));
    };
    add(kCpu, s.cpu_seconds);
    add(kResident, s.resident_bytes);
    add(kVirtual, s.virtual_bytes);
    add(kOpenFds, s.open_fds);
    add(kMaxFds, s.max_fds);
    add(kStart, s.start_time_seconds);
    return out;
  }

 private:
  std::string node_;
};

}  // namespace

ProcessSample read_process_sample() {
  ProcessSample s;
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  {
    std::ifstream in("/proc/self/stat");
    std::string line;
    if (std::getline(in, line)) {
      // pid (comm) state ...: comm may hold spaces and parentheses, so fields are counted after the last ')'.
      const auto close = line.rfind(')');
      if (close != std::string::npos) {
        std::istringstream fields(line.substr(close + 1));
        std::vector<std::string> f;  // f[0] is field 3 (state)
        std::string tok;
        while (fields >> tok) f.push_back(tok);
        if (f.size() > 21 && ticks > 0) {
          try {
            const double utime = std::stod(f[11]), stime = std::stod(f[12]);  // fields 14, 15
            s.cpu_seconds = (utime + stime) / static_cast<double>(ticks);
            s.virtual_bytes = std::stod(f[20]);                                // field 23
            s.resident_bytes = std::stod(f[21]) * static_cast<double>(page);  // field 24, pages
            if (auto btime = boot_time_seconds()) {
              s.start_time_seconds = *btime + std::stod(f[19]) / static_cast<double>(ticks);  // field 22
            }
          } catch (const std::exception&) {
            // An unexpected /proc format: leave the values out of this scrape.
          }
        }
      }
    }
  }
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (!ec) {
    double n = 0;
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      ++n;
    }
    if (!ec) s.open_fds = n;
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    s.max_fds = limit.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(limit.rlim_cur);
  }
  return s;
}

void register_process_metrics(MetricsRegistry& registry) {
  std::vector<MetricInfo> declared;
  for (const Standard& st : kAll) declared.push_back(MetricInfo{st.name, st.kind, {"node"}, st.unit, st.help});
  registry.add_collector(std::make_shared<ProcessCollector>(registry.node()), std::move(declared));
}

void register_build_info(MetricsRegistry& registry) {
  registry
      .gauge("meshloop_build_info", "Always 1; the labels name the meshloop version and source revision running.",
             {"version", "revision"})
      .with({version(), revision()})
      .Set(1);
}

}  // namespace meshloop::obs
