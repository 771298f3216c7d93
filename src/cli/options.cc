#include "cli/options.h"

#include <cstdlib>

namespace meshloop::cli {

LayeredOptions::LayeredOptions(CLI::App& cmd) : cmd_(cmd) {
  cmd_.add_option("--config", config_path_, "YAML configuration file (env MESHLOOP_CONFIG); env and flags override it");
}

void LayeredOptions::add(const std::string& key, const std::string& flag, const std::string& help,
                         const std::string& default_text) {
  keys_.push_back(key);
  Flag& f = flags_.emplace_back(Flag{key, flag, "", nullptr});
  std::string text = help + " [" + Config::env_name(key);
  if (!default_text.empty()) text += ", default " + default_text;
  text += "]";
  f.option = cmd_.add_option(flag, f.value, text);
}

Result<Config> LayeredOptions::resolve() const {
  std::string path = config_path_;
  if (path.empty()) {
    if (const char* env = std::getenv("MESHLOOP_CONFIG")) path = env;
  }
  Config config;
  if (!path.empty()) {
    auto loaded = Config::from_yaml_file(path);
    if (!loaded.ok()) return loaded.status();
    config = std::move(loaded).value();
    if (Status s = config.check_known(keys_); !s.ok()) return s;
  }
  config.overlay_env(keys_, [](const char* name) { return std::getenv(name); });
  for (const Flag& f : flags_) {
    if (f.option->count() > 0) config.set(f.key, f.value, "flag " + f.flag);
  }
  return config;
}

}  // namespace meshloop::cli
