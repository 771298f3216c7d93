#include "mesh/lsdb.h"

#include <algorithm>

namespace meshloop::mesh {

std::size_t Lsdb::cell_of(NodeId origin) const {
  const std::size_t mask = index_.size() - 1;
  std::size_t h = (static_cast<std::uint64_t>(origin) * 0x9E3779B97F4A7C15ull) >> 32 & mask;
  while (index_[h].origin != kNoNode && index_[h].origin != origin) h = (h + 1) & mask;
  return h;
}

void Lsdb::grow() {
  std::vector<Cell> old = std::move(index_);
  index_.assign(old.size() * 2, Cell{});
  for (const Cell& c : old) {
    if (c.origin != kNoNode) index_[cell_of(c.origin)] = c;
  }
}

LsdbSlot Lsdb::slot_of(NodeId origin) const { return index_[cell_of(origin)].slot; }

Lsdb::Slot& Lsdb::slot_for(NodeId origin) {
  std::size_t c = cell_of(origin);
  if (index_[c].origin == kNoNode) {
    if (2 * (slots_.size() + 1) > index_.size()) {  // keep the load at most 1/2: probes stay short
      grow();
      c = cell_of(origin);
    }
    index_[c] = Cell{origin, static_cast<LsdbSlot>(slots_.size())};
    slots_.emplace_back();
    stamps_.push_back(0);
  }
  return slots_[index_[c].slot];
}

void Lsdb::install(Slot& slot, const Lsa& lsa, TimePoint now) {
  if (!slot.present) {
    const auto self = static_cast<LsdbSlot>(&slot - slots_.data());
    auto at = std::lower_bound(order_.begin(), order_.end(), lsa.origin,
                               [this](LsdbSlot s, NodeId id) { return slots_[s].entry.lsa().origin < id; });
    order_.insert(at, self);
    slot.present = true;
  }
  slot.entry.shared = pool_ ? pool_->intern(lsa) : std::make_shared<const Lsa>(lsa);
  slot.entry.installed = now;
  oldest_installed_ = std::min(oldest_installed_, now);
  stamps_[static_cast<std::size_t>(&slot - slots_.data())] = ++version_;
}

Lsdb::Verdict Lsdb::consider(const Lsa& lsa, TimePoint now) {
  Slot& slot = slot_for(lsa.origin);
  if (slot.present && slot.entry.lsa().seq >= lsa.seq) {
    return slot.entry.lsa().seq == lsa.seq ? Verdict::kSame : Verdict::kOlder;
  }
  auto by_neighbour = [](const LinkAdvert& a, const LinkAdvert& b) { return a.neighbour < b.neighbour; };
  if (std::is_sorted(lsa.links.begin(), lsa.links.end(), by_neighbour)) {
    install(slot, lsa, now);
  } else {
    Lsa sorted = lsa;
    std::sort(sorted.links.begin(), sorted.links.end(), by_neighbour);
    install(slot, sorted, now);
  }
  return Verdict::kNewer;
}

void Lsdb::install_own(const Lsa& lsa, TimePoint now) { install(slot_for(lsa.origin), lsa, now); }

const Lsdb::Entry* Lsdb::find(NodeId origin) const {
  const LsdbSlot s = slot_of(origin);
  return s == kNoSlot ? nullptr : at(s);
}

std::vector<NodeId> Lsdb::remove_expired(TimePoint now, Duration max_age, NodeId keep) {
  std::vector<NodeId> removed;
  // Nothing can have expired before the oldest entry seen by the last scan does (installs only add newer ones).
  if (oldest_installed_ == kTimeNever || now < oldest_installed_ + max_age) return removed;
  oldest_installed_ = kTimeNever;
  std::erase_if(order_, [&](LsdbSlot s) {  // slots stay mapped to their origin: a later LSA reuses them
    Slot& slot = slots_[s];
    const NodeId origin = slot.entry.lsa().origin;
    if (origin == keep) return false;
    if (now - slot.entry.installed < max_age) {
      oldest_installed_ = std::min(oldest_installed_, slot.entry.installed);
      return false;
    }
    slot.present = false;
    slot.entry.shared.reset();
    stamps_[s] = version_ + 1;  // the bump below
    removed.push_back(origin);
    return true;
  });
  if (!removed.empty()) ++version_;
  return removed;
}

}  // namespace meshloop::mesh
