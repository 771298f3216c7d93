// A command's settings, declared once and resolved in layers: YAML file (--config or MESHLOOP_CONFIG), then
// MESHLOOP_* environment variables, then flags. Every setting has a dotted key ("mesh.hello_interval"), a flag
// (--hello-interval) and an environment name derived from the key (MESHLOOP_MESH_HELLO_INTERVAL).
// Thread-safety: none; used during start-up only.
#pragma once

#include <CLI/CLI.hpp>

#include <list>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"

namespace meshloop::cli {

class LayeredOptions {
 public:
  // Adds --config FILE to `cmd`. REQUIRES: `cmd` outlives this object's use in resolve().
  explicit LayeredOptions(CLI::App& cmd);

  // Declares a setting. `default_text` is shown in --help only; the typed default lives where the value is read.
  void add(const std::string& key, const std::string& flag, const std::string& help,
           const std::string& default_text = "");
  // Declares a key that only files and the environment may set (lists, maps).
  void add_key(const std::string& key) { keys_.push_back(key); }

  // The merged configuration. Fails on an unreadable or invalid file, or on keys nobody declared.
  Result<Config> resolve() const;

 private:
  struct Flag {
    std::string key;
    std::string flag;
    std::string value;
    CLI::Option* option = nullptr;
  };
  CLI::App& cmd_;
  std::string config_path_;
  std::list<Flag> flags_;  // list: CLI11 holds pointers to each value
  std::vector<std::string> keys_;
};

}  // namespace meshloop::cli
