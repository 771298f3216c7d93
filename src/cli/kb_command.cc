// `meshloop kb add|remove|query|stats|bench`: the knowledge base from the command line. The store is one crash-safe
// file (--kb, or MESHLOOP_KB_PATH, default ./meshloop-kb.mlkb); a new store starts with the operator runbooks.
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/commands.h"
#include "rag/bench.h"
#include "rag/corpus.h"
#include "rag/http.h"
#include "rag/knowledge_base.h"
#include "rag/semantic_cache.h"

namespace meshloop::cli {

namespace {

struct KbFlags {
  std::string path;
  bool no_runbooks = false;
  std::string runbooks;
};

std::string default_kb_path() {
  const char* env = std::getenv("MESHLOOP_KB_PATH");
  return env && *env ? env : "meshloop-kb.mlkb";
}

// Opens the store, or creates it (with the runbooks unless disabled). A damaged file is an error, never ignored.
Result<std::unique_ptr<rag::KnowledgeBase>> open_kb(const KbFlags& f, bool* created) {
  auto wordnet = rag::WordNet::shared_default();
  auto loaded = rag::KnowledgeBase::load(f.path, wordnet);
  if (loaded.ok()) {
    *created = false;
    return loaded;
  }
  if (loaded.status().code() != StatusCode::kNotFound) return loaded.status();
  *created = true;
  auto kb = std::make_unique<rag::KnowledgeBase>(rag::KnowledgeBaseOptions{}, wordnet);
  if (!f.no_runbooks) {
    auto docs = rag::load_runbooks(f.runbooks.empty() ? rag::default_runbook_dir() : f.runbooks);
    if (!docs.ok()) return docs.status();
    if (auto s = kb->add_all(std::move(docs).value()); !s.ok()) return s;
  }
  return kb;
}

int fail(const Status& s) {
  std::cerr << "meshloop kb: " << s.to_string() << "\n";
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kNotFound ? 2 : 1;
}

std::vector<std::string> split_csv(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

void add_kb_command(CLI::App& app) {
  auto* kb = app.add_subcommand("kb", "The knowledge base: runbooks and incidents, hybrid search, semantic cache");
  kb->require_subcommand(1);
  auto flags = std::make_shared<KbFlags>();
  flags->path = default_kb_path();
  kb->add_option("--kb", flags->path, "Knowledge-base file (env MESHLOOP_KB_PATH)")->capture_default_str();
  kb->add_flag("--no-runbooks", flags->no_runbooks, "Do not load docs/runbooks into a new knowledge base");
  kb->add_option("--runbooks", flags->runbooks, "Runbook directory (default: docs/runbooks, env MESHLOOP_RUNBOOKS)");

  // add
  struct AddArgs {
    std::string id, title, text, file, json_file, kind = "note", node, tags;
    std::int64_t time = 0;
  };
  auto add_args = std::make_shared<AddArgs>();
  auto* add = kb->add_subcommand("add", "Add (or replace) documents and save");
  add->add_option("--id", add_args->id, "Document id (default: the file name)");
  add->add_option("--title", add_args->title, "Title");
  add->add_option("--text", add_args->text, "Text of the document");
  add->add_option("--file", add_args->file, "Read the text from this file");
  add->add_option("--json", add_args->json_file,
                  "A JSON file in the body format of POST /api/v1/kb/documents ({\"documents\":[...]})");
  add->add_option("--kind", add_args->kind, "Metadata: kind (runbook, incident, note, ...)")->capture_default_str();
  add->add_option("--node", add_args->node, "Metadata: node");
  add->add_option("--time", add_args->time, "Metadata: time (seconds)");
  add->add_option("--tags", add_args->tags, "Metadata: comma-separated tags");
  add->callback([flags, add_args] {
    bool created = false;
    auto kbr = open_kb(*flags, &created);
    if (!kbr.ok()) {
      exit_code() = fail(kbr.status());
      return;
    }
    auto& store = **kbr;
    if (!add_args->json_file.empty()) {
      std::ifstream in(add_args->json_file);
      if (!in) {
        exit_code() = fail(Status::NotFound("cannot read " + add_args->json_file));
        return;
      }
      std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto reply = rag::handle_add_documents(store, body);
      std::cout << reply.body.dump(2) << "\n";
      if (reply.status >= 400) {
        exit_code() = reply.status >= 500 ? 1 : 2;
        return;
      }
    } else {
      rag::Document d;
      d.id = add_args->id;
      d.text = add_args->text;
      if (!add_args->file.empty()) {
        std::ifstream in(add_args->file);
        if (!in) {
          exit_code() = fail(Status::NotFound("cannot read " + add_args->file));
          return;
        }
        d.text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (d.id.empty()) d.id = add_args->file;
      }
      d.title = add_args->title.empty() ? d.id : add_args->title;
      d.meta = rag::DocumentMeta{add_args->kind, add_args->node, add_args->time, split_csv(add_args->tags)};
      if (auto s = store.add(std::move(d)); !s.ok()) {
        exit_code() = fail(s);
        return;
      }
    }
    if (auto s = store.save(flags->path); !s.ok()) {
      exit_code() = fail(s);
      return;
    }
    const auto st = store.stats();
    std::cout << (created ? "created " : "updated ") << flags->path << ": " << st.documents << " documents, "
              << st.chunks << " chunks\n";
  });

  // remove
  auto remove_id = std::make_shared<std::string>();
  auto* rm = kb->add_subcommand("remove", "Remove a document by id and save");
  rm->add_option("id", *remove_id, "Document id")->required();
  rm->callback([flags, remove_id] {
    bool created = false;
    auto kbr = open_kb(*flags, &created);
    if (!kbr.ok()) {
      exit_code() = fail(kbr.status());
      return;
    }
    if (auto s = (*kbr)->remove(*remove_id); !s.ok()) {
      exit_code() = fail(s);
      return;
    }
    if (auto s = (*kbr)->save(flags->path); !s.ok()) exit_code() = fail(s);
  });

  // query
  struct QueryArgs {
    std::string text, mode = "hybrid", kind, node, tags;
    std::size_t k = 5;
    bool json = false;
  };
  auto qa = std::make_shared<QueryArgs>();
  auto* query = kb->add_subcommand("query", "Search the knowledge base");
  query->add_option("text", qa->text, "What to look for")->required();
  query->add_option("-k", qa->k, "Number of results")->capture_default_str();
  query->add_option("--mode", qa->mode, "vector, keyword or hybrid")->capture_default_str();
  query->add_option("--kind", qa->kind, "Filter: kind");
  query->add_option("--node", qa->node, "Filter: node");
  query->add_option("--tags", qa->tags, "Filter: all of these comma-separated tags");
  query->add_flag("--json", qa->json, "Print the HTTP API's JSON response");
  query->callback([flags, qa] {
    bool created = false;
    auto kbr = open_kb(*flags, &created);
    if (!kbr.ok()) {
      exit_code() = fail(kbr.status());
      return;
    }
    nlohmann::json body = {{"query", qa->text}, {"k", qa->k}, {"mode", qa->mode}};
    nlohmann::json filter = nlohmann::json::object();
    if (!qa->kind.empty()) filter["kind"] = qa->kind;
    if (!qa->node.empty()) filter["node"] = qa->node;
    if (!qa->tags.empty()) filter["tags"] = split_csv(qa->tags);
    if (!filter.empty()) body["filter"] = filter;
    rag::CachedRetriever retriever(**kbr, nullptr, nullptr);
    auto reply = rag::handle_query(retriever, body.dump());
    if (qa->json || reply.status >= 400) {
      std::cout << reply.body.dump(2) << "\n";
      if (reply.status >= 400) exit_code() = 2;
      return;
    }
    int rank = 1;
    for (const auto& h : reply.body["results"]) {
      std::cout << rank++ << ". [" << h["score"].get<double>() << "] " << h["title"].get<std::string>() << "  ("
                << h["doc_id"].get<std::string>() << ")\n";
      std::string text = h["text"].get<std::string>();
      if (text.size() > 240) text = text.substr(0, 240) + "...";
      for (char& c : text)
        if (c == '\n') c = ' ';
      std::cout << "   " << text << "\n";
    }
  });

  // stats
  auto stats_json = std::make_shared<bool>(false);
  auto* stats = kb->add_subcommand("stats", "Documents, chunks, index size");
  stats->add_flag("--json", *stats_json, "JSON output");
  stats->callback([flags, stats_json] {
    bool created = false;
    auto kbr = open_kb(*flags, &created);
    if (!kbr.ok()) {
      exit_code() = fail(kbr.status());
      return;
    }
    const auto j = rag::stats_json(**kbr, nullptr);
    if (*stats_json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::cout << "file: " << flags->path << (created ? " (not saved yet: showing a fresh store)" : "") << "\n";
    for (const auto& [k, v] : j.items()) std::cout << k << ": " << v.dump() << "\n";
  });

  // bench
  struct BenchArgs {
    rag::BenchOptions options;
    std::string report;
    bool quick = false;
  };
  auto ba = std::make_shared<BenchArgs>();
  auto* bench = kb->add_subcommand("bench", "Measure recall, QPS vs raw hnswlib, batch scaling and the semantic cache");
  bench->add_option("--report", ba->report, "Write the JSON report here");
  bench->add_option("--vectors", ba->options.vectors, "Vectors in the index")->capture_default_str();
  bench->add_option("--queries", ba->options.queries, "Queries for recall and QPS")->capture_default_str();
  bench->add_option("--clusters", ba->options.clusters, "Clusters in the generated data")->capture_default_str();
  bench->add_option("--threads", ba->options.build_threads, "Build threads")->capture_default_str();
  bench->add_option("--batch-runs", ba->options.batch_runs, "Runs of the batch comparison")->capture_default_str();
  bench->add_option("--stream", ba->options.stream, "Queries in the cache stream")->capture_default_str();
  bench->add_option("--cache-threshold", ba->options.cache_threshold, "Cache similarity threshold")->capture_default_str();
  bench->add_option("--seed", ba->options.seed, "Seed")->capture_default_str();
  bench->add_flag("--quick", ba->quick, "Small sizes (a smoke run, seconds)");
  bench->callback([flags, ba] {
    auto o = ba->options;
    o.runbook_dir = flags->runbooks;
    if (ba->quick) {
      o.vectors = 5000;
      o.queries = 200;
      o.clusters = 50;
      o.batch_queries = 800;
      o.batch_runs = 3;
      o.incidents = 300;
      o.stream = 600;
      o.lookup_entries = 2000;
      o.ef_values = {16, 32, 64, 128};
    }
    auto r = rag::run_bench(o, [](const std::string& line) { std::cerr << "[kb bench] " << line << "\n"; });
    if (!r.ok()) {
      exit_code() = fail(r.status());
      return;
    }
    (*r)["command"] = "meshloop kb bench" + std::string(ba->quick ? " --quick" : "") +
                      (ba->report.empty() ? "" : " --report " + ba->report);
    if (!ba->report.empty()) {
      std::ofstream out(ba->report);
      out << r->dump(2) << "\n";
      if (!out) {
        exit_code() = fail(Status::IoError("cannot write " + ba->report));
        return;
      }
    }
    const auto& j = *r;
    std::cout << "recall@10 " << j.value("recall_at_10", 0.0) << " at ef " << j.value("ef_search", 0) << ": "
              << j.value("qps", 0.0) << " q/s vs raw hnswlib " << j.value("hnswlib_qps", 0.0) << " (ratio "
              << j.value("qps_ratio", 0.0) << ")\n"
              << "batch speedup at 2 workers: " << j.value("batch_speedup_2w", 0.0) << "\n"
              << "cache: hit rate " << j["cache"]["hit_rate"] << ", correct " << j["cache"]["correct_rate"]
              << ", lookup p50 " << j["cache"]["lookup_us_p50"] << " us, " << j["cache"]["bytes_per_1000_entries"]
              << " bytes per 1000 entries, confusable false hits " << j["cache"]["confusable"]["false_hits"] << "\n";
  });
}

}  // namespace meshloop::cli
