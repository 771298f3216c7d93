#include "rag/knowledge_base.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "rag/durable_file.h"

namespace meshloop::rag {

using nlohmann::json;

namespace {
constexpr std::size_t kMaxK = 1000;
constexpr std::uint32_t kTagMeta = section_tag("META");
constexpr std::uint32_t kTagEmbedder = section_tag("EMBD");
constexpr std::uint32_t kTagHnsw = section_tag("HNSW");

bool by_score(const Hit& a, const Hit& b) { return a.score > b.score || (a.score == b.score && a.id < b.id); }
}  // namespace

bool Filter::matches(const DocumentMeta& m) const {
  if (kind && m.kind != *kind) return false;
  if (node && m.node != *node) return false;
  if (time_from && m.time < *time_from) return false;
  if (time_to && m.time > *time_to) return false;
  for (const auto& t : tags_all) {
    if (std::find(m.tags.begin(), m.tags.end(), t) == m.tags.end()) return false;
  }
  return true;
}

const char* search_mode_name(SearchMode mode) {
  switch (mode) {
    case SearchMode::kVector: return "vector";
    case SearchMode::kKeyword: return "keyword";
    case SearchMode::kHybrid: return "hybrid";
  }
  return "hybrid";
}

Result<SearchMode> parse_search_mode(const std::string& name) {
  if (name == "vector") return SearchMode::kVector;
  if (name == "keyword" || name == "bm25") return SearchMode::kKeyword;
  if (name == "hybrid") return SearchMode::kHybrid;
  return Status::InvalidArgument("mode must be vector, keyword or hybrid, not '" + name + "'");
}

Status normalize_vector(std::vector<float>& v) {
  double norm = 0;
  for (float x : v) {
    if (!std::isfinite(x)) return Status::InvalidArgument("vector holds a NaN or infinite value");
    norm += static_cast<double>(x) * x;
  }
  if (norm <= 0) return Status::InvalidArgument("vector is all zeros");
  const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& x : v) x *= inv;
  return Status::Ok();
}

KnowledgeBase::KnowledgeBase(KnowledgeBaseOptions options, std::shared_ptr<const WordNet> wordnet)
    : options_(options),
      wordnet_(std::move(wordnet)),
      embedder_(options.embedder, wordnet_),
      index_(std::make_unique<HnswIndex>(options.hnsw)),
      bm25_(wordnet_ ? Bm25Index::Normalizer([wn = wordnet_](const std::string& w) { return wn->lemma(w); })
                     : Bm25Index::Normalizer()) {
  options_.embedder.dim = options_.hnsw.dim;
}

std::vector<std::string> KnowledgeBase::chunk_text(const std::string& text) const {
  // Paragraphs (blank-line separated) packed greedily up to chunk_chars; a longer paragraph is cut into windows
  // of chunk_chars with chunk_overlap, preferring a break at a sentence end or a space.
  std::vector<std::string> paragraphs;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find("\n\n", pos);
    if (end == std::string::npos) end = text.size();
    std::string p = text.substr(pos, end - pos);
    if (p.find_first_not_of(" \t\r\n") != std::string::npos) paragraphs.push_back(std::move(p));
    pos = end + 2;
  }
  const std::size_t limit = std::max<std::size_t>(options_.chunk_chars, 50);
  const std::size_t overlap = std::min(options_.chunk_overlap, limit / 2);
  std::vector<std::string> chunks;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) chunks.push_back(std::move(cur));
    cur.clear();
  };
  for (auto& p : paragraphs) {
    if (p.size() > limit) {
      flush();
      std::size_t start = 0;
      while (start < p.size()) {
        std::size_t end = std::min(p.size(), start + limit);
        if (end < p.size()) {
          std::size_t cut = p.rfind(". ", end);
          if (cut == std::string::npos || cut <= start + limit / 2) cut = p.rfind(' ', end);
          if (cut != std::string::npos && cut > start + limit / 2) end = cut + 1;
        }
        chunks.push_back(p.substr(start, end - start));
        if (end >= p.size()) break;
        start = end > start + overlap ? end - overlap : end;
        // Start the overlap on a word boundary.
        std::size_t sp = p.find(' ', start);
        if (sp != std::string::npos && sp < end) start = sp + 1;
      }
      continue;
    }
    if (!cur.empty() && cur.size() + 2 + p.size() > limit) flush();
    if (!cur.empty()) cur += "\n\n";
    cur += p;
  }
  flush();
  return chunks;
}

Status KnowledgeBase::add(Document doc) {
  if (doc.id.empty()) return Status::InvalidArgument("document id is empty");
  if (options_.external_vectors) {
    if (!doc.vector) return Status::InvalidArgument("external-vector mode: document '" + doc.id + "' has no vector");
    if (doc.vector->size() != static_cast<std::size_t>(options_.hnsw.dim)) {
      return Status::InvalidArgument("document '" + doc.id + "' vector has " + std::to_string(doc.vector->size()) +
                                     " dimensions, expected " + std::to_string(options_.hnsw.dim));
    }
    if (auto s = normalize_vector(*doc.vector); !s.ok()) {
      return Status::InvalidArgument("document '" + doc.id + "': " + s.message());
    }
  } else {
    if (doc.vector) {
      return Status::InvalidArgument("document '" + doc.id +
                                     "' brings a vector, but this knowledge base embeds text itself");
    }
    if (doc.text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Status::InvalidArgument("document '" + doc.id + "' has no text");
    }
  }

  std::unique_lock lock(mu_);
  if (docs_.count(doc.id)) {
    if (auto s = remove_locked(doc.id); !s.ok()) return s;
  }
  std::vector<std::string> pieces;
  if (options_.external_vectors) {
    pieces.push_back(doc.text);
  } else {
    pieces = chunk_text(doc.text);
    for (const auto& p : pieces) embedder_.observe(doc.title + "\n" + p);
  }
  DocRecord rec{doc.title, doc.meta, {}};
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const std::uint64_t cid = next_chunk_id_++;
    std::vector<float> v = options_.external_vectors ? *doc.vector : embedder_.embed(doc.title + "\n" + pieces[i]);
    if (auto s = index_->add(cid, v); !s.ok()) {
      for (auto done : rec.chunks) {
        (void)index_->remove(done);
        bm25_.remove(done);
        chunks_.erase(done);
      }
      return s;
    }
    if (!pieces[i].empty()) bm25_.add(cid, doc.title + "\n" + pieces[i]);
    chunks_.emplace(cid, ChunkRecord{doc.id, static_cast<std::uint32_t>(i), std::move(pieces[i])});
    rec.chunks.push_back(cid);
  }
  docs_.emplace(doc.id, std::move(rec));
  version_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

Status KnowledgeBase::add_all(std::vector<Document> docs) {
  for (auto& d : docs) {
    if (auto s = add(std::move(d)); !s.ok()) return s;
  }
  return Status::Ok();
}

Status KnowledgeBase::add_bulk(std::vector<Document> docs, int threads) {
  std::unordered_set<std::string> ids;
  for (auto& d : docs) {
    if (d.id.empty()) return Status::InvalidArgument("document id is empty");
    if (!ids.insert(d.id).second) return Status::InvalidArgument("document id '" + d.id + "' appears twice");
    if (options_.external_vectors) {
      if (!d.vector || d.vector->size() != static_cast<std::size_t>(options_.hnsw.dim)) {
        return Status::InvalidArgument("document '" + d.id + "' needs a vector of " +
                                       std::to_string(options_.hnsw.dim) + " floats");
      }
      if (auto s = normalize_vector(*d.vector); !s.ok()) return Status::InvalidArgument("document '" + d.id + "': " + s.message());
    } else if (d.vector || d.text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Status::InvalidArgument("document '" + d.id + "' needs text and no vector");
    }
  }
  std::unique_lock lock(mu_);
  for (const auto& d : docs) {
    if (docs_.count(d.id)) return Status::InvalidArgument("document id '" + d.id + "' already exists");
  }
  struct Pending {
    std::uint64_t chunk_id;
    std::size_t doc;
    std::string text;  // what is embedded (title + chunk)
  };
  std::vector<Pending> pending;
  std::vector<std::vector<std::string>> pieces(docs.size());
  for (std::size_t i = 0; i < docs.size(); ++i) {
    pieces[i] = options_.external_vectors ? std::vector<std::string>{docs[i].text} : chunk_text(docs[i].text);
    for (const auto& p : pieces[i]) {
      std::string t = docs[i].title + "\n" + p;
      if (!options_.external_vectors) embedder_.observe(t);
      pending.push_back(Pending{next_chunk_id_++, i, std::move(t)});
    }
  }
  if (auto s = index_->reserve(index_->size() + index_->deleted() + pending.size() + 1); !s.ok()) return s;
  std::atomic<std::size_t> next{0};
  std::mutex err_mu;
  Status first_error;
  auto work = [&] {
    for (std::size_t j = next++; j < pending.size(); j = next++) {
      const auto& p = pending[j];
      Status s = options_.external_vectors ? index_->add(p.chunk_id, *docs[p.doc].vector)
                                           : index_->add(p.chunk_id, embedder_.embed(p.text));
      if (!s.ok()) {
        std::lock_guard g(err_mu);
        if (first_error.ok()) first_error = s;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(threads, 1); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (!first_error.ok()) return first_error;
  std::size_t j = 0;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    DocRecord rec{docs[i].title, docs[i].meta, {}};
    for (std::size_t c = 0; c < pieces[i].size(); ++c, ++j) {
      const auto cid = pending[j].chunk_id;
      if (!pieces[i][c].empty()) bm25_.add(cid, pending[j].text);
      chunks_.emplace(cid, ChunkRecord{docs[i].id, static_cast<std::uint32_t>(c), std::move(pieces[i][c])});
      rec.chunks.push_back(cid);
    }
    docs_.emplace(docs[i].id, std::move(rec));
  }
  version_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

Status KnowledgeBase::remove(const std::string& doc_id) {
  std::unique_lock lock(mu_);
  auto s = remove_locked(doc_id);
  if (s.ok()) version_.fetch_add(1, std::memory_order_acq_rel);
  return s;
}

Status KnowledgeBase::remove_locked(const std::string& doc_id) {
  auto it = docs_.find(doc_id);
  if (it == docs_.end()) return Status::NotFound("no document with id '" + doc_id + "'");
  for (auto cid : it->second.chunks) {
    (void)index_->remove(cid);
    bm25_.remove(cid);
    chunks_.erase(cid);
  }
  docs_.erase(it);
  return Status::Ok();
}

bool KnowledgeBase::chunk_allowed(std::uint64_t chunk_id, const Filter& f) const {
  auto c = chunks_.find(chunk_id);
  if (c == chunks_.end()) return false;
  if (f.empty()) return true;
  auto d = docs_.find(c->second.doc_id);
  return d != docs_.end() && f.matches(d->second.meta);
}

Result<std::vector<Hit>> KnowledgeBase::vector_side(std::span<const float> q, std::size_t want,
                                                    const Filter& f) const {
  if (f.empty()) return index_->search(q, want);
  // A selective filter: score its chunks exactly (exact, and cheaper than over-fetching a graph search).
  std::vector<std::uint64_t> allowed;
  for (const auto& [id, d] : docs_) {
    if (!f.matches(d.meta)) continue;
    allowed.insert(allowed.end(), d.chunks.begin(), d.chunks.end());
    if (allowed.size() > options_.exact_filter_limit) break;
  }
  if (allowed.size() <= options_.exact_filter_limit) {
    std::vector<Hit> hits;
    hits.reserve(allowed.size());
    for (auto id : allowed) {
      auto v = index_->vector(id);
      if (v.ok()) hits.push_back(Hit{id, dot(q, *v)});
    }
    const std::size_t top = std::min(want, hits.size());
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(top), hits.end(), by_score);
    hits.resize(top);
    return hits;
  }
  // A broad filter: over-fetch from the graph, doubling until enough pass or the whole index was seen.
  std::size_t fetch = want * std::max<std::size_t>(options_.candidates_per_result, 2);
  while (true) {
    auto r = index_->search(q, fetch);
    if (!r.ok()) return r.status();
    std::vector<Hit> hits;
    for (const auto& h : *r) {
      if (chunk_allowed(h.id, f)) hits.push_back(h);
      if (hits.size() == want) break;
    }
    if (hits.size() == want || fetch >= index_->size()) return hits;
    fetch = std::min(fetch * 2, index_->size());
  }
}

QueryHit KnowledgeBase::make_hit(std::uint64_t chunk_id) const {
  QueryHit h;
  h.chunk_id = chunk_id;
  auto c = chunks_.find(chunk_id);
  if (c == chunks_.end()) return h;
  h.doc_id = c->second.doc_id;
  h.chunk_index = c->second.index;
  h.text = c->second.text;
  if (auto d = docs_.find(c->second.doc_id); d != docs_.end()) {
    h.title = d->second.title;
    h.meta = d->second.meta;
  }
  return h;
}

Result<std::vector<QueryHit>> KnowledgeBase::query(const Query& q) const {
  if (q.k == 0 || q.k > kMaxK) return Status::InvalidArgument("k must be between 1 and " + std::to_string(kMaxK));
  const bool has_text = q.text.find_first_not_of(" \t\r\n") != std::string::npos;
  const bool wants_vector = q.mode != SearchMode::kKeyword;
  const bool wants_keyword = q.mode != SearchMode::kVector;
  std::vector<float> qv;
  if (wants_vector) {
    if (options_.external_vectors) {
      if (!q.vector) return Status::InvalidArgument("this knowledge base uses external vectors: the query needs one");
      if (q.vector->size() != static_cast<std::size_t>(options_.hnsw.dim)) {
        return Status::InvalidArgument("query vector has " + std::to_string(q.vector->size()) +
                                       " dimensions, expected " + std::to_string(options_.hnsw.dim));
      }
      qv = *q.vector;
      if (auto s = normalize_vector(qv); !s.ok()) return s;
    } else if (q.vector) {
      return Status::InvalidArgument("this knowledge base embeds text itself: send text, not a vector");
    }
  }
  if (wants_keyword && !has_text) return Status::InvalidArgument("query text is empty");
  if (wants_vector && !options_.external_vectors && !has_text) return Status::InvalidArgument("query text is empty");

  std::shared_lock lock(mu_);
  if (wants_vector && !options_.external_vectors) qv = embedder_.embed(q.text);
  const bool fused = q.mode == SearchMode::kHybrid;
  const std::size_t want = fused ? q.k * std::max<std::size_t>(options_.candidates_per_result, 1) : q.k;

  std::vector<Hit> vec_hits, key_hits;
  if (wants_vector) {
    auto r = vector_side(qv, want, q.filter);
    if (!r.ok()) return r.status();
    vec_hits = std::move(r).value();
  }
  if (wants_keyword) {
    std::function<bool(std::uint64_t)> allow;
    if (!q.filter.empty()) allow = [&](std::uint64_t id) { return chunk_allowed(id, q.filter); };
    key_hits = bm25_.search(q.text, want, allow);
  }

  std::vector<QueryHit> out;
  if (!fused) {
    const auto& hits = wants_vector ? vec_hits : key_hits;
    out.reserve(hits.size());
    for (const auto& h : hits) {
      QueryHit qh = make_hit(h.id);
      qh.score = h.score;
      (wants_vector ? qh.vector_score : qh.keyword_score) = h.score;
      out.push_back(std::move(qh));
    }
    return out;
  }
  // Reciprocal rank fusion: score = sum over lists of 1 / (rrf_k + rank), rank from 1.
  struct Fused {
    double rrf = 0;
    float vec = 0, key = 0;
  };
  std::unordered_map<std::uint64_t, Fused> fused_scores;
  const double rk = static_cast<double>(options_.rrf_k);
  for (std::size_t i = 0; i < vec_hits.size(); ++i) {
    auto& f = fused_scores[vec_hits[i].id];
    f.rrf += 1.0 / (rk + static_cast<double>(i + 1));
    f.vec = vec_hits[i].score;
  }
  for (std::size_t i = 0; i < key_hits.size(); ++i) {
    auto& f = fused_scores[key_hits[i].id];
    f.rrf += 1.0 / (rk + static_cast<double>(i + 1));
    f.key = key_hits[i].score;
  }
  std::vector<std::pair<std::uint64_t, Fused>> ranked(fused_scores.begin(), fused_scores.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.second.rrf != b.second.rrf) return a.second.rrf > b.second.rrf;
    if (a.second.vec != b.second.vec) return a.second.vec > b.second.vec;
    return a.first < b.first;
  });
  if (ranked.size() > q.k) ranked.resize(q.k);
  out.reserve(ranked.size());
  for (const auto& [id, f] : ranked) {
    QueryHit qh = make_hit(id);
    qh.score = static_cast<float>(f.rrf);
    qh.vector_score = f.vec;
    qh.keyword_score = f.key;
    out.push_back(std::move(qh));
  }
  return out;
}

Result<std::vector<QueryHit>> KnowledgeBase::materialize(const std::vector<CachedHit>& hits) const {
  std::shared_lock lock(mu_);
  std::vector<QueryHit> out;
  out.reserve(hits.size());
  for (const auto& h : hits) {
    if (!chunks_.count(h.chunk_id)) return Status::NotFound("chunk " + std::to_string(h.chunk_id) + " is gone");
    QueryHit qh = make_hit(h.chunk_id);
    qh.score = h.score;
    qh.vector_score = h.vector_score;
    qh.keyword_score = h.keyword_score;
    out.push_back(std::move(qh));
  }
  return out;
}

Result<std::vector<float>> KnowledgeBase::embed(const std::string& text) const {
  if (options_.external_vectors) {
    return Status::FailedPrecondition("this knowledge base uses external vectors; it has no text embedder");
  }
  std::shared_lock lock(mu_);
  return embedder_.embed(text);
}

void KnowledgeBase::set_ef_search(std::size_t ef) {
  std::unique_lock lock(mu_);
  index_->set_ef_search(ef);
  options_.hnsw.ef_search = ef;
}

bool KnowledgeBase::contains(const std::string& doc_id) const {
  std::shared_lock lock(mu_);
  return docs_.count(doc_id) > 0;
}

KnowledgeBaseStats KnowledgeBase::stats() const {
  std::shared_lock lock(mu_);
  KnowledgeBaseStats s;
  s.documents = docs_.size();
  s.chunks = chunks_.size();
  s.index_deleted = index_->deleted();
  s.index_bytes = index_->memory_bytes();
  s.wordnet = wordnet_ != nullptr;
  s.external_vectors = options_.external_vectors;
  s.version = version();
  for (const auto& [id, d] : docs_) ++s.documents_by_kind[d.meta.kind.empty() ? "(none)" : d.meta.kind];
  return s;
}

namespace {
json meta_to_json(const DocumentMeta& m) {
  return json{{"kind", m.kind}, {"node", m.node}, {"time", m.time}, {"tags", m.tags}};
}
DocumentMeta meta_from_json(const json& j) {
  DocumentMeta m;
  m.kind = j.at("kind").get<std::string>();
  m.node = j.at("node").get<std::string>();
  m.time = j.at("time").get<std::int64_t>();
  m.tags = j.at("tags").get<std::vector<std::string>>();
  return m;
}
}  // namespace

Status KnowledgeBase::save(const std::string& path) const {
  std::unique_lock lock(mu_);  // hnswlib's save must not race an add
  json meta;
  meta["format"] = "meshloop-kb";
  meta["options"] = {{"dim", options_.hnsw.dim},
                     {"m", options_.hnsw.m},
                     {"ef_construction", options_.hnsw.ef_construction},
                     {"ef_search", options_.hnsw.ef_search},
                     {"seed", options_.hnsw.seed},
                     {"external_vectors", options_.external_vectors},
                     {"chunk_chars", options_.chunk_chars},
                     {"chunk_overlap", options_.chunk_overlap},
                     {"rrf_k", options_.rrf_k},
                     {"wordnet", wordnet_ != nullptr}};
  meta["next_chunk_id"] = next_chunk_id_;
  meta["version"] = version();
  json docs = json::array();
  std::vector<const std::string*> ids;
  for (const auto& [id, d] : docs_) ids.push_back(&id);
  std::sort(ids.begin(), ids.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  for (const auto* id : ids) {
    const auto& d = docs_.at(*id);
    json chunks = json::array();
    for (auto cid : d.chunks) {
      const auto& c = chunks_.at(cid);
      chunks.push_back({{"id", cid}, {"text", c.text}});
    }
    docs.push_back({{"id", *id}, {"title", d.title}, {"meta", meta_to_json(d.meta)}, {"chunks", chunks}});
  }
  meta["documents"] = std::move(docs);
  auto graph = index_->serialize();
  if (!graph.ok()) return graph.status();
  std::vector<Section> sections;
  sections.push_back({kTagMeta, meta.dump()});
  sections.push_back({kTagEmbedder, embedder_.serialize_state()});
  sections.push_back({kTagHnsw, std::move(graph).value()});
  return write_file_atomically(path, encode_container(sections));
}

Result<std::unique_ptr<KnowledgeBase>> KnowledgeBase::load(const std::string& path,
                                                           std::shared_ptr<const WordNet> wordnet) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  auto sections = decode_container(*bytes);
  if (!sections.ok()) return Status::Corruption(path + ": " + sections.status().message());
  const std::string* meta_bytes = nullptr;
  const std::string* embd_bytes = nullptr;
  const std::string* hnsw_bytes = nullptr;
  for (const auto& s : *sections) {
    if (s.tag == kTagMeta) meta_bytes = &s.bytes;
    if (s.tag == kTagEmbedder) embd_bytes = &s.bytes;
    if (s.tag == kTagHnsw) hnsw_bytes = &s.bytes;
  }
  if (!meta_bytes || !embd_bytes || !hnsw_bytes) return Status::Corruption(path + ": a section is missing");
  try {
    const json meta = json::parse(*meta_bytes);
    if (meta.at("format") != "meshloop-kb") return Status::Corruption(path + ": not a knowledge-base file");
    const auto& o = meta.at("options");
    KnowledgeBaseOptions opts;
    opts.hnsw.dim = o.at("dim").get<int>();
    opts.hnsw.m = o.at("m").get<std::size_t>();
    opts.hnsw.ef_construction = o.at("ef_construction").get<std::size_t>();
    opts.hnsw.ef_search = o.at("ef_search").get<std::size_t>();
    opts.hnsw.seed = o.at("seed").get<std::uint64_t>();
    opts.external_vectors = o.at("external_vectors").get<bool>();
    opts.chunk_chars = o.at("chunk_chars").get<std::size_t>();
    opts.chunk_overlap = o.at("chunk_overlap").get<std::size_t>();
    opts.rrf_k = o.at("rrf_k").get<std::size_t>();
    if (opts.hnsw.dim <= 0 || opts.hnsw.dim > 65536 || opts.hnsw.m < 2 || opts.hnsw.m > 1024) {
      return Status::Corruption(path + ": index options out of range");
    }
    if (o.at("wordnet").get<bool>() && !wordnet) {
      return Status::FailedPrecondition(path + " was built with WordNet synonyms, which are not installed here");
    }
    if (!o.at("wordnet").get<bool>()) wordnet = nullptr;
    auto kb = std::make_unique<KnowledgeBase>(opts, wordnet);
    if (auto s = kb->embedder_.restore_state(*embd_bytes); !s.ok()) return Status::Corruption(path + ": " + s.message());
    auto index = HnswIndex::deserialize(opts.hnsw, *hnsw_bytes);
    if (!index.ok()) return Status::Corruption(path + ": " + index.status().message());
    kb->index_ = std::move(index).value();
    kb->next_chunk_id_ = meta.at("next_chunk_id").get<std::uint64_t>();
    std::size_t chunk_count = 0;
    for (const auto& d : meta.at("documents")) {
      DocRecord rec;
      const auto id = d.at("id").get<std::string>();
      rec.title = d.at("title").get<std::string>();
      rec.meta = meta_from_json(d.at("meta"));
      std::uint32_t index_in_doc = 0;
      for (const auto& c : d.at("chunks")) {
        const auto cid = c.at("id").get<std::uint64_t>();
        auto text = c.at("text").get<std::string>();
        if (!kb->index_->contains(cid)) {
          return Status::Corruption(path + ": chunk " + std::to_string(cid) + " has no vector in the index");
        }
        if (!text.empty()) kb->bm25_.add(cid, rec.title + "\n" + text);
        kb->chunks_.emplace(cid, ChunkRecord{id, index_in_doc++, std::move(text)});
        rec.chunks.push_back(cid);
        ++chunk_count;
      }
      kb->docs_.emplace(id, std::move(rec));
    }
    if (chunk_count != kb->index_->size()) {
      return Status::Corruption(path + ": the index holds " + std::to_string(kb->index_->size()) +
                                " live vectors but the documents list " + std::to_string(chunk_count) + " chunks");
    }
    kb->version_.store(meta.at("version").get<std::uint64_t>());
    return kb;
  } catch (const json::exception& e) {
    return Status::Corruption(path + ": metadata does not parse: " + e.what());
  }
}

}  // namespace meshloop::rag
