#include "rag/wordnet.h"

#include <fstream>
#include <mutex>
#include <sstream>

namespace meshloop::rag {

namespace {
constexpr const char* kPos[4] = {"noun", "verb", "adj", "adv"};
constexpr char kPosLetter[4] = {'n', 'v', 'a', 'r'};
}  // namespace

Result<std::shared_ptr<const WordNet>> WordNet::load(const std::string& dir) {
  std::shared_ptr<WordNet> wn(new WordNet());
  for (int p = 0; p < 4; ++p) {
    std::ifstream in(dir + "/index." + kPos[p]);
    if (!in) return Status::NotFound("WordNet index file missing: " + dir + "/index." + kPos[p]);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == ' ') continue;  // licence header lines start with two spaces
      // lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset [synset_offset...]
      std::istringstream fields(line);
      std::string lemma, pos;
      int synset_cnt = 0, p_cnt = 0;
      if (!(fields >> lemma >> pos >> synset_cnt >> p_cnt) || synset_cnt <= 0 || p_cnt < 0) continue;
      std::string skip;
      for (int i = 0; i < p_cnt; ++i) fields >> skip;
      int sense_cnt = 0, tagsense_cnt = 0;
      std::uint32_t offset = 0;
      if (!(fields >> sense_cnt >> tagsense_cnt >> offset)) continue;
      auto& slot = wn->senses_[lemma];
      slot[static_cast<std::size_t>(p)] = offset;
    }
    std::ifstream exc(dir + "/" + kPos[p] + ".exc");
    while (exc && std::getline(exc, line)) {
      std::istringstream fields(line);
      std::string form, base;
      if (fields >> form >> base) wn->exceptions_.emplace(form, base);
    }
  }
  if (wn->senses_.empty()) return Status::Corruption("WordNet index files in " + dir + " hold no lemmas");
  return std::shared_ptr<const WordNet>(std::move(wn));
}

std::shared_ptr<const WordNet> WordNet::shared_default() {
  static std::once_flag once;
  static std::shared_ptr<const WordNet> instance;
  std::call_once(once, [] {
    auto r = load();
    if (r.ok()) instance = r.value();
  });
  return instance;
}

std::string WordNet::lemma(std::string_view word) const {
  std::string w(word);
  if (auto it = exceptions_.find(w); it != exceptions_.end()) return it->second;
  if (senses_.count(w)) return w;
  // morphy's detachment rules (noun, verb, adjective), first hit wins.
  static const std::pair<const char*, const char*> kRules[] = {
      {"ies", "y"}, {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"}, {"men", "man"},
      {"es", "e"},  {"es", ""},   {"ed", "e"},  {"ed", ""},   {"ing", "e"},   {"ing", ""},    {"s", ""},
      {"er", ""},   {"est", ""},  {"er", "e"},  {"est", "e"}};
  for (const auto& [suffix, repl] : kRules) {
    std::string_view sfx(suffix);
    if (w.size() > sfx.size() + 1 && w.compare(w.size() - sfx.size(), sfx.size(), sfx) == 0) {
      std::string base = w.substr(0, w.size() - sfx.size()) + repl;
      if (senses_.count(base)) return base;
      // doubled consonant: "dropped" -> "dropp" -> "drop"
      if (repl[0] == '\0' && base.size() > 2 && base[base.size() - 1] == base[base.size() - 2]) {
        base.pop_back();
        if (senses_.count(base)) return base;
      }
    }
  }
  return w;
}

std::vector<std::uint64_t> WordNet::first_senses(std::string_view lemma) const {
  std::vector<std::uint64_t> out;
  auto it = senses_.find(std::string(lemma));
  if (it == senses_.end()) return out;
  for (int p = 0; p < 4; ++p) {
    if (auto off = it->second[static_cast<std::size_t>(p)]; off != 0) {
      // Adjective satellites share the 'a' namespace; offsets are unique within a data file.
      out.push_back((static_cast<std::uint64_t>(kPosLetter[p]) << 56) | off);
    }
  }
  return out;
}

}  // namespace meshloop::rag
