// The meshloop subcommands. Each lives in its own file and registers itself on the root app; main() only parses
// and runs the chosen one. A command's callback returns the process exit code through CommandResult.
#pragma once

#include <CLI/CLI.hpp>

namespace meshloop::cli {

// Set by the chosen subcommand's callback; main() returns it.
int& exit_code();

void add_version_command(CLI::App& app);
void add_node_command(CLI::App& app);
void add_sim_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_kb_command(CLI::App& app);
void add_metrics_command(CLI::App& app);
void add_train_command(CLI::App& app);

}  // namespace meshloop::cli
