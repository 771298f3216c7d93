#include "rag/text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>

namespace meshloop::rag {

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (cur.empty()) return;
    // "isn't" arrives as "isn" + "t": turn the pair into "is" + "not".
    if (cur == "t" && !out.empty() && out.back().size() > 1 && out.back().back() == 'n') {
      std::string& prev = out.back();
      if (prev == "can") {
        // "can't" -> "can" "not"
      } else if (prev == "won") {
        prev = "will";
      } else {
        prev.pop_back();
      }
      out.push_back("not");
    } else {
      out.push_back(cur);
    }
    cur.clear();
  };
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      cur.push_back(static_cast<char>(c));
    } else if (c >= 'A' && c <= 'Z') {
      cur.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      flush();
    }
  }
  flush();
  return out;
}

bool is_stop_word(std::string_view token) {
  static const std::unordered_set<std::string_view> kStop = {
      "a",     "an",    "the",  "and",   "or",    "of",    "in",    "on",   "at",    "by",   "for",   "with",
      "is",    "are",   "was",  "were",  "be",    "been",  "being", "it",   "its",   "this", "that",  "these",
      "those", "as",    "to",   "from",  "into",  "than",  "then",  "there", "their", "they", "them",  "we",
      "our",   "you",   "your", "i",     "me",    "my",    "he",    "she",  "his",   "her",  "do",    "does",
      "did",   "doing", "have", "has",   "had",   "having", "what", "which", "who",   "whom", "why",   "how",
      "when",  "where", "can",  "could", "should", "would", "will", "shall", "may",   "might", "must", "so",
      "if",    "but",   "about", "any",  "some",  "all",   "each",  "such", "also",  "just", "very",  "too",
      "s",     "t",     "d",    "ll",    "m",     "re",    "ve",    "am",   "here",  "own",  "same",  "other",
      "via",   "per",  "again", "once",  "only",  "both",  "further"};
  return kStop.count(token) > 0;
}

bool has_digit(std::string_view token) {
  return std::any_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::uint64_t fnv1a64(std::string_view s, std::uint64_t seed) {
  std::uint64_t h = seed;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

namespace {

// Words whose presence flips or fixes the meaning of a query; each maps to a class name. Synonyms share a class, so
// "rising" and "increasing" stay compatible while "rising" and "falling" do not.
const std::unordered_map<std::string_view, std::string_view>& polarity_classes() {
  static const std::unordered_map<std::string_view, std::string_view> k = {
      // negation
      {"not", "not"}, {"no", "not"}, {"never", "not"}, {"without", "not"}, {"none", "not"}, {"cannot", "not"},
      {"nothing", "not"}, {"nobody", "not"}, {"neither", "not"}, {"nor", "not"}, {"unable", "not"},
      // up / down (amount, state)
      {"up", "up"}, {"increase", "up"}, {"increased", "up"}, {"increases", "up"}, {"increasing", "up"},
      {"rise", "up"}, {"rises", "up"}, {"rising", "up"}, {"rose", "up"}, {"higher", "up"}, {"high", "up"},
      {"grow", "up"}, {"grows", "up"}, {"growing", "up"}, {"raise", "up"}, {"raised", "up"}, {"raising", "up"},
      {"above", "up"}, {"more", "up"}, {"exceed", "up"}, {"exceeds", "up"}, {"exceeding", "up"},
      {"greater", "up"}, {"spike", "up"}, {"spikes", "up"}, {"spiking", "up"}, {"climb", "up"}, {"climbing", "up"},
      {"down", "down"}, {"decrease", "down"}, {"decreased", "down"}, {"decreases", "down"},
      {"decreasing", "down"}, {"fall", "down"}, {"falls", "down"}, {"falling", "down"}, {"fell", "down"},
      {"lower", "down"}, {"low", "down"}, {"lowered", "down"}, {"shrink", "down"}, {"shrinking", "down"},
      {"below", "down"}, {"less", "down"}, {"fewer", "down"}, {"under", "down"}, {"decline", "down"},
      {"declining", "down"}, {"reduce", "down"}, {"reduced", "down"}, {"reducing", "down"},
      // direction of traffic
      {"inbound", "in"}, {"incoming", "in"}, {"ingress", "in"}, {"receive", "in"}, {"received", "in"},
      {"receiving", "in"}, {"rx", "in"}, {"downstream", "in"},
      {"outbound", "out"}, {"outgoing", "out"}, {"egress", "out"}, {"send", "out"}, {"sent", "out"},
      {"sending", "out"}, {"tx", "out"}, {"upstream", "out"},
      // extremes and order
      {"min", "min"}, {"minimum", "min"}, {"least", "min"}, {"lowest", "min"}, {"smallest", "min"},
      {"best", "min"}, {"max", "max"}, {"maximum", "max"}, {"most", "max"}, {"highest", "max"},
      {"largest", "max"}, {"worst", "max"}, {"peak", "max"},
      {"before", "before"}, {"prior", "before"}, {"earlier", "before"}, {"after", "after"}, {"later", "after"},
      {"following", "after"}, {"first", "first"}, {"earliest", "first"}, {"oldest", "first"}, {"last", "last"},
      {"latest", "last"}, {"newest", "last"},
      // actions with an opposite
      {"enable", "on"}, {"enabled", "on"}, {"start", "on"}, {"started", "on"}, {"add", "on"}, {"added", "on"},
      {"disable", "off"}, {"disabled", "off"}, {"stop", "off"}, {"stopped", "off"}, {"remove", "off"},
      {"removed", "off"}, {"drain", "off"}, {"undrain", "on"},
      {"success", "ok"}, {"succeeded", "ok"}, {"successful", "ok"}, {"healthy", "ok"},
      {"failure", "fail"}, {"failed", "fail"}, {"fails", "fail"}, {"failing", "fail"}, {"unhealthy", "fail"},
      {"reachable", "reach"}, {"unreachable", "noreach"}, {"connected", "reach"}, {"disconnected", "noreach"},
      {"avoid", "avoid"}, {"avoids", "avoid"}, {"avoiding", "avoid"}, {"bypass", "avoid"}, {"exclude", "avoid"},
      {"excluding", "avoid"}, {"src", "src"}, {"source", "src"}, {"dst", "dst"}, {"destination", "dst"},
  };
  return k;
}

// The kind a number takes from the word just before it ("node 3", "link 3-7", "p95").
std::string_view kind_of(std::string_view word) {
  static const std::unordered_map<std::string_view, std::string_view> k = {
      {"node", "node"}, {"nodes", "node"}, {"host", "node"}, {"hosts", "node"}, {"router", "node"},
      {"peer", "node"}, {"peers", "node"}, {"neighbour", "node"}, {"neighbor", "node"}, {"n", "node"},
      {"link", "link"}, {"links", "link"}, {"edge", "link"}, {"connection", "link"}, {"l", "link"},
      {"p", "p"}, {"percentile", "p"}, {"pct", "%"}, {"percent", "%"}, {"hop", "hop"}, {"hops", "hop"},
      {"port", "port"}, {"flow", "flow"}, {"incident", "incident"}, {"version", "version"}, {"v", "version"},
      {"seq", "seq"}, {"sequence", "seq"}, {"ttl", "ttl"}, {"window", "window"}};
  auto it = k.find(word);
  return it == k.end() ? std::string_view{} : it->second;
}

}  // namespace

std::string meaning_signature(std::string_view text) {
  const auto tokens = tokenize(text);
  const auto& pol = polarity_classes();
  std::string sig;                      // entities, in order
  std::vector<std::string_view> polarity;  // classes, order-free
  std::string_view last_kind;  // carried over "3 and 7" in "between node 3 and node 7"
  int since_kind = 100;
  for (const auto& tok : tokens) {
    ++since_kind;
    if (auto it = pol.find(tok); it != pol.end()) {
      polarity.push_back(it->second);
      continue;
    }
    if (has_digit(tok)) {
      // Split letters and digits: "p95" -> kind "p", 95; "95th" -> 95 (ordinal suffix dropped); "n3" -> node 3.
      std::size_t i = 0;
      while (i < tok.size() && !(tok[i] >= '0' && tok[i] <= '9')) ++i;
      std::string_view prefix(tok.data(), i);
      std::size_t j = i;
      while (j < tok.size() && tok[j] >= '0' && tok[j] <= '9') ++j;
      std::string_view number(tok.data() + i, j - i);
      std::string_view suffix(tok.data() + j, tok.size() - j);
      std::string_view kind = kind_of(prefix);
      if (kind.empty() && !prefix.empty()) kind = "id";  // "eth0", "fe80": an identifier
      if (kind.empty() && since_kind <= 3) kind = last_kind;
      if (kind.empty()) kind = "#";
      if (suffix == "th" || suffix == "st" || suffix == "nd" || suffix == "rd") suffix = "";
      // A trailing identifier part ("10ms" keeps its unit, "eth0a" keeps the rest).
      sig += kind;
      sig += ':';
      sig += number;
      sig += suffix;
      sig += ' ';
      continue;
    }
    if (auto k = kind_of(tok); !k.empty()) {
      last_kind = k;
      since_kind = 0;
    }
  }
  // "95th percentile": the kind word comes after the number; a second pass turns "#:95" into "p:95".
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (has_digit(tokens[i]) && kind_of(tokens[i + 1]) == "p") {
      std::string digits;
      for (char c : tokens[i])
        if (c >= '0' && c <= '9') digits.push_back(c);
      auto pos = sig.find("#:" + digits + " ");
      if (pos != std::string::npos) sig.replace(pos, 1, "p");
    }
  }
  std::sort(polarity.begin(), polarity.end());
  sig += '|';
  for (auto p : polarity) {
    sig += ' ';
    sig += p;
  }
  return sig;
}

}  // namespace meshloop::rag
