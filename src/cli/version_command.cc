#include <iostream>

#include "cli/commands.h"
#include "core/version.h"

namespace meshloop::cli {

int& exit_code() {
  static int code = 0;
  return code;
}

void add_version_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print the version and source revision");
  cmd->callback([] { std::cout << "meshloop " << version() << " (" << revision() << ")\n"; });
}

}  // namespace meshloop::cli
