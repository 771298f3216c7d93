#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace meshloop {

Status init_logging(const std::string& level, const std::string& name) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return Status::InvalidArgument("log level '" + level + "' is not one of trace, debug, info, warn, error, off");
  }
  auto logger = spdlog::get(name);
  if (!logger) logger = spdlog::stderr_color_mt(name);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [" + name + "] %v");
  spdlog::set_level(lvl);
  return Status::Ok();
}

}  // namespace meshloop
