#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace meshloop {
namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

Status flatten(const YAML::Node& node, const std::string& prefix, const std::string& origin,
               std::map<std::string, std::pair<std::string, std::string>>& out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string k = kv.first.as<std::string>();
      const std::string key = prefix.empty() ? k : prefix + "." + k;
      if (Status s = flatten(kv.second, key, origin, out); !s.ok()) return s;
    }
    return Status::Ok();
  }
  if (prefix.empty()) return Status::InvalidArgument(origin + ": the top level must be a mapping of keys to values");
  if (node.IsSequence()) {
    std::string joined;
    for (const auto& item : node) {
      if (!item.IsScalar()) {
        return Status::InvalidArgument(origin + ": key '" + prefix + "' must be a list of plain values");
      }
      if (!joined.empty()) joined += ',';
      joined += item.as<std::string>();
    }
    out[prefix] = {joined, origin};
    return Status::Ok();
  }
  if (node.IsNull()) {
    out[prefix] = {"", origin};
    return Status::Ok();
  }
  out[prefix] = {node.as<std::string>(), origin};
  return Status::Ok();
}

}  // namespace

Result<double> parse_double(std::string_view text) {
  const std::string t = trim(text);
  double v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size() || !std::isfinite(v)) {
    return Status::InvalidArgument("'" + t + "' is not a number");
  }
  return v;
}

Result<std::int64_t> parse_int(std::string_view text) {
  const std::string t = trim(text);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
    return Status::InvalidArgument("'" + t + "' is not a whole number");
  }
  return v;
}

Result<Duration> parse_duration(std::string_view text) {
  const std::string t = trim(text);
  size_t unit_at = t.size();
  while (unit_at > 0 && std::isalpha(static_cast<unsigned char>(t[unit_at - 1]))) --unit_at;
  const std::string unit = t.substr(unit_at);
  double scale = 1e6;  // microseconds per unit; a bare number is seconds
  if (unit == "us") scale = 1;
  else if (unit == "ms") scale = 1e3;
  else if (unit == "s" || unit.empty()) scale = 1e6;
  else if (unit == "m" || unit == "min") scale = 60e6;
  else if (unit == "h") scale = 3600e6;
  else return Status::InvalidArgument("'" + t + "' has an unknown unit (use us, ms, s, m or h)");
  auto number = parse_double(t.substr(0, unit_at));
  if (!number.ok()) return Status::InvalidArgument("'" + t + "' is not a duration like 250ms, 1.5s or 2m");
  if (*number < 0) return Status::InvalidArgument("'" + t + "' is negative");
  return Duration{static_cast<std::int64_t>(std::llround(*number * scale))};
}

Result<Config> Config::from_yaml(std::string_view text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(origin + ": not valid YAML: " + e.what());
  }
  Config c;
  if (!root || root.IsNull()) return c;
  std::map<std::string, std::pair<std::string, std::string>> flat;
  try {
    if (Status s = flatten(root, "", origin, flat); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(origin + ": " + e.what());
  }
  for (auto& [k, v] : flat) c.values_[k] = Entry{v.first, v.second};
  return c;
}

Result<Config> Config::from_yaml_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IoError("cannot read config file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return from_yaml(ss.str(), path);
}

std::string Config::env_name(std::string_view key) {
  std::string out = "MESHLOOP_";
  for (char ch : key) {
    out += (ch == '.' || ch == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return out;
}

void Config::overlay_env(const std::vector<std::string>& keys,
                         const std::function<const char*(const char*)>& getenv_fn) {
  for (const auto& key : keys) {
    const std::string name = env_name(key);
    if (const char* v = getenv_fn(name.c_str())) set(key, v, "env " + name);
  }
}

void Config::set(const std::string& key, std::string value, std::string origin) {
  values_[key] = Entry{std::move(value), std::move(origin)};
}

std::vector<std::string> Config::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : values_) out.push_back(kv.first);
  return out;
}

Status Config::check_known(const std::vector<std::string>& known) const {
  std::string unknown;
  for (const auto& [k, e] : values_) {
    bool found = false;
    for (const auto& kn : known) found = found || kn == k;
    if (!found) unknown += (unknown.empty() ? "" : ", ") + k + " (" + e.origin + ")";
  }
  if (unknown.empty()) return Status::Ok();
  return Status::InvalidArgument("unknown configuration keys: " + unknown);
}

std::optional<std::string> Config::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second.value;
}

std::string Config::get_string(const std::string& key, const std::string& fallback) const {
  auto v = get(key);
  return v ? *v : fallback;
}

Status Config::bad_value(const std::string& key, const Entry& e, std::string_view expected) const {
  return Status::InvalidArgument(key + " = '" + e.value + "' (from " + e.origin + "): expected " +
                                 std::string(expected));
}

Result<std::int64_t> Config::get_int(const std::string& key, std::int64_t fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  auto v = parse_int(it->second.value);
  if (!v.ok()) return bad_value(key, it->second, "a whole number");
  return v;
}

Result<double> Config::get_double(const std::string& key, double fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  auto v = parse_double(it->second.value);
  if (!v.ok()) return bad_value(key, it->second, "a number");
  return v;
}

Result<bool> Config::get_bool(const std::string& key, bool fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  std::string v = trim(it->second.value);
  for (auto& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return bad_value(key, it->second, "true or false");
}

Result<Duration> Config::get_duration(const std::string& key, Duration fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  auto v = parse_duration(it->second.value);
  if (!v.ok()) return bad_value(key, it->second, "a duration like 250ms, 1.5s or 2m");
  return v;
}

std::vector<std::string> Config::get_list(const std::string& key) const {
  std::vector<std::string> out;
  auto v = get(key);
  if (!v) return out;
  std::stringstream ss(*v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace meshloop
