// Logging set-up for the binaries (spdlog). The I/O-free core never logs: it returns events, and drivers log them.
#pragma once

#include <string>

#include "core/result.h"

namespace meshloop {

// level: trace, debug, info, warn, error, off. Logs go to stderr with time, level and the given component name.
Status init_logging(const std::string& level, const std::string& name = "meshloop");

}  // namespace meshloop
