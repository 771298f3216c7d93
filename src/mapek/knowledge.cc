#include "mapek/knowledge.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ml/model_file.h"

namespace meshloop::mapek {
namespace {

using nlohmann::json;
constexpr std::string_view kMagic = "MLKNOW1\n";
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kHeaderSize = 8 + 4 + 8 + 4;

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

template <typename E>
std::optional<E> enum_by_name(const std::string& name, std::size_t count, const char* (*namer)(E)) {
  for (std::size_t i = 0; i < count; ++i) {
    if (name == namer(static_cast<E>(i))) return static_cast<E>(i);
  }
  return std::nullopt;
}

Status io_error(const std::string& step, const std::string& path) {
  return Status::IoError(step + " '" + path + "': " + std::strerror(errno));
}

}  // namespace

std::uint64_t Knowledge::add(Incident incident) {
  incident.id = next_id_++;
  count(incident);
  incidents_.push_back(std::move(incident));
  if (incidents_.size() > kMaxIncidents) incidents_.pop_front();
  return incidents_.back().id;
}

void Knowledge::count(const Incident& incident) {
  if (incident.outcome != Outcome::kRecovered && incident.outcome != Outcome::kRolledBack) return;
  Counts& c = counts_[idx(incident.diagnosis)][idx(incident.action)];
  ++c.trials;
  if (incident.outcome == Outcome::kRecovered) ++c.successes;
}

void Knowledge::update(const Incident& incident) {
  auto it = std::lower_bound(incidents_.begin(), incidents_.end(), incident.id,
                             [](const Incident& x, std::uint64_t id) { return x.id < id; });
  if (it == incidents_.end() || it->id != incident.id) return;
  const bool was_counted = it->outcome == Outcome::kRecovered || it->outcome == Outcome::kRolledBack;
  if (!was_counted) count(incident);
  *it = incident;
}

const Incident* Knowledge::find(std::uint64_t id) const {
  auto it = std::lower_bound(incidents_.begin(), incidents_.end(), id,
                             [](const Incident& x, std::uint64_t v) { return x.id < v; });
  return it == incidents_.end() || it->id != id ? nullptr : &*it;
}

std::string Knowledge::serialize() const {
  json inc = json::array();
  for (const Incident& i : incidents_) {
    inc.push_back(json{{"id", i.id},
                       {"reporter", i.reporter},
                       {"detected_s", i.detected_s},
                       {"element", i.element.text()},
                       {"diagnosis", diagnosis_name(i.diagnosis)},
                       {"action", action_name(i.action)},
                       {"outcome", outcome_name(i.outcome)},
                       {"explored", i.explored},
                       {"score", i.score},
                       {"harm_before", i.harm_before},
                       {"harm_after", i.harm_after},
                       {"time_to_recover_s", i.time_to_recover_s},
                       {"reason", i.reason}});
  }
  json counts = json::array();
  for (std::size_t d = 0; d < kDiagnosisCount; ++d) {
    for (std::size_t a = 0; a < kActionKindCount; ++a) {
      const Counts& c = counts_[d][a];
      if (c.trials == 0) continue;
      counts.push_back(json{{"diagnosis", diagnosis_name(static_cast<Diagnosis>(d))},
                            {"action", action_name(static_cast<ActionKind>(a))},
                            {"trials", c.trials},
                            {"successes", c.successes}});
    }
  }
  return json{{"version", 1}, {"next_id", next_id_}, {"counts", counts}, {"incidents", inc}}.dump();
}

Result<Knowledge> Knowledge::parse(std::string_view bytes) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("knowledge: payload is not a JSON object");
  auto bad = [](const std::string& what) { return Status::Corruption("knowledge: " + what); };
  if (!j.contains("version") || j["version"] != 1) return bad("unknown document version");
  Knowledge k;
  if (!j.contains("next_id") || !j["next_id"].is_number_unsigned()) return bad("next_id missing");
  k.next_id_ = j["next_id"].get<std::uint64_t>();
  if (!j.contains("counts") || !j["counts"].is_array() || !j.contains("incidents") || !j["incidents"].is_array()) {
    return bad("counts or incidents missing");
  }
  for (const json& c : j["counts"]) {
    if (!c.is_object() || !c.contains("diagnosis") || !c.contains("action") || !c["diagnosis"].is_string() ||
        !c["action"].is_string() || !c.contains("trials") || !c["trials"].is_number_unsigned() ||
        !c.contains("successes") || !c["successes"].is_number_unsigned()) {
      return bad("malformed count entry");
    }
    auto d = enum_by_name<Diagnosis>(c["diagnosis"].get<std::string>(), kDiagnosisCount, diagnosis_name);
    auto a = parse_action(c["action"].get<std::string>());
    if (!d || !a) return bad("unknown diagnosis or action in counts");
    Counts& slot = k.counts_[idx(*d)][idx(*a)];
    slot.trials = c["trials"].get<std::uint32_t>();
    slot.successes = c["successes"].get<std::uint32_t>();
    if (slot.successes > slot.trials) return bad("more successes than trials");
  }
  std::uint64_t last = 0;
  for (const json& x : j["incidents"]) {
    if (!x.is_object()) return bad("incident is not an object");
    Incident i;
    try {
      i.id = x.at("id").get<std::uint64_t>();
      i.reporter = x.at("reporter").get<NodeId>();
      i.detected_s = x.at("detected_s").get<double>();
      auto e = parse_element(x.at("element").get<std::string>());
      auto d = enum_by_name<Diagnosis>(x.at("diagnosis").get<std::string>(), kDiagnosisCount, diagnosis_name);
      auto a = parse_action(x.at("action").get<std::string>());
      auto o = enum_by_name<Outcome>(x.at("outcome").get<std::string>(), kOutcomeCount, outcome_name);
      if (!e || !d || !a || !o) return bad("incident " + std::to_string(i.id) + " has an unknown name");
      i.element = *e;
      i.diagnosis = *d;
      i.action = *a;
      i.outcome = *o;
      i.explored = x.at("explored").get<bool>();
      i.score = x.at("score").get<double>();
      i.harm_before = x.at("harm_before").get<double>();
      i.harm_after = x.at("harm_after").get<double>();
      i.time_to_recover_s = x.at("time_to_recover_s").get<double>();
      i.reason = x.at("reason").get<std::string>();
    } catch (const json::exception& ex) {  // config-style parsing at load time, never in a tick
      return bad(std::string("malformed incident: ") + ex.what());
    }
    if (i.id <= last || i.id >= k.next_id_) return bad("incident ids out of order");
    last = i.id;
    k.incidents_.push_back(std::move(i));
  }
  return k;
}

Status save_knowledge(const Knowledge& knowledge, const std::string& path) {
  const std::string payload = knowledge.serialize();
  std::string bytes(kMagic);
  put_le(bytes, kFormatVersion, 4);
  put_le(bytes, payload.size(), 8);
  put_le(bytes, ml::crc32c(payload), 4);
  bytes += payload;
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create", tmp);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = io_error("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = io_error("fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = io_error("rename to", path);
    ::unlink(tmp.c_str());
    return s;
  }
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return io_error("open directory", dir);
  const int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return io_error("fsync directory", dir);
  return Status::Ok();
}

Result<Knowledge> load_knowledge(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0) return Status::NotFound("knowledge file '" + path + "' does not exist");
    return io_error("open", path);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  const std::string where = "knowledge file '" + path + "': ";
  if (bytes.size() < kHeaderSize) {
    return Status::Corruption(where + "truncated header (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (std::string_view(bytes).substr(0, kMagic.size()) != kMagic) return Status::Corruption(where + "bad magic");
  const auto version = get_le(bytes, 8, 4);
  if (version != kFormatVersion) {
    return Status::FailedPrecondition(where + "format version " + std::to_string(version) + ", this build reads " +
                                      std::to_string(kFormatVersion));
  }
  const auto length = get_le(bytes, 12, 8);
  const auto crc = static_cast<std::uint32_t>(get_le(bytes, 20, 4));
  if (bytes.size() - kHeaderSize != length) {
    return Status::Corruption(where + "payload is " + std::to_string(bytes.size() - kHeaderSize) +
                              " bytes, header says " + std::to_string(length));
  }
  const std::string_view payload = std::string_view(bytes).substr(kHeaderSize);
  if (ml::crc32c(payload) != crc) return Status::Corruption(where + "payload checksum mismatch");
  auto k = Knowledge::parse(payload);
  if (!k.ok()) return Status::Corruption(where + k.status().message());
  return k;
}

}  // namespace meshloop::mapek
