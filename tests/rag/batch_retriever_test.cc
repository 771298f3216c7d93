// The batch retriever: input order, deadlines, backpressure, and a worker count that really changes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "rag/batch_retriever.h"

namespace meshloop::rag {
namespace {

// A retrieval that echoes the query text as the doc id after `work` of busy time (so workers really compete for
// CPU, unlike a sleep).
BatchRetriever::Retrieve echo(std::chrono::microseconds work, std::atomic<int>* concurrent = nullptr,
                              std::atomic<int>* peak = nullptr) {
  return [=](const Query& q) -> Result<std::vector<QueryHit>> {
    if (concurrent) {
      int now = ++*concurrent;
      int p = peak->load();
      while (now > p && !peak->compare_exchange_weak(p, now)) {}
    }
    auto end = std::chrono::steady_clock::now() + work;
    while (std::chrono::steady_clock::now() < end) {}
    if (concurrent) --*concurrent;
    QueryHit h;
    h.doc_id = q.text;
    return std::vector<QueryHit>{h};
  };
}

std::vector<Query> queries(int n) {
  std::vector<Query> out;
  for (int i = 0; i < n; ++i) out.push_back(Query{"q" + std::to_string(i), {}, 1, SearchMode::kHybrid, {}});
  return out;
}

TEST(BatchRetriever, ReturnsResultsInInputOrder) {
  BatchOptions o;
  o.min_workers = o.max_workers = 2;
  o.queue_capacity = 4;  // smaller than the batch: exercises the submitter waiting for room
  BatchRetriever br(echo(std::chrono::microseconds(200)), o);
  auto qs = queries(50);
  auto rs = br.retrieve_all(qs, seconds(10));
  ASSERT_EQ(rs.size(), qs.size());
  for (std::size_t i = 0; i < qs.size(); ++i) {
    ASSERT_TRUE(rs[i].ok());
    EXPECT_EQ(rs[i]->at(0).doc_id, qs[i].text);
  }
  EXPECT_LE(br.stats().max_queue_depth, 4u);
}

TEST(BatchRetriever, QueriesPastTheirDeadlineFailWithDeadlineExceeded) {
  // A simulated clock: each retrieval advances it by 10 ms; the deadline is 25 ms after submission. The first
  // retrieval waits at a gate until all six are queued, so every submission happens at t = 0.
  std::atomic<std::int64_t> now_us{0};
  std::atomic<bool> gate{false};
  BatchOptions o;
  o.min_workers = o.max_workers = 1;
  o.adaptive = false;
  o.queue_capacity = 8;
  auto slow = [&](const Query& q) -> Result<std::vector<QueryHit>> {
    while (!gate) std::this_thread::yield();
    now_us += 10000;
    QueryHit h;
    h.doc_id = q.text;
    return std::vector<QueryHit>{h};
  };
  BatchRetriever br(slow, o, [&] { return at(microseconds(now_us.load())); });
  std::vector<std::future<Result<std::vector<QueryHit>>>> futures;
  for (const auto& q : queries(6)) {
    auto f = br.try_submit(q, milliseconds(25));
    ASSERT_TRUE(f.ok());
    futures.push_back(std::move(f).value());
  }
  gate = true;
  std::vector<Result<std::vector<QueryHit>>> rs;
  for (auto& f : futures) rs.push_back(f.get());
  // q0 ends at 10 ms, q1 at 20 ms, q2 would end at 30 ms > 25 ms, the rest start after the deadline.
  EXPECT_TRUE(rs[0].ok());
  EXPECT_TRUE(rs[1].ok());
  for (std::size_t i = 2; i < 6; ++i) {
    ASSERT_FALSE(rs[i].ok()) << i;
    EXPECT_EQ(rs[i].status().code(), StatusCode::kDeadlineExceeded);
  }
  EXPECT_EQ(br.stats().deadline_exceeded, 4u);
}

TEST(BatchRetriever, TrySubmitRefusesWhenTheQueueIsFull) {
  BatchOptions o;
  o.min_workers = o.max_workers = 1;
  o.queue_capacity = 2;
  std::atomic<bool> release{false};
  auto blocked = [&](const Query&) -> Result<std::vector<QueryHit>> {
    while (!release) std::this_thread::yield();
    return std::vector<QueryHit>{};
  };
  BatchRetriever br(blocked, o);
  std::vector<std::future<Result<std::vector<QueryHit>>>> accepted;
  int refused = 0;
  for (int i = 0; i < 10; ++i) {
    auto f = br.try_submit(Query{"q", {}, 1, SearchMode::kHybrid, {}}, seconds(10));
    if (f.ok()) {
      accepted.push_back(std::move(f).value());
    } else {
      EXPECT_EQ(f.status().code(), StatusCode::kResourceExhausted);
      ++refused;
    }
  }
  EXPECT_LE(accepted.size(), 3u);  // one running, two queued
  EXPECT_GE(refused, 7);
  release = true;
  for (auto& f : accepted) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(br.stats().rejected, static_cast<std::uint64_t>(refused));
}

TEST(BatchRetriever, WorkerCountIsEnforcedAndAdaptsUpUnderBacklog) {
  std::atomic<int> concurrent{0}, peak{0};
  BatchOptions fixed;
  fixed.min_workers = fixed.max_workers = 1;
  {
    BatchRetriever br(echo(std::chrono::microseconds(300), &concurrent, &peak), fixed);
    (void)br.retrieve_all(queries(40), seconds(10));
  }
  EXPECT_EQ(peak.load(), 1);  // max_workers really bounds concurrency

  peak = 0;
  BatchOptions adaptive;
  adaptive.min_workers = 1;
  adaptive.max_workers = 2;
  adaptive.adapt_interval = milliseconds(5);
  adaptive.target_latency = milliseconds(1);
  adaptive.min_gain = -1.0;  // keep any grow: this test checks the mechanism, not this machine's core count
  BatchRetriever br(echo(std::chrono::microseconds(300), &concurrent, &peak), adaptive);
  (void)br.retrieve_all(queries(300), seconds(10));
  EXPECT_GE(br.stats().grows, 1u);
  EXPECT_EQ(peak.load(), 2);
}

}  // namespace
}  // namespace meshloop::rag
