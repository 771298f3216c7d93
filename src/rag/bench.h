// `meshloop kb bench`: the knowledge base measured against exact search and raw hnswlib in the same run, the batch
// retriever at 1 and 2 workers, and the semantic cache on a Zipf query stream of paraphrased topics.
// Long-running by design (minutes at the defaults); smaller sizes for smoke tests.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"

namespace meshloop::rag {

struct BenchOptions {
  // Vector retrieval: clustered synthetic embeddings.
  std::size_t vectors = 100000;
  int dim = 384;
  std::size_t clusters = 1000;
  std::size_t cluster_rank = 24;  // each cluster varies in its own random subspace of this dimension
  std::size_t queries = 1000;
  std::size_t m = 16;
  std::size_t ef_construction = 200;
  std::vector<std::size_t> ef_values = {10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512};
  double recall_target = 0.95;
  int build_threads = 2;
  int repeats = 3;  // QPS: median of this many passes, ours and raw interleaved
  // Batch retrieval.
  std::size_t batch_queries = 4000;
  int batch_runs = 5;
  // Semantic cache on the runbook + incident corpus.
  std::size_t incidents = 2000;
  int nodes = 50;
  std::size_t topics = 200;
  std::size_t variants = 5;
  std::size_t stream = 4000;
  double zipf_s = 1.0;
  std::size_t cache_capacity = 1000;
  float cache_threshold = 0.90f;
  std::size_t lookup_entries = 10000;
  std::size_t confusable = 90;
  std::string runbook_dir;  // empty: default_runbook_dir()
  std::uint64_t seed = 1;
};

// Runs every part and returns the report. `progress` gets one line per step.
Result<nlohmann::json> run_bench(const BenchOptions& options, const std::function<void(const std::string&)>& progress);

}  // namespace meshloop::rag
