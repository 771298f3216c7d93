// Reading Prometheus text exposition in tests: the value of one series, found by name and a subset of its labels.
#pragma once

#include <map>
#include <optional>
#include <sstream>
#include <string>

namespace meshloop::testing {

// The value of the first series named `name` (exactly; "x_count" for a histogram's count) whose labels include
// every `labels` pair; nullopt if none. Label values are compared as written (no unescaping).
inline std::optional<double> exposition_value(const std::string& text, const std::string& name,
                                              const std::map<std::string, std::string>& labels = {}) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto brace = line.find('{');
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    const std::string series = line.substr(0, std::min(brace, space));
    if (series != name) continue;
    const std::string label_text = brace < space ? line.substr(brace, line.rfind('}') - brace + 1) : "";
    bool all = true;
    for (const auto& [k, v] : labels) {
      all = all && (label_text.find("{" + k + "=\"" + v + "\"") != std::string::npos ||
                    label_text.find("," + k + "=\"" + v + "\"") != std::string::npos);
    }
    if (!all) continue;
    try {
      return std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace meshloop::testing
