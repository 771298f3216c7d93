#include "rag/corpus.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "core/rng.h"

namespace meshloop::rag {

namespace fs = std::filesystem;

std::string default_runbook_dir() {
  if (const char* env = std::getenv("MESHLOOP_RUNBOOKS"); env && *env) return env;
#ifdef MESHLOOP_SOURCE_DIR
  if (fs::exists(fs::path(MESHLOOP_SOURCE_DIR) / "docs" / "runbooks")) {
    return (fs::path(MESHLOOP_SOURCE_DIR) / "docs" / "runbooks").string();
  }
#endif
  return "docs/runbooks";
}

Result<std::vector<Document>> load_runbooks(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("runbook directory not found: " + dir);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".md" && e.path().filename() != "README.md") {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) return Status::NotFound("no runbooks (*.md) in " + dir);
  std::vector<Document> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) return Status::IoError("cannot read " + f.string());
    Document d;
    d.id = "runbook/" + f.stem().string();
    d.title = f.stem().string();
    if (auto pos = text.find("# "); pos != std::string::npos) {
      auto end = text.find('\n', pos);
      d.title = text.substr(pos + 2, end == std::string::npos ? std::string::npos : end - pos - 2);
    }
    d.text = std::move(text);
    d.meta.kind = "runbook";
    d.meta.tags = {f.stem().string()};
    out.push_back(std::move(d));
  }
  return out;
}

namespace {

std::string pick(Rng& rng, const std::vector<std::string>& v) {
  return v[static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(v.size()) - 1))];
}
std::string fmt1(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}
void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

}  // namespace

std::vector<Document> generate_incidents(std::size_t count, int nodes, std::uint64_t seed) {
  Rng rng = Rng::derive(seed, 0x1ac1de);
  struct Kind {
    std::string tag;
    bool on_link;
    std::vector<std::string> what;
    std::vector<std::string> actions;
  };
  const std::vector<Kind> kinds = {
      {"link-cut", true,
       {"link {L} stopped carrying hellos and its neighbours timed out",
        "hello loss on link {L} reached 100 percent; the adjacency was torn down"},
       {"fast reroute moved traffic onto the pinned backup path", "routes reconverged around link {L}"}},
      {"node-crash", false,
       {"node {N} stopped answering on all of its links at once", "node {N} crashed and every adjacency to it expired"},
       {"neighbours withdrew node {N} from the link-state database", "the supervisor restarted node {N}"}},
      {"loss-burst", true,
       {"a Gilbert-Elliott loss burst hit link {L}; ETX rose sharply", "packet loss on link {L} jumped to 30 percent"},
       {"MAPE-K raised the cost of link {L} fourfold and traffic shifted", "the planner raised link cost on {L}"}},
      {"partition", true,
       {"the mesh split in two when link {L} and its parallel paths failed", "a partition cut off node {N}"},
       {"cut-off traffic was reported apart; no route existed", "routes rebuilt when the partition healed"}},
      {"flapping", true,
       {"link {L} flapped every few seconds", "link {L} alternated between usable and lost"},
       {"MAPE-K damped link {L} with a hold-down cost", "the link was drained until it stayed stable"}},
      {"slow-degradation", false,
       {"node {N} degraded slowly: CPU and queueing delay crept upward", "RTT through node {N} grew over ten minutes"},
       {"MAPE-K drained node {N} and traffic avoided it", "node {N} was avoided in route computation"}},
      {"auth-failure", false,
       {"node {N} rejected packets whose HMAC tag did not verify", "node {N} ran with a wrong mesh pre-shared key"},
       {"the operator rotated the key on node {N}", "the misconfigured key on node {N} was corrected"}},
      {"control-overhead", false,
       {"control overhead on node {N} reached four times its baseline", "node {N} flooded link-state updates in a storm"},
       {"SPF throttling backed off and the flood stopped", "the flapping source behind node {N} was damped"}},
  };
  std::vector<Document> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const Kind& k = kinds[static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(kinds.size()) - 1))];
    const int a = static_cast<int>(rng.uniform_int(1, nodes));
    int b = static_cast<int>(rng.uniform_int(1, nodes - 1));
    if (b >= a) ++b;
    const std::string link = std::to_string(a) + "-" + std::to_string(b);
    std::string text = "Incident " + std::to_string(i + 1) + " (" + k.tag + "): " + pick(rng, k.what) + ". Detected after " +
                       fmt1(rng.uniform() * 8 + 0.5) + " s. Action: " + pick(rng, k.actions) + ". Recovered in " +
                       fmt1(rng.uniform() * 5 + 0.3) + " s; verification " + (rng.bernoulli(0.85) ? "passed" : "failed, rolled back") + ".";
    replace_all(text, "{L}", link);
    replace_all(text, "{N}", std::to_string(a));
    Document d;
    d.id = "incident/" + std::to_string(i + 1);
    d.title = "Incident " + std::to_string(i + 1) + ": " + k.tag + (k.on_link ? " on link " + link : " on node " + std::to_string(a));
    d.text = std::move(text);
    d.meta.kind = "incident";
    d.meta.node = "node-" + std::to_string(a);
    d.meta.time = 1700000000 + static_cast<std::int64_t>(i) * 37;
    d.meta.tags = {k.tag};
    out.push_back(std::move(d));
  }
  return out;
}

namespace {
// Phrasings of one meaning. Slots: {n} node, {a}-{b} link ends, {p} percentile. Paraphrases keep the entities,
// negations and polarity words of the meaning (that is what makes them the same question).
const std::vector<std::vector<std::string>>& templates() {
  static const std::vector<std::vector<std::string>> t = {
      {"why is node {n} dropping packets", "what causes packet loss at node {n}", "node {n} is losing packets, why",
       "reason for dropped packets on node {n}", "packets are being dropped by node {n}: cause"},
      {"link {a}-{b} keeps flapping", "why does link {a}-{b} flap", "flapping on link {a}-{b}",
       "link {a}-{b} is unstable and flaps", "the link {a}-{b} flaps again and again"},
      {"node {n} crashed, what should I do", "how to recover after node {n} crashed", "steps after a crash of node {n}",
       "recovering node {n} from a crash", "node {n} has crashed: recovery procedure"},
      {"p{p} latency on link {a}-{b} is high", "link {a}-{b} has high p{p} latency", "high p{p} delay on link {a}-{b}",
       "the {p}th percentile latency of link {a}-{b} is high", "why is p{p} latency high on link {a}-{b}"},
      {"hmac verification errors on node {n}", "node {n} rejects packets with bad authentication tags",
       "authentication errors at node {n}", "node {n} reports wrong key errors", "node {n} logs bad hmac tags"},
      {"link {a}-{b} was cut", "link {a}-{b} has been severed", "the cable of link {a}-{b} was cut",
       "link {a}-{b} is cut, what now", "a cut on link {a}-{b}"},
      {"loss burst on link {a}-{b}", "burst of packet loss on link {a}-{b}", "link {a}-{b} shows a loss burst",
       "bursty packet loss hit link {a}-{b}", "link {a}-{b} suffered a burst of losses"},
      {"node {n} is slowly degrading", "gradual degradation of node {n}", "node {n} gets slower over time",
       "slow degradation on node {n}", "node {n} performance degrades gradually"},
      {"is node {n} isolated by a partition", "did a partition isolate node {n}", "node {n} isolated by a network partition",
       "partition isolating node {n}", "node {n} seems isolated by a partition"},
      {"control overhead on node {n} is excessive", "excessive control traffic overhead at node {n}",
       "node {n} has excessive control overhead", "too much routing control overhead on node {n}",
       "routing overhead of node {n} is excessive"},
      {"how long did node {n} take to recover", "recovery time of node {n}", "time to recover for node {n}",
       "how much time node {n} needed to recover", "node {n} recovery duration"},
      {"which action fixed link {a}-{b}", "what action repaired link {a}-{b}", "action that fixed link {a}-{b}",
       "how was link {a}-{b} fixed", "the fix applied to link {a}-{b}"},
  };
  return t;
}
std::string fill(std::string s, int n, int a, int b, int p) {
  replace_all(s, "{n}", std::to_string(n));
  replace_all(s, "{a}", std::to_string(a));
  replace_all(s, "{b}", std::to_string(b));
  replace_all(s, "{p}", std::to_string(p));
  return s;
}
}  // namespace

std::vector<Topic> generate_topics(std::size_t count, int nodes, std::size_t variants, std::uint64_t seed) {
  Rng rng = Rng::derive(seed, 0x70b1c5);
  const auto& t = templates();
  const int percentiles[] = {50, 90, 95, 99};
  std::set<std::string> seen;
  std::vector<Topic> out;
  while (out.size() < count) {
    const auto& tpl = t[static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(t.size()) - 1))];
    const int n = static_cast<int>(rng.uniform_int(1, nodes));
    const int a = static_cast<int>(rng.uniform_int(1, nodes));
    int b = static_cast<int>(rng.uniform_int(1, nodes - 1));
    if (b >= a) ++b;
    const int p = percentiles[rng.uniform_int(0, 3)];
    Topic topic;
    for (std::size_t v = 0; v < std::min(variants, tpl.size()); ++v) topic.variants.push_back(fill(tpl[v], n, a, b, p));
    if (seen.insert(topic.variants[0]).second) out.push_back(std::move(topic));
  }
  return out;
}

std::vector<ConfusablePair> confusable_pairs(int nodes, std::uint64_t seed, std::size_t count) {
  Rng rng = Rng::derive(seed, 0xc0f05e);
  const std::vector<std::pair<std::string, std::string>> shapes = {
      {"traffic from node {a} to node {b} is slow", "traffic from node {b} to node {a} is slow"},
      {"why is node {a} dropping packets", "why is node {b} dropping packets"},
      {"link {a}-{b} keeps flapping", "link {a}-{c} keeps flapping"},
      {"is node {a} reachable", "is node {a} not reachable"},
      {"p95 latency on link {a}-{b} is high", "p99 latency on link {a}-{b} is high"},
      {"p50 latency of node {a}", "p90 latency of node {a}"},
      {"latency increasing on node {a}", "latency decreasing on node {a}"},
      {"inbound traffic on node {a} is dropped", "outbound traffic on node {a} is dropped"},
      {"link {a}-{b} is up", "link {a}-{b} is down"},
      {"packet loss above 5 percent on link {a}-{b}", "packet loss below 5 percent on link {a}-{b}"},
      {"packet loss above 5 percent on link {a}-{b}", "packet loss above 20 percent on link {a}-{b}"},
      {"drain node {a}", "undrain node {a}"},
      {"node {a} crashed, what should I do", "node {a} did not crash, what should I do"},
      {"routes that avoid node {a}", "routes that use node {a}"},
      {"incidents before node {a} crashed", "incidents after node {a} crashed"},
      {"the hmac key on node {a} is correct", "the hmac key on node {a} is not correct"},
      {"highest control overhead on node {a}", "lowest control overhead on node {a}"},
      {"raise the cost of link {a}-{b}", "lower the cost of link {a}-{b}"},
  };
  std::vector<ConfusablePair> out;
  for (std::size_t i = 0; i < count; ++i) {
    const auto& s = shapes[i % shapes.size()];
    const int a = static_cast<int>(rng.uniform_int(1, nodes));
    int b = a % nodes + 1;
    int c = b % nodes + 1;
    auto f = [&](std::string x) {
      replace_all(x, "{a}", std::to_string(a));
      replace_all(x, "{b}", std::to_string(b));
      replace_all(x, "{c}", std::to_string(c));
      return x;
    };
    out.push_back({f(s.first), f(s.second), "shape " + std::to_string(i % shapes.size())});
  }
  return out;
}

}  // namespace meshloop::rag
