#include "rag/bench.h"

#include <malloc.h>

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <set>
#include <thread>
#include <unordered_set>

#include "core/rng.h"
#include "rag/batch_retriever.h"
#include "rag/corpus.h"
#include "rag/knowledge_base.h"
#include "rag/semantic_cache.h"
#include "rag/vector_index.h"

namespace meshloop::rag {

using nlohmann::json;

namespace {

using SteadyClock = std::chrono::steady_clock;
double since(SteadyClock::time_point t0) { return std::chrono::duration<double>(SteadyClock::now() - t0).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(
      std::min<double>(static_cast<double>(v.size() - 1), p * static_cast<double>(v.size() - 1) + 0.5));
  return v[idx];
}

// Clustered unit vectors: a random unit centre per cluster, a random `rank`-dimensional basis per cluster for its
// spread, plus isotropic noise; cluster sizes vary (each point picks its cluster uniformly).
struct Clustered {
  int dim;
  std::vector<float> centres;  // clusters x dim
  std::vector<float> bases;    // clusters x rank x dim
  std::size_t clusters, rank;
};
Clustered make_clusters(int dim, std::size_t clusters, std::size_t rank, Rng& rng) {
  Clustered c{dim, std::vector<float>(clusters * static_cast<std::size_t>(dim)),
              std::vector<float>(clusters * rank * static_cast<std::size_t>(dim)), clusters, rank};
  for (std::size_t k = 0; k < clusters; ++k) {
    double n = 0;
    float* ctr = &c.centres[k * static_cast<std::size_t>(dim)];
    for (int i = 0; i < dim; ++i) {
      ctr[i] = static_cast<float>(rng.normal(0, 1));
      n += static_cast<double>(ctr[i]) * ctr[i];
    }
    for (int i = 0; i < dim; ++i) ctr[i] = static_cast<float>(ctr[i] / std::sqrt(n));
  }
  for (auto& x : c.bases) x = static_cast<float>(rng.normal(0, 1.0 / std::sqrt(static_cast<double>(dim))));
  return c;
}
void draw_points(const Clustered& c, std::size_t count, Rng& rng, std::vector<float>& out) {
  const auto d = static_cast<std::size_t>(c.dim);
  out.assign(count * d, 0.0f);
  std::vector<double> z(c.rank);
  for (std::size_t p = 0; p < count; ++p) {
    const auto k = static_cast<std::size_t>(rng.uniform_int(0, static_cast<std::int64_t>(c.clusters) - 1));
    float* v = &out[p * d];
    const float* ctr = &c.centres[k * d];
    for (auto& x : z) x = rng.normal(0, 0.6);
    for (std::size_t i = 0; i < d; ++i)
      v[i] = ctr[i] + static_cast<float>(rng.normal(0, 0.15 / std::sqrt(static_cast<double>(d))));
    for (std::size_t r = 0; r < c.rank; ++r) {
      const float* b = &c.bases[(k * c.rank + r) * d];
      const auto zr = static_cast<float>(z[r]);
      for (std::size_t i = 0; i < d; ++i) v[i] += zr * b[i];
    }
    double n = 0;
    for (std::size_t i = 0; i < d; ++i) n += static_cast<double>(v[i]) * v[i];
    const auto inv = static_cast<float>(1.0 / std::sqrt(n));
    for (std::size_t i = 0; i < d; ++i) v[i] *= inv;
  }
}

// Exact top-k by inner product (Eigen GEMM in blocks).
std::vector<std::vector<std::uint64_t>> exact_topk(const std::vector<float>& data, const std::vector<float>& queries,
                                                   int dim, std::size_t k) {
  const auto n = static_cast<Eigen::Index>(data.size() / static_cast<std::size_t>(dim));
  const auto nq = static_cast<Eigen::Index>(queries.size() / static_cast<std::size_t>(dim));
  Eigen::Map<const Eigen::MatrixXf> D(data.data(), dim, n);
  Eigen::Map<const Eigen::MatrixXf> Q(queries.data(), dim, nq);
  std::vector<std::vector<std::pair<float, std::uint64_t>>> best(static_cast<std::size_t>(nq));
  const Eigen::Index block = 8192;
  for (Eigen::Index start = 0; start < n; start += block) {
    const Eigen::Index len = std::min(block, n - start);
    Eigen::MatrixXf S = Q.transpose() * D.middleCols(start, len);  // nq x len
    for (Eigen::Index q = 0; q < nq; ++q) {
      auto& b = best[static_cast<std::size_t>(q)];
      for (Eigen::Index j = 0; j < len; ++j) {
        const float s = S(q, j);
        if (b.size() < k || s > b.back().first) {
          std::pair<float, std::uint64_t> item{s, static_cast<std::uint64_t>(start + j)};
          auto pos = std::upper_bound(b.begin(), b.end(), item,
                                      [](const auto& x, const auto& y) { return x.first > y.first; });
          b.insert(pos, item);
          if (b.size() > k) b.pop_back();
        }
      }
    }
  }
  std::vector<std::vector<std::uint64_t>> out(best.size());
  for (std::size_t q = 0; q < best.size(); ++q)
    for (const auto& [s, id] : best[q]) out[q].push_back(id);
  return out;
}

double recall(const std::vector<std::vector<std::uint64_t>>& truth,
              const std::vector<std::vector<std::uint64_t>>& got) {
  std::size_t found = 0, total = 0;
  for (std::size_t q = 0; q < truth.size(); ++q) {
    std::unordered_set<std::uint64_t> t(truth[q].begin(), truth[q].end());
    for (auto id : got[q]) found += t.count(id);
    total += truth[q].size();
  }
  return total ? static_cast<double>(found) / static_cast<double>(total) : 0;
}

// Zipf(s) over ranks 0..n-1 by inverse CDF.
class Zipf {
 public:
  Zipf(std::size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) cdf_[i] = (sum += 1.0 / std::pow(static_cast<double>(i + 1), s));
    for (auto& c : cdf_) c /= sum;
  }
  std::size_t draw(Rng& rng) const {
    return static_cast<std::size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), rng.uniform()) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

std::size_t heap_in_use() { return mallinfo2().uordblks; }

}  // namespace

Result<json> run_bench(const BenchOptions& o, const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  json report;
  report["machine"] = {{"hardware_threads", std::thread::hardware_concurrency()}};
  Rng rng = Rng::derive(o.seed, 1);
  const auto d = static_cast<std::size_t>(o.dim);

  // ---------------------------------------------------------------- vectors: data, queries, exact truth
  say("generating " + std::to_string(o.vectors) + " x " + std::to_string(o.dim) + " clustered vectors");
  Clustered clusters = make_clusters(o.dim, o.clusters, o.cluster_rank, rng);
  std::vector<float> data, queries;
  draw_points(clusters, o.vectors, rng, data);
  draw_points(clusters, o.queries, rng, queries);  // fresh draws, not points of the index
  report["dataset"] = {{"vectors", o.vectors},
                       {"dim", o.dim},
                       {"clusters", o.clusters},
                       {"cluster_rank", o.cluster_rank},
                       {"queries", o.queries},
                       {"generator",
                        "unit centre + N(0,0.6) in a random rank-r basis per cluster + isotropic N(0,0.15/sqrt(d)), "
                        "normalised; queries are fresh draws"},
                       {"seed", o.seed}};
  say("exact top-10 by brute force (Eigen)");
  auto t0 = SteadyClock::now();
  const auto truth = exact_topk(data, queries, o.dim, 10);
  report["exact_seconds"] = since(t0);

  // ---------------------------------------------------------------- build: ours and raw hnswlib
  say("building the knowledge base (" + std::to_string(o.build_threads) + " threads)");
  KnowledgeBaseOptions ko;
  ko.external_vectors = true;
  ko.hnsw = HnswOptions{o.dim, o.m, o.ef_construction, 64, o.vectors + 1, 100};
  auto kb = std::make_unique<KnowledgeBase>(ko, nullptr);
  {
    std::vector<Document> docs(o.vectors);
    for (std::size_t i = 0; i < o.vectors; ++i) {
      docs[i].id = std::to_string(i);
      docs[i].vector = std::vector<float>(data.begin() + static_cast<std::ptrdiff_t>(i * d),
                                          data.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
      docs[i].meta.kind = "vector";
    }
    t0 = SteadyClock::now();
    if (auto s = kb->add_bulk(std::move(docs), o.build_threads); !s.ok()) return s;
  }
  const double ours_build = since(t0);
  say("building raw hnswlib with the same parameters");
  RawHnswlibBaseline raw(o.dim, o.vectors + 1, o.m, o.ef_construction, 100);
  t0 = SteadyClock::now();
  {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t i = next++; i < o.vectors; i = next++) raw.add(&data[i * d], i);
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < std::max(o.build_threads, 1); ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  }
  const double raw_build = since(t0);
  report["build"] = {{"threads", o.build_threads},
                     {"m", o.m},
                     {"ef_construction", o.ef_construction},
                     {"seconds", ours_build},
                     {"vectors_per_second", static_cast<double>(o.vectors) / ours_build},
                     {"hnswlib_seconds", raw_build},
                     {"hnswlib_vectors_per_second", static_cast<double>(o.vectors) / raw_build},
                     {"index_bytes", kb->stats().index_bytes}};

  // ---------------------------------------------------------------- single-thread QPS and recall per ef
  std::vector<Query> kb_queries(o.queries);
  for (std::size_t q = 0; q < o.queries; ++q) {
    kb_queries[q].k = 10;
    kb_queries[q].mode = SearchMode::kVector;
    kb_queries[q].vector = std::vector<float>(queries.begin() + static_cast<std::ptrdiff_t>(q * d),
                                              queries.begin() + static_cast<std::ptrdiff_t>((q + 1) * d));
  }
  json curve = json::array();
  struct Point {
    std::size_t ef;
    double recall, qps, raw_recall, raw_qps;
  };
  std::vector<Point> points;
  for (std::size_t ef : o.ef_values) {
    kb->set_ef_search(ef);
    raw.set_ef(ef);
    std::vector<std::vector<std::uint64_t>> got(o.queries), raw_got(o.queries);
    std::vector<double> ours_qps, raw_qps;
    std::vector<std::uint64_t> labels(10);
    std::vector<std::vector<QueryHit>> ours_results(o.queries);
    // Ours and raw alternate in blocks of 50 queries, so a load change on this shared machine hits both alike.
    for (int rep = 0; rep < o.repeats; ++rep) {
      double ours_s = 0, raw_s = 0;
      for (std::size_t start = 0; start < o.queries; start += 50) {
        const std::size_t end = std::min(o.queries, start + 50);
        auto run_ours = [&]() -> Status {
          t0 = SteadyClock::now();
          for (std::size_t q = start; q < end; ++q) {
            auto r = kb->query(kb_queries[q]);
            if (!r.ok()) return r.status();
            if (rep == 0) ours_results[q] = std::move(r).value();
          }
          ours_s += since(t0);
          return Status::Ok();
        };
        auto run_raw = [&] {
          t0 = SteadyClock::now();
          for (std::size_t q = start; q < end; ++q) {
            const std::size_t n = raw.search(&queries[q * d], 10, labels.data());
            if (rep == 0) raw_got[q].assign(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(n));
          }
          raw_s += since(t0);
        };
        if ((start / 50) % 2 == 0) {
          if (auto s = run_ours(); !s.ok()) return s;
          run_raw();
        } else {
          run_raw();
          if (auto s = run_ours(); !s.ok()) return s;
        }
      }
      ours_qps.push_back(static_cast<double>(o.queries) / ours_s);
      raw_qps.push_back(static_cast<double>(o.queries) / raw_s);
    }
    for (std::size_t q = 0; q < o.queries; ++q)
      for (const auto& h : ours_results[q]) got[q].push_back(std::stoull(h.doc_id));
    Point p{ef, recall(truth, got), median(ours_qps), recall(truth, raw_got), median(raw_qps)};
    points.push_back(p);
    curve.push_back({{"ef_search", ef},
                     {"recall_at_10", p.recall},
                     {"qps", p.qps},
                     {"hnswlib_recall_at_10", p.raw_recall},
                     {"hnswlib_qps", p.raw_qps}});
    say("ef " + std::to_string(ef) + ": recall " + std::to_string(p.recall) + " qps " + std::to_string(p.qps) +
        " | hnswlib recall " + std::to_string(p.raw_recall) + " qps " + std::to_string(p.raw_qps));
  }
  report["curve"] = curve;
  // raw hnswlib's QPS at a given recall, interpolated on its own curve (its graph is built separately).
  auto raw_qps_at = [&](double target) {
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (points[i].raw_recall >= target) {
        if (i == 0) return points[0].raw_qps;
        const auto& a = points[i - 1];
        const auto& b = points[i];
        const double t = (target - a.raw_recall) / std::max(1e-12, b.raw_recall - a.raw_recall);
        return a.raw_qps + t * (b.raw_qps - a.raw_qps);
      }
    }
    return 0.0;
  };
  json targets = json::array();
  std::size_t chosen_ef = o.ef_values.back();
  for (double target : {0.90, 0.95, 0.99}) {
    for (const auto& p : points) {
      if (p.recall >= target) {
        const double raw_same_recall = raw_qps_at(p.recall);
        targets.push_back({{"target", target},
                           {"ef_search", p.ef},
                           {"recall_at_10", p.recall},
                           {"qps", p.qps},
                           {"hnswlib_qps_same_ef", p.raw_qps},
                           {"hnswlib_qps_same_recall", raw_same_recall},
                           {"qps_ratio", raw_same_recall > 0 ? p.qps / raw_same_recall : 0}});
        if (std::abs(target - o.recall_target) < 1e-9) {
          chosen_ef = p.ef;
          report["ef_search"] = p.ef;
          report["recall_at_10"] = p.recall;
          report["qps"] = p.qps;
          report["hnswlib_qps"] = raw_same_recall;
          report["hnswlib_qps_same_ef"] = p.raw_qps;
          report["qps_ratio"] = raw_same_recall > 0 ? p.qps / raw_same_recall : 0;
        }
        break;
      }
    }
  }
  report["targets"] = targets;
  if (!report.contains("recall_at_10")) {
    report["recall_at_10"] = points.empty() ? 0 : points.back().recall;
    report["note"] = "no ef_search value reached the recall target";
  }

  // ---------------------------------------------------------------- batch retrieval: 1 vs 2 workers
  kb->set_ef_search(chosen_ef);
  std::vector<Query> batch(o.batch_queries);
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i] = kb_queries[i % kb_queries.size()];
  auto retrieve = [&kb](const Query& q) { return kb->query(q); };
  std::vector<double> qps1, qps2;
  for (int run = 0; run < o.batch_runs; ++run) {
    for (std::size_t w : {std::size_t{1}, std::size_t{2}}) {
      BatchOptions bo;
      bo.min_workers = bo.max_workers = w;
      bo.adaptive = false;
      BatchRetriever br(retrieve, bo);
      t0 = SteadyClock::now();
      auto rs = br.retrieve_all(batch, seconds(600));
      const double secs = since(t0);
      for (const auto& r : rs)
        if (!r.ok()) return r.status();
      (w == 1 ? qps1 : qps2).push_back(static_cast<double>(batch.size()) / secs);
    }
    say("batch run " + std::to_string(run + 1) + ": 1 worker " + std::to_string(qps1.back()) + " q/s, 2 workers " +
        std::to_string(qps2.back()) + " q/s");
  }
  json batch_json = {{"queries_per_run", batch.size()},
                     {"ef_search", chosen_ef},
                     {"runs", o.batch_runs},
                     {"qps_1w", qps1},
                     {"qps_2w", qps2},
                     {"median_qps_1w", median(qps1)},
                     {"median_qps_2w", median(qps2)}};
  {
    BatchOptions bo;
    bo.min_workers = 1;
    bo.max_workers = 2;
    bo.adapt_interval = milliseconds(20);
    bo.target_latency = milliseconds(2);
    BatchRetriever br(retrieve, bo);
    t0 = SteadyClock::now();
    (void)br.retrieve_all(batch, seconds(600));
    const double secs = since(t0);
    const auto st = br.stats();
    batch_json["adaptive"] = {{"min_workers", 1},
                              {"max_workers", 2},
                              {"qps", static_cast<double>(batch.size()) / secs},
                              {"grows", st.grows},
                              {"shrinks", st.shrinks},
                              {"final_workers", st.active_workers},
                              {"worker_history", st.worker_history}};
  }
  report["batch"] = batch_json;
  report["batch_speedup_2w"] = median(qps1) > 0 ? median(qps2) / median(qps1) : 0;
  kb.reset();
  data.clear();
  data.shrink_to_fit();

  // ---------------------------------------------------------------- text knowledge base: runbooks + incidents
  say("building the text knowledge base (runbooks + " + std::to_string(o.incidents) + " incidents)");
  auto wordnet = WordNet::shared_default();
  KnowledgeBaseOptions to;
  to.hnsw.initial_capacity = 1024;
  KnowledgeBase text_kb(to, wordnet);
  auto runbooks = load_runbooks(o.runbook_dir.empty() ? default_runbook_dir() : o.runbook_dir);
  std::size_t runbook_count = 0;
  t0 = SteadyClock::now();
  if (runbooks.ok()) {
    runbook_count = runbooks->size();
    if (auto s = text_kb.add_all(std::move(runbooks).value()); !s.ok()) return s;
  }
  if (auto s = text_kb.add_bulk(generate_incidents(o.incidents, o.nodes, o.seed), o.build_threads); !s.ok()) return s;
  const double text_build = since(t0);
  report["text_kb"] = {{"runbooks", runbook_count},
                       {"incidents", o.incidents},
                       {"chunks", text_kb.stats().chunks},
                       {"wordnet", wordnet != nullptr},
                       {"build_seconds", text_build},
                       {"chunks_per_second", static_cast<double>(text_kb.stats().chunks) / text_build}};

  // ---------------------------------------------------------------- semantic cache on a Zipf stream
  say("semantic cache: " + std::to_string(o.stream) + " queries over " + std::to_string(o.topics) + " topics");
  const auto topics = generate_topics(o.topics, o.nodes, o.variants, o.seed);
  Zipf zipf(topics.size(), o.zipf_s);
  SemanticCacheOptions co;
  co.capacity = o.cache_capacity;
  co.similarity_threshold = o.cache_threshold;
  co.ttl = seconds(3600);
  SemanticCache cache(co);
  TimePoint sim_now = at(seconds(0));
  CachedRetriever cached(text_kb, &cache, [&] { return sim_now; });
  std::size_t hits = 0, correct = 0, paraphrase_hits = 0, paraphrase_correct = 0, first_seen_topics = 0;
  std::size_t repeat_queries = 0, novel_text_queries = 0;
  std::set<std::size_t> topics_seen;
  std::set<std::string> texts_seen;
  std::vector<double> hit_us, miss_us;
  Rng srng = Rng::derive(o.seed, 2);
  for (std::size_t i = 0; i < o.stream; ++i) {
    const std::size_t t = zipf.draw(srng);
    const auto& variants = topics[t].variants;
    const std::string& text =
        variants[static_cast<std::size_t>(srng.uniform_int(0, static_cast<std::int64_t>(variants.size()) - 1))];
    if (topics_seen.insert(t).second) ++first_seen_topics;
    const bool repeat_text = !texts_seen.insert(text).second;
    (repeat_text ? repeat_queries : novel_text_queries) += 1;
    Query q{text, {}, 5, SearchMode::kHybrid, {}};
    auto fresh = text_kb.query(q);
    if (!fresh.ok()) return fresh.status();
    auto c0 = SteadyClock::now();
    auto r = cached.retrieve(q);
    const double us = since(c0) * 1e6;
    if (!r.ok()) return r.status();
    sim_now += milliseconds(500);
    if (r->cache_hit) {
      hit_us.push_back(us);
      ++hits;
      const bool ok = !fresh->empty() && !r->hits.empty() && fresh->front().chunk_id == r->hits.front().chunk_id;
      correct += ok;
      if (r->cached_query != text) {
        ++paraphrase_hits;
        paraphrase_correct += ok;
      }
    } else {
      miss_us.push_back(us);
    }
  }
  const auto cstats = cache.stats();
  json cache_json = {
      {"stream", o.stream},
      {"topics", topics.size()},
      {"variants_per_topic", o.variants},
      {"zipf_s", o.zipf_s},
      {"capacity", o.cache_capacity},
      {"similarity_threshold", o.cache_threshold},
      {"hit_rate", static_cast<double>(hits) / static_cast<double>(o.stream)},
      {"correct_rate", hits ? static_cast<double>(correct) / static_cast<double>(hits) : 0},
      {"hits", hits},
      {"correct_hits", correct},
      {"paraphrase_hits", paraphrase_hits},
      {"paraphrase_hits_correct", paraphrase_correct},
      {"queries_with_new_text", novel_text_queries},
      {"paraphrase_hit_rate_on_new_text",
       novel_text_queries ? static_cast<double>(paraphrase_hits) / static_cast<double>(novel_text_queries) : 0},
      {"distinct_topics_seen", first_seen_topics},
      {"best_possible_hit_rate", 1.0 - static_cast<double>(first_seen_topics) / static_cast<double>(o.stream)},
      {"exact_repeat_only_hit_rate", static_cast<double>(repeat_queries) / static_cast<double>(o.stream)},
      {"evictions", cstats.evictions},
      {"expirations", cstats.expirations},
      {"misses", cstats.misses},
      {"end_to_end_hit_us_p50", percentile(hit_us, 0.5)},
      {"end_to_end_miss_us_p50", percentile(miss_us, 0.5)}};

  // Confusable pairs: with the guard, and without it (ablation), on a fresh cache each time.
  for (bool guard : {true, false}) {
    SemanticCacheOptions po = co;
    po.meaning_guard = guard;
    std::size_t false_hits = 0, above_threshold = 0;
    json examples = json::array();
    const auto pairs = confusable_pairs(o.nodes, o.seed, o.confusable);
    for (const auto& p : pairs) {
      SemanticCache pc(po);
      CachedRetriever pr(text_kb, &pc, [&] { return sim_now; });
      if (!pr.retrieve(Query{p.a, {}, 5, SearchMode::kHybrid, {}}).ok()) continue;
      auto rb = pr.retrieve(Query{p.b, {}, 5, SearchMode::kHybrid, {}});
      auto ea = text_kb.embed(p.a);
      auto eb = text_kb.embed(p.b);
      const float sim = dot(*ea, *eb);
      above_threshold += sim >= o.cache_threshold;
      if (rb.ok() && rb->cache_hit) {
        ++false_hits;
        if (examples.size() < 5) examples.push_back({{"a", p.a}, {"b", p.b}, {"similarity", sim}});
      }
    }
    cache_json[guard ? "confusable" : "confusable_without_guard"] = {
        {"pairs", pairs.size()},
        {"false_hits", false_hits},
        {"pairs_with_similarity_above_threshold", above_threshold},
        {"false_hit_examples", examples}};
  }

  // Memory per 1000 entries (heap in use before and after filling a fresh 1000-entry cache).
  say("semantic cache: memory and lookup latency at " + std::to_string(o.lookup_entries) + " entries");
  const auto fill_topics = generate_topics(std::max(o.lookup_entries, std::size_t{1000}) + 2000, 400, 2, o.seed + 7);
  std::vector<std::pair<CacheKey, std::string>> keys;
  keys.reserve(fill_topics.size());
  for (const auto& t : fill_topics) {
    Query q{t.variants[0], {}, 5, SearchMode::kHybrid, {}};
    keys.emplace_back(make_cache_key(q, *text_kb.embed(q.text)), q.text);
  }
  std::vector<CachedHit> five(5, CachedHit{1, 0.5f, 0.5f, 0.5f});
  // Memory: heap in use around filling entries 1000..2000 of a 2000-entry cache (the marginal cost of 1000
  // entries), and the fixed cost of an empty cache (hnswlib allocates 65536 update locks per index).
  {
    malloc_trim(0);
    const std::size_t empty_before = heap_in_use();
    auto mem_cache = std::make_unique<SemanticCache>(
        SemanticCacheOptions{.dim = o.dim, .capacity = 2000, .similarity_threshold = o.cache_threshold});
    const std::size_t empty_after = heap_in_use();
    for (std::size_t i = 0; i < 1000; ++i) mem_cache->put(keys[i].first, keys[i].second, five, 0, at(seconds(0)));
    const std::size_t before = heap_in_use();
    for (std::size_t i = 1000; i < 2000; ++i) mem_cache->put(keys[i].first, keys[i].second, five, 0, at(seconds(0)));
    const std::size_t after = heap_in_use();
    cache_json["bytes_per_1000_entries"] = after - before;
    cache_json["bytes_empty_cache_capacity_2000"] = empty_after - empty_before;
  }
  // Lookup latency (embedding excluded) with lookup_entries entries: half the lookups are paraphrases of stored
  // queries, half are queries not stored.
  {
    SemanticCache big(
        SemanticCacheOptions{.dim = o.dim, .capacity = o.lookup_entries, .similarity_threshold = o.cache_threshold});
    for (std::size_t i = 0; i < o.lookup_entries; ++i) big.put(keys[i].first, keys[i].second, five, 0, at(seconds(0)));
    std::vector<CacheKey> probes;
    for (std::size_t i = 0; i < 1000; ++i) {
      const auto& t = fill_topics[i * (o.lookup_entries / 1000)];
      probes.push_back(
          make_cache_key(Query{t.variants[1], {}, 5, SearchMode::kHybrid, {}}, *text_kb.embed(t.variants[1])));
      probes.push_back(keys[o.lookup_entries + i].first);
    }
    std::vector<double> us;
    std::size_t found = 0;
    for (const auto& k : probes) {
      auto c0 = SteadyClock::now();
      auto f = big.get(k, 0, at(seconds(1)));
      us.push_back(since(c0) * 1e6);
      found += f.has_value();
    }
    cache_json["lookup_entries"] = o.lookup_entries;
    cache_json["lookup_us_p50"] = percentile(us, 0.5);
    cache_json["lookup_us_p99"] = percentile(us, 0.99);
    cache_json["lookup_probes"] = probes.size();
    cache_json["lookup_probe_hits"] = found;
  }
  report["cache"] = cache_json;
  return report;
}

}  // namespace meshloop::rag
