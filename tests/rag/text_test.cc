// Tokenising and the meaning signature that guards the semantic cache.
#include <gtest/gtest.h>

#include "rag/text.h"
#include "rag/wordnet.h"

namespace meshloop::rag {
namespace {

TEST(Tokenize, LowerCasesSplitsAndExpandsNegations) {
  EXPECT_EQ(tokenize("Link 3-7 isn't UP!"), (std::vector<std::string>{"link", "3", "7", "is", "not", "up"}));
  EXPECT_EQ(tokenize("can't"), (std::vector<std::string>{"can", "not"}));
}

TEST(MeaningSignature, ParaphrasesKeepTheSignature) {
  EXPECT_EQ(meaning_signature("Why is node 7 dropping packets?"),
            meaning_signature("what makes node 7 lose so many packets"));
  EXPECT_EQ(meaning_signature("p95 latency on link 3-7"), meaning_signature("95th percentile delay for link 3-7"));
  EXPECT_EQ(meaning_signature("latency rising on node 4"), meaning_signature("node 4 latency increasing"));
}

TEST(MeaningSignature, DifferentMeaningsGetDifferentSignatures) {
  const std::pair<const char*, const char*> pairs[] = {
      {"traffic from node 3 to node 7 is slow", "traffic from node 7 to node 3 is slow"},
      {"why is node 3 unreachable", "why is node 4 unreachable"},
      {"loss on link 2-5", "loss on link 2-6"},
      {"is node 9 reachable", "is node 9 not reachable"},
      {"p95 latency of node 2", "p99 latency of node 2"},
      {"latency increasing on node 4", "latency decreasing on node 4"},
      {"inbound traffic on node 1", "outbound traffic on node 1"},
      {"link 3-7 is up", "link 3-7 is down"},
      {"loss above 5 percent", "loss below 5 percent"},
      {"drain node 6", "undrain node 6"},
  };
  for (const auto& [a, b] : pairs) EXPECT_NE(meaning_signature(a), meaning_signature(b)) << a << " | " << b;
}

TEST(WordNet, LemmatisesAndFoldsSynonymsWhenInstalled) {
  auto wn = WordNet::shared_default();
  if (!wn) GTEST_SKIP() << "wordnet-base is not installed";
  EXPECT_EQ(wn->lemma("dropped"), "drop");
  EXPECT_EQ(wn->lemma("nodes"), "node");
  EXPECT_EQ(wn->lemma("went"), "go");
  EXPECT_EQ(wn->first_senses("error").at(0), wn->first_senses("mistake").at(0));
}

}  // namespace
}  // namespace meshloop::rag
