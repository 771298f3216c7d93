// The link-state database: the newest LSA of every origin, with its install time for ageing.
//
// Newer means a higher sequence number (no wrap handling: 2^32 originations at one per second is 136 years).
// Every change bumps version(), which is how the node knows SPF is due.
// Thread-safety: none; owned by one Node.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "core/time.h"
#include "mesh/types.h"
#include "mesh/wire.h"

namespace meshloop::mesh {

class Lsdb {
 public:
  struct Entry {
    Lsa lsa;
    TimePoint installed;
  };
  enum class Verdict : std::uint8_t { kNewer, kSame, kOlder };

  // Compares `lsa` with what we hold for its origin and installs it when it is newer (or unknown).
  Verdict consider(const Lsa& lsa, TimePoint now);
  // Replaces our own entry unconditionally (we are its only author).
  void install_own(const Lsa& lsa, TimePoint now);
  const Entry* find(NodeId origin) const;
  // Drops entries older than max_age, except `keep` (our own); returns the origins dropped.
  std::vector<NodeId> remove_expired(TimePoint now, Duration max_age, NodeId keep);

  const std::map<NodeId, Entry>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  std::uint64_t version() const { return version_; }

 private:
  std::map<NodeId, Entry> entries_;  // ordered: iteration order never depends on hashing
  std::uint64_t version_ = 0;
};

}  // namespace meshloop::mesh
