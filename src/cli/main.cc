// meshloop: one binary, one subcommand per job. Exceptions stop here: they only come from start-up parsing, and
// become a clear message and a non-zero exit.
#include <exception>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"meshloop: a self-healing mesh network", "meshloop"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "meshloop " MESHLOOP_CLI_VERSION);
  meshloop::cli::add_version_command(app);
  meshloop::cli::add_node_command(app);
  meshloop::cli::add_sim_command(app);
  meshloop::cli::add_demo_command(app);
  meshloop::cli::add_kb_command(app);
  meshloop::cli::add_metrics_command(app);
  meshloop::cli::add_train_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "meshloop: " << e.what() << "\n";
    return 1;
  }
  return meshloop::cli::exit_code();
}
