// Corpora for the knowledge base: the operator runbooks shipped in docs/runbooks (loaded by default), generated
// MAPE-K-style incident records, and the paraphrased query topics the benchmark draws from.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "rag/knowledge_base.h"

namespace meshloop::rag {

// Where the runbooks live: $MESHLOOP_RUNBOOKS, else <source dir>/docs/runbooks, else ./docs/runbooks.
std::string default_runbook_dir();
// One document per *.md file (id "runbook/<file stem>", title = first "# " line, kind "runbook", tags from the
// file stem). NotFound when the directory does not exist or holds no runbook.
Result<std::vector<Document>> load_runbooks(const std::string& dir);

// `count` incident records over a mesh of `nodes` nodes, seeded: fault kind, element, detection, action, outcome.
std::vector<Document> generate_incidents(std::size_t count, int nodes, std::uint64_t seed);

// A query topic: one meaning, several phrasings (the first is the canonical one).
struct Topic {
  std::vector<std::string> variants;
};
// `count` topics over `nodes` nodes, each with `variants` phrasings; distinct topics differ in template or entities.
std::vector<Topic> generate_topics(std::size_t count, int nodes, std::size_t variants, std::uint64_t seed);

// Pairs of queries that read almost the same but mean different things (another node or link, reversed direction,
// negation, another number or percentile, opposite polarity). A correct cache never answers one with the other.
struct ConfusablePair {
  std::string a, b, why;
};
std::vector<ConfusablePair> confusable_pairs(int nodes, std::uint64_t seed, std::size_t count);

}  // namespace meshloop::rag
