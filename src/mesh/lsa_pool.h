// LsaPool: one immutable copy of each advertisement for every link-state database in a process.
//
// A mesh's databases converge on the same LSAs; a simulator running a thousand nodes in one process otherwise holds
// a thousand copies of each, and every node's reads of them (flooding, the two-way check, graph patches) miss the
// cache on its own copy. Databases given a pool share the copy the first of them installed: one object per
// (origin, sequence number, content), read by all of them. A real node needs none (Lsdb copies into a private one).
// Thread-safety: none. Share a pool only among databases driven by one thread (one simulation).
#pragma once

#include <memory>
#include <unordered_map>

#include "mesh/wire.h"

namespace meshloop::mesh {

class LsaPool {
 public:
  // An immutable LSA equal to `lsa` (links as given: the database sorts them first): the pooled one when it is equal,
  // else a new one, which replaces the pooled one of its origin unless that is newer and still in use. The pool keeps
  // at most one LSA per origin alive beyond its databases' own.
  std::shared_ptr<const Lsa> intern(const Lsa& lsa) {
    std::shared_ptr<const Lsa>& pooled = latest_[lsa.origin];
    if (pooled && pooled->seq == lsa.seq && pooled->flags == lsa.flags && pooled->links == lsa.links) return pooled;
    auto copy = std::make_shared<const Lsa>(lsa);
    // Newer replaces older; so does anything the pool alone still holds (its databases are gone: a finished run).
    if (!pooled || pooled->seq <= lsa.seq || pooled.use_count() == 1) pooled = copy;
    return copy;
  }

 private:
  std::unordered_map<NodeId, std::shared_ptr<const Lsa>> latest_;
};

}  // namespace meshloop::mesh
