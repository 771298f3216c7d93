#include "rag/vector_index.h"

#include <hnswlib/hnswlib.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace meshloop::rag {

namespace {

// A private temporary file for hnswlib's path-based save/load, removed when this goes out of scope.
class TempFile {
 public:
  TempFile() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "meshloop-hnsw-XXXXXX").string();
    int fd = ::mkstemp(tmpl.data());
    if (fd >= 0) {
      ::close(fd);
      path_ = tmpl;
    }
  }
  ~TempFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool finite(std::span<const float> v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

}  // namespace

float dot(std::span<const float> a, std::span<const float> b) {
  float s = 0;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

struct HnswIndex::Impl {
  explicit Impl(int dim) : space(static_cast<std::size_t>(dim)) {}
  hnswlib::InnerProductSpace space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
};

HnswIndex::HnswIndex(HnswOptions options) : options_(options), impl_(std::make_unique<Impl>(options.dim)) {
  impl_->hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(
      &impl_->space, std::max<std::size_t>(options_.initial_capacity, 1), options_.m, options_.ef_construction,
      options_.seed);
  impl_->hnsw->setEf(options_.ef_search);
}

HnswIndex::~HnswIndex() = default;

Status HnswIndex::reserve(std::size_t capacity) {
  std::lock_guard lock(grow_mu_);
  if (capacity <= impl_->hnsw->max_elements_) return Status::Ok();
  try {
    impl_->hnsw->resizeIndex(capacity);
  } catch (const std::exception& e) {
    return Status::ResourceExhausted(std::string("hnsw: cannot grow the index: ") + e.what());
  }
  return Status::Ok();
}

Status HnswIndex::add(std::uint64_t id, std::span<const float> vector) {
  if (vector.size() != static_cast<std::size_t>(options_.dim)) {
    return Status::InvalidArgument("vector has " + std::to_string(vector.size()) + " dimensions, the index " +
                                   std::to_string(options_.dim));
  }
  if (!finite(vector)) return Status::InvalidArgument("vector holds a NaN or infinite value");
  {
    std::lock_guard lock(grow_mu_);
    auto& h = *impl_->hnsw;
    if (h.cur_element_count >= h.max_elements_ && !contains(id)) {
      try {
        h.resizeIndex(std::max<std::size_t>(h.max_elements_ * 2, 16));
      } catch (const std::exception& e) {
        return Status::ResourceExhausted(std::string("hnsw: cannot grow the index: ") + e.what());
      }
    }
  }
  try {
    impl_->hnsw->addPoint(vector.data(), static_cast<hnswlib::labeltype>(id));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("hnsw add failed: ") + e.what());
  }
  return Status::Ok();
}

Status HnswIndex::remove(std::uint64_t id) {
  if (!contains(id)) return Status::NotFound("id " + std::to_string(id) + " is not in the index");
  try {
    impl_->hnsw->markDelete(static_cast<hnswlib::labeltype>(id));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("hnsw remove failed: ") + e.what());
  }
  return Status::Ok();
}

bool HnswIndex::contains(std::uint64_t id) const {
  const auto& h = *impl_->hnsw;
  auto it = h.label_lookup_.find(static_cast<hnswlib::labeltype>(id));
  return it != h.label_lookup_.end() && !h.isMarkedDeleted(it->second);
}

Result<std::vector<Hit>> HnswIndex::search(std::span<const float> query, std::size_t k) const {
  if (query.size() != static_cast<std::size_t>(options_.dim)) {
    return Status::InvalidArgument("query has " + std::to_string(query.size()) + " dimensions, the index " +
                                   std::to_string(options_.dim));
  }
  std::vector<Hit> hits;
  if (k == 0 || size() == 0) return hits;
  try {
    auto pq = impl_->hnsw->searchKnn(query.data(), k);
    hits.resize(pq.size());
    for (std::size_t i = pq.size(); i-- > 0;) {
      hits[i] = Hit{static_cast<std::uint64_t>(pq.top().second), 1.0f - pq.top().first};
      pq.pop();
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("hnsw search failed: ") + e.what());
  }
  return hits;
}

void HnswIndex::set_ef_search(std::size_t ef) {
  options_.ef_search = ef;
  impl_->hnsw->setEf(ef);
}

Result<std::vector<float>> HnswIndex::vector(std::uint64_t id) const {
  if (!contains(id)) return Status::NotFound("id " + std::to_string(id) + " is not in the index");
  const auto& h = *impl_->hnsw;
  const auto internal = h.label_lookup_.at(static_cast<hnswlib::labeltype>(id));
  const auto* p = reinterpret_cast<const float*>(h.getDataByInternalId(internal));
  return std::vector<float>(p, p + options_.dim);
}

std::size_t HnswIndex::size() const { return impl_->hnsw->cur_element_count - impl_->hnsw->num_deleted_; }
std::size_t HnswIndex::deleted() const { return impl_->hnsw->num_deleted_; }
std::size_t HnswIndex::capacity() const { return impl_->hnsw->max_elements_; }

std::size_t HnswIndex::memory_bytes() const {
  const auto& h = *impl_->hnsw;
  std::size_t bytes = h.max_elements_ * (h.size_data_per_element_ + sizeof(void*) + sizeof(int) + sizeof(std::mutex));
  for (std::size_t i = 0; i < h.cur_element_count; ++i) {
    if (h.element_levels_[i] > 0) bytes += h.size_links_per_element_ * static_cast<std::size_t>(h.element_levels_[i]);
  }
  bytes += h.label_lookup_.size() * (sizeof(hnswlib::labeltype) + sizeof(hnswlib::tableint) + 2 * sizeof(void*));
  bytes += h.max_elements_ * sizeof(unsigned short);  // the visited list
  return bytes;
}

Result<std::string> HnswIndex::serialize() const {
  TempFile tmp;
  if (tmp.path().empty()) return Status::IoError("hnsw: cannot create a temporary file");
  try {
    impl_->hnsw->saveIndex(tmp.path());
  } catch (const std::exception& e) {
    return Status::IoError(std::string("hnsw save failed: ") + e.what());
  }
  std::ifstream in(tmp.path(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return Status::IoError("hnsw: cannot read back the saved index");
  return bytes;
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::deserialize(HnswOptions options, std::string_view bytes) {
  // Check the header against what we expect before hnswlib sees the bytes: it trusts its sizes.
  constexpr std::size_t kHeader = 8 * 6 + 4 + 4 + 8 * 3 + 8 + 8;
  if (bytes.size() < kHeader) return Status::Corruption("hnsw index: shorter than its header");
  auto read_u64 = [&](std::size_t off) {
    std::uint64_t v = 0;
    std::memcpy(&v, bytes.data() + off, 8);
    return v;
  };
  const std::uint64_t count = read_u64(16);
  const std::uint64_t per_element = read_u64(24);
  const std::uint64_t expected_per_element =
      (2 * options.m) * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint) +
      static_cast<std::uint64_t>(options.dim) * sizeof(float) + sizeof(hnswlib::labeltype);
  if (per_element != expected_per_element) {
    return Status::Corruption("hnsw index: element size " + std::to_string(per_element) + " does not match dim " +
                              std::to_string(options.dim) + " and M " + std::to_string(options.m));
  }
  if (expected_per_element == 0 || count > bytes.size() / expected_per_element) return Status::Corruption("hnsw index: element count exceeds the file");

  TempFile tmp;
  if (tmp.path().empty()) return Status::IoError("hnsw: cannot create a temporary file");
  {
    std::ofstream out(tmp.path(), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Status::IoError("hnsw: cannot write a temporary file");
  }
  auto index = std::make_unique<HnswIndex>(HnswOptions{options.dim, options.m, options.ef_construction,
                                                       options.ef_search, 1, options.seed});
  try {
    auto loaded = std::make_unique<hnswlib::HierarchicalNSW<float>>(&index->impl_->space);
    loaded->num_deleted_ = 0;
    loaded->loadIndex(tmp.path(), &index->impl_->space, std::max<std::size_t>(count, options.initial_capacity));
    std::size_t deleted = 0;
    for (std::size_t i = 0; i < loaded->cur_element_count; ++i) deleted += loaded->isMarkedDeleted(i) ? 1 : 0;
    loaded->num_deleted_ = deleted;
    loaded->metric_distance_computations = 0;
    loaded->metric_hops = 0;
    loaded->level_generator_.seed(options.seed + loaded->cur_element_count);
    loaded->update_probability_generator_.seed(options.seed + 1);
    loaded->setEf(options.ef_search);
    index->impl_->hnsw = std::move(loaded);
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("hnsw index refused: ") + e.what());
  }
  return index;
}

Status ExactIndex::add(std::uint64_t id, std::span<const float> vector) {
  if (vector.size() != static_cast<std::size_t>(dim_)) return Status::InvalidArgument("wrong dimension");
  auto it = std::find(ids_.begin(), ids_.end(), id);
  if (it != ids_.end()) {
    std::copy(vector.begin(), vector.end(), data_.begin() + (it - ids_.begin()) * dim_);
    return Status::Ok();
  }
  ids_.push_back(id);
  data_.insert(data_.end(), vector.begin(), vector.end());
  return Status::Ok();
}

Status ExactIndex::remove(std::uint64_t id) {
  auto it = std::find(ids_.begin(), ids_.end(), id);
  if (it == ids_.end()) return Status::NotFound("id not in the index");
  const auto pos = static_cast<std::size_t>(it - ids_.begin());
  ids_.erase(it);
  data_.erase(data_.begin() + static_cast<std::ptrdiff_t>(pos * static_cast<std::size_t>(dim_)),
              data_.begin() + static_cast<std::ptrdiff_t>((pos + 1) * static_cast<std::size_t>(dim_)));
  return Status::Ok();
}

Result<std::vector<Hit>> ExactIndex::search(std::span<const float> query, std::size_t k) const {
  if (query.size() != static_cast<std::size_t>(dim_)) return Status::InvalidArgument("wrong dimension");
  std::vector<Hit> all(ids_.size());
  const auto d = static_cast<std::size_t>(dim_);
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    all[i] = Hit{ids_[i], dot(query, std::span<const float>(data_.data() + i * d, d))};
  }
  k = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(),
                    [](const Hit& a, const Hit& b) { return a.score > b.score || (a.score == b.score && a.id < b.id); });
  all.resize(k);
  return all;
}

struct RawHnswlibBaseline::Impl {
  Impl(int dim, std::size_t capacity, std::size_t m, std::size_t efc, std::uint64_t seed)
      : space(static_cast<std::size_t>(dim)), hnsw(&space, capacity, m, efc, seed) {}
  hnswlib::InnerProductSpace space;
  hnswlib::HierarchicalNSW<float> hnsw;
};

RawHnswlibBaseline::RawHnswlibBaseline(int dim, std::size_t capacity, std::size_t m, std::size_t ef_construction,
                                       std::uint64_t seed)
    : impl_(std::make_unique<Impl>(dim, capacity, m, ef_construction, seed)) {}
RawHnswlibBaseline::~RawHnswlibBaseline() = default;
void RawHnswlibBaseline::add(const float* vector, std::uint64_t label) { impl_->hnsw.addPoint(vector, label); }
void RawHnswlibBaseline::set_ef(std::size_t ef) { impl_->hnsw.setEf(ef); }
std::size_t RawHnswlibBaseline::search(const float* query, std::size_t k, std::uint64_t* out) const {
  auto pq = impl_->hnsw.searchKnn(query, k);
  const std::size_t n = pq.size();
  for (std::size_t i = n; i-- > 0;) {
    out[i] = pq.top().second;
    pq.pop();
  }
  return n;
}

}  // namespace meshloop::rag
