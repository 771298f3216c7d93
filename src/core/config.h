// Layered configuration: a YAML file, then MESHLOOP_* environment variables, then command-line flags (later wins).
//
// Every layer lands in one flat map of dotted keys ("mesh.hello_interval"); nested YAML maps flatten into it and
// a key's environment name is derived from it (MESHLOOP_MESH_HELLO_INTERVAL). Typed getters parse on read and name
// the key and where its value came from in every error, so a user can find the line to fix.
// Thread-safety: none; build it at start-up, then read it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace meshloop {

class Config {
 public:
  // Parses YAML text; scalars and sequences of scalars become values (sequences joined by ','). Errors name `origin`.
  static Result<Config> from_yaml(std::string_view text, const std::string& origin);
  static Result<Config> from_yaml_file(const std::string& path);

  // "mesh.hello_interval" -> "MESHLOOP_MESH_HELLO_INTERVAL".
  static std::string env_name(std::string_view key);
  // For each key in `keys`, takes the value of its environment variable if set. `getenv` is injected for tests.
  void overlay_env(const std::vector<std::string>& keys,
                   const std::function<const char*(const char*)>& getenv_fn);

  void set(const std::string& key, std::string value, std::string origin);
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  std::vector<std::string> keys() const;
  // Keys present here but not in `known`: an error listing them, so typos in config files are not silently ignored.
  Status check_known(const std::vector<std::string>& known) const;

  std::optional<std::string> get(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  Result<std::int64_t> get_int(const std::string& key, std::int64_t fallback) const;
  Result<double> get_double(const std::string& key, double fallback) const;
  Result<bool> get_bool(const std::string& key, bool fallback) const;
  // Durations: "250ms", "1.5s", "2m", "100us"; a bare number is seconds.
  Result<Duration> get_duration(const std::string& key, Duration fallback) const;
  // A comma-separated list (or a YAML sequence); empty items are dropped.
  std::vector<std::string> get_list(const std::string& key) const;

 private:
  struct Entry {
    std::string value;
    std::string origin;  // "config.yaml", "env MESHLOOP_X", "flag --x"
  };
  Status bad_value(const std::string& key, const Entry& e, std::string_view expected) const;
  std::map<std::string, Entry> values_;
};

// Parsers shared by config and flags.
Result<Duration> parse_duration(std::string_view text);
Result<double> parse_double(std::string_view text);
Result<std::int64_t> parse_int(std::string_view text);

}  // namespace meshloop
