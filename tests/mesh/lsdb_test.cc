#include "mesh/lsdb.h"

#include <gtest/gtest.h>

namespace meshloop::mesh {
namespace {

Lsa lsa(NodeId origin, std::uint32_t seq, std::vector<LinkAdvert> links) {
  return Lsa{origin, seq, 0, std::move(links)};
}

TEST(LsdbTest, InstallsNewerKeepsLinksSortedAndJudgesCopies) {
  Lsdb db;
  EXPECT_EQ(db.consider(lsa(7, 2, {{9, 100}, {3, 120}}), kTimeZero), Lsdb::Verdict::kNewer);
  EXPECT_EQ(db.find(7)->lsa().links, (std::vector<LinkAdvert>{{3, 120}, {9, 100}}));
  EXPECT_EQ(db.consider(lsa(7, 2, {{3, 120}, {9, 100}}), kTimeZero), Lsdb::Verdict::kSame);
  EXPECT_EQ(db.consider(lsa(7, 1, {}), kTimeZero), Lsdb::Verdict::kOlder);
  EXPECT_EQ(db.consider(lsa(7, 3, {{3, 120}}), kTimeZero), Lsdb::Verdict::kNewer);
  EXPECT_EQ(db.find(7)->lsa().seq, 3u);
}

// Databases sharing a pool hold one object per advertisement: what one installed, the others reuse.
TEST(LsdbTest, DatabasesSharingAPoolShareEqualAdvertisements) {
  auto pool = std::make_shared<LsaPool>();
  Lsdb a(pool), b(pool), c;
  for (Lsdb* db : {&a, &b, &c}) db->consider(lsa(7, 2, {{9, 100}, {3, 120}}), kTimeZero);
  EXPECT_EQ(&a.find(7)->lsa(), &b.find(7)->lsa());
  EXPECT_NE(&a.find(7)->lsa(), &c.find(7)->lsa()) << "a database without the pool keeps its own copy";
  EXPECT_EQ(a.find(7)->lsa(), c.find(7)->lsa());

  // A newer one replaces the old in the database that installs it; the other keeps its own until it hears of it.
  a.consider(lsa(7, 3, {{3, 120}}), kTimeZero);
  EXPECT_EQ(a.find(7)->lsa().seq, 3u);
  EXPECT_EQ(b.find(7)->lsa().seq, 2u);
  b.consider(lsa(7, 3, {{3, 120}}), kTimeZero);
  EXPECT_EQ(&a.find(7)->lsa(), &b.find(7)->lsa());

  // Same origin and sequence number but other content (a restarted origin reusing a number): never confused.
  Lsdb d(pool);
  d.consider(lsa(7, 3, {{4, 100}}), kTimeZero);
  EXPECT_EQ(d.find(7)->lsa().links, (std::vector<LinkAdvert>{{4, 100}}));
  EXPECT_EQ(a.find(7)->lsa().links, (std::vector<LinkAdvert>{{3, 120}}));
}

TEST(LsdbTest, ExpiredEntriesLeaveAndTheirOriginsComeBack) {
  auto pool = std::make_shared<LsaPool>();
  Lsdb db(pool);
  db.install_own(lsa(1, 1, {{2, 100}}), kTimeZero);
  db.consider(lsa(2, 1, {{1, 100}}), kTimeZero);
  const auto removed = db.remove_expired(kTimeZero + seconds(61), seconds(60), 1);
  EXPECT_EQ(removed, std::vector<NodeId>{2});
  EXPECT_EQ(db.find(2), nullptr);
  EXPECT_NE(db.find(1), nullptr) << "our own is kept";
  EXPECT_EQ(db.consider(lsa(2, 1, {{1, 100}}), kTimeZero + seconds(62)), Lsdb::Verdict::kNewer);
  EXPECT_EQ(db.size(), 2u);
}

}  // namespace
}  // namespace meshloop::mesh
