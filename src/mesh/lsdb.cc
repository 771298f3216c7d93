#include "mesh/lsdb.h"

#include <algorithm>

namespace meshloop::mesh {

Lsdb::Verdict Lsdb::consider(const Lsa& lsa, TimePoint now) {
  auto it = entries_.find(lsa.origin);
  if (it == entries_.end() || it->second.lsa.seq < lsa.seq) {
    Entry& e = entries_[lsa.origin] = Entry{lsa, now};
    // Links are kept sorted by neighbour (routing looks them up by binary search), whatever order the sender used.
    std::sort(e.lsa.links.begin(), e.lsa.links.end(),
              [](const LinkAdvert& a, const LinkAdvert& b) { return a.neighbour < b.neighbour; });
    ++version_;
    return Verdict::kNewer;
  }
  return it->second.lsa.seq == lsa.seq ? Verdict::kSame : Verdict::kOlder;
}

void Lsdb::install_own(const Lsa& lsa, TimePoint now) {
  entries_[lsa.origin] = Entry{lsa, now};
  ++version_;
}

const Lsdb::Entry* Lsdb::find(NodeId origin) const {
  auto it = entries_.find(origin);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<NodeId> Lsdb::remove_expired(TimePoint now, Duration max_age, NodeId keep) {
  std::vector<NodeId> removed;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->first != keep && now - it->second.installed >= max_age) {
      removed.push_back(it->first);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  if (!removed.empty()) ++version_;
  return removed;
}

}  // namespace meshloop::mesh
