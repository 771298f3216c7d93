// The link-state database: the newest LSA of every origin, with its install time for ageing.
//
// Newer means a higher sequence number (no wrap handling: 2^32 originations at one per second is 136 years).
// Every change bumps version(), which is how the node knows SPF is due.
//
// Storage is flat: each origin gets a dense slot the first time it is seen and keeps it for the life of the database
// (an aged-out entry leaves its slot empty until the origin is heard again). The node indexes its per-neighbour
// flooding state by slot, so the hot path of flooding (an LSA received, queued to every neighbour, acknowledged)
// is array indexing instead of tree walks: at 1000 nodes the std::map this replaces was a third of the simulator's
// time. Iteration for SPF and database exchange goes through a sorted list of origins, so no order ever depends on
// hashing or on arrival order.
// Thread-safety: none; owned by one Node.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/time.h"
#include "mesh/lsa_pool.h"
#include "mesh/types.h"
#include "mesh/wire.h"

namespace meshloop::mesh {

using LsdbSlot = std::uint32_t;
constexpr LsdbSlot kNoSlot = UINT32_MAX;

class Lsdb {
 public:
  struct Entry {
    std::shared_ptr<const Lsa> shared;  // immutable: replaced, never edited (shared through a pool, see lsa_pool.h)
    TimePoint installed;
    const Lsa& lsa() const { return *shared; }
  };
  // `pool`, when given, makes LSAs equal to another database's the same object (a simulator's nodes share one).
  explicit Lsdb(std::shared_ptr<LsaPool> pool = nullptr) : pool_(std::move(pool)) {}
  enum class Verdict : std::uint8_t { kNewer, kSame, kOlder };

  // Compares `lsa` with what we hold for its origin and installs it when it is newer (or unknown). Links are stored
  // sorted by neighbour (routing looks them up by binary search), whatever order the sender used.
  Verdict consider(const Lsa& lsa, TimePoint now);
  // Replaces our own entry unconditionally (we are its only author).
  void install_own(const Lsa& lsa, TimePoint now);
  const Entry* find(NodeId origin) const;
  // Drops entries older than max_age, except `keep` (our own); returns the origins dropped.
  std::vector<NodeId> remove_expired(TimePoint now, Duration max_age, NodeId keep);

  // The slot of `origin` (kNoSlot if it was never seen). Slots are dense, 0..slot_count()-1, and never move.
  LsdbSlot slot_of(NodeId origin) const;
  std::size_t slot_count() const { return slots_.size(); }
  // The entry in `slot`, or nullptr while it is empty. REQUIRES: slot < slot_count().
  const Entry* at(LsdbSlot slot) const { return slots_[slot].present ? &slots_[slot].entry : nullptr; }

  // Calls fn(const Entry&) for every entry, in ascending origin order.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (LsdbSlot s : order_) fn(slots_[s].entry);
  }
  std::size_t size() const { return order_.size(); }
  std::uint64_t version() const { return version_; }
  // The version() at which `slot` last changed (installed or removed): a reader that remembers the version it last
  // saw finds what changed since by scanning these stamps, one compact array.
  std::uint64_t changed_at(LsdbSlot slot) const { return stamps_[slot]; }

 private:
  struct Slot {
    Entry entry;
    bool present = false;
  };
  Slot& slot_for(NodeId origin);  // creates the slot on first sight
  void install(Slot& slot, const Lsa& lsa, TimePoint now);

  // Origin -> slot: open addressing over a power-of-two table of (origin, slot) pairs (kNoNode marks an empty cell).
  // One cache line per lookup where a node-based hash map costs two or three misses; looked up only, never iterated.
  struct Cell {
    NodeId origin = kNoNode;
    LsdbSlot slot = kNoSlot;
  };
  std::size_t cell_of(NodeId origin) const;  // the cell holding origin, or the empty cell where it would go
  void grow();

  std::shared_ptr<LsaPool> pool_;
  std::vector<Slot> slots_;
  std::vector<std::uint64_t> stamps_;  // by slot, see changed_at()
  std::vector<Cell> index_ = std::vector<Cell>(16);
  std::vector<LsdbSlot> order_;                 // slots present, by ascending origin
  std::uint64_t version_ = 0;
  TimePoint oldest_installed_{};  // a lower bound on the install time of every entry but `keep`
};

}  // namespace meshloop::mesh
