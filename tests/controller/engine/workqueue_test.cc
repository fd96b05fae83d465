// The workqueue on its own: deduplication, processing exclusivity, backoff, token bucket, delays.
#include <utility>

#include <future>

#include "controller/workqueue.h"
#include "tests/controller/engine/fakes.h"

namespace anf::controller {
namespace {

using namespace std::chrono_literals;

const DocumentKey kA{Kind::Volume, "a"};
const DocumentKey kB{Kind::Volume, "b"};

TEST(WorkQueue, DeduplicatesAndRequeuesAKeyAddedWhileProcessing) {
  testing::IoThread io;
  WorkQueue q(io.io);
  q.add(kA);
  q.add(kA);
  q.add(kA);
  EXPECT_EQ(q.len(), 1u);
  auto key = q.get();
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, kA);
  q.add(kA);  // while processing: remembered, not handed out
  EXPECT_EQ(q.len(), 0u);
  q.done(kA);
  EXPECT_EQ(q.len(), 1u);
}

const DocumentKey kC{Kind::Volume, "c"};

TEST(WorkQueue, AnEditIsTakenBeforeQueuedResyncKeys) {
  testing::IoThread io;
  WorkQueue q(io.io);
  q.add(kA, Priority::Low);  // a resync pass queued these
  q.add(kB, Priority::Low);
  q.add(kC);  // then a document changed
  EXPECT_EQ(q.get(), kC);
  EXPECT_EQ(q.get(), kA);  // resync keys keep their order
  EXPECT_EQ(q.get(), kB);
}

TEST(WorkQueue, DeduplicationKeepsTheHigherPriority) {
  testing::IoThread io;
  WorkQueue q(io.io);
  q.add(kA, Priority::Low);
  q.add(kB, Priority::Low);
  q.add(kB);                 // an edit of a key the resync already queued moves it ahead
  q.add(kB, Priority::Low);  // and a later resync does not move it back
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(q.get(), kB);
  EXPECT_EQ(q.get(), kA);
}

TEST(WorkQueue, AKeyAddedWhileProcessingReturnsAtItsHighestPriority) {
  testing::IoThread io;
  WorkQueue q(io.io);
  q.add(kA);
  ASSERT_EQ(q.get(), kA);
  q.add(kB, Priority::Low);
  q.add(kA, Priority::Low);
  q.add(kA);  // an edit while kA is reconciled
  q.done(kA);
  EXPECT_EQ(q.get(), kA);
  EXPECT_EQ(q.get(), kB);
}

TEST(WorkQueue, EightWorkersNeverHoldTheSameKey) {
  testing::IoThread io;
  WorkQueue q(io.io);
  std::mutex mutex;
  std::set<DocumentKey> held;
  std::atomic<int> collisions{0}, processed{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 8; ++i)
    workers.emplace_back([&] {
      while (auto key = q.get()) {
        {
          std::lock_guard lock(mutex);
          if (!held.insert(*key).second) ++collisions;
        }
        std::this_thread::yield();
        {
          std::lock_guard lock(mutex);
          held.erase(*key);
        }
        ++processed;
        q.done(*key);
      }
    });
  for (int i = 0; i < 2000; ++i) q.add(i % 2 ? kA : kB);
  ASSERT_TRUE(q.waitIdle(5s));
  q.shutDown();
  for (auto& w : workers) w.join();
  EXPECT_EQ(collisions, 0);
  EXPECT_GE(processed, 2);
  EXPECT_LE(processed, 2000);
}

struct BackoffCase {
  std::string name;
  BackoffOptions options;
  int failures;
  std::vector<int> wantMillis;  // delays of when() calls in order
};

class BackoffTest : public ::testing::TestWithParam<BackoffCase> {};

TEST_P(BackoffTest, ItemBackoffGrowsExponentiallyUpToTheCap) {
  const auto& c = GetParam();
  RateLimiter limiter(c.options);
  std::vector<int> got;
  for (int i = 0; i < c.failures; ++i) got.push_back(static_cast<int>(limiter.when(kA).count()));
  EXPECT_EQ(got, c.wantMillis);
  EXPECT_EQ(limiter.numRequeues(kA), c.failures);
  limiter.forget(kA);
  EXPECT_EQ(limiter.numRequeues(kA), 0);
  EXPECT_EQ(limiter.when(kA).count(), c.wantMillis.front()) << "forget resets the backoff";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BackoffTest,
    ::testing::Values(BackoffCase{"defaults", {}, 6, {5, 10, 20, 40, 80, 160}},
                      BackoffCase{"capped", {.baseDelay = 5ms, .maxDelay = 30ms}, 5, {5, 10, 20, 30, 30}},
                      BackoffCase{"reachesThousandSeconds", {}, 30, [] {
                                    std::vector<int> v;
                                    for (int i = 0; i < 30; ++i) v.push_back(std::min<long>(5L << i, 1'000'000L));
                                    return v;
                                  }()}),
    [](const auto& info) { return info.param.name; });

TEST(RateLimiter, TokenBucketDelaysBeyondTheBurstAndTheLargerDelayWins) {
  RateLimiter limiter({.baseDelay = 5ms, .maxDelay = 1000s, .bucketQps = 10, .bucketBurst = 3});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.when({Kind::Volume, "k" + std::to_string(i)}), 5ms) << i;
  // The burst is spent: a fresh key waits for the bucket (~100 ms at 10 qps), not its own 5 ms.
  const auto delay = limiter.when({Kind::Volume, "fresh"});
  EXPECT_GT(delay, 50ms);
  EXPECT_LE(delay, 100ms);
}

TEST(WorkQueue, AddAfterDeliversLaterAndTheEarliestDelayWins) {
  testing::IoThread io;
  WorkQueue q(io.io);
  const auto start = std::chrono::steady_clock::now();
  q.addAfter(kA, 10s);
  q.addAfter(kA, 30ms);  // earlier: replaces the 10 s timer
  q.addAfter(kA, 5s);    // later: ignored
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.waiting(), 1u);
  auto key = q.get();
  ASSERT_TRUE(key);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(q.waiting(), 0u);
}

TEST(WorkQueue, ShutDownReleasesWaitingWorkers) {
  testing::IoThread io;
  WorkQueue q(io.io);
  auto got = std::async(std::launch::async, [&] { return q.get(); });
  q.shutDown();
  ASSERT_EQ(got.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(got.get().has_value());
  q.add(kA);
  EXPECT_EQ(q.len(), 0u) << "no intake after shutdown";
}

}  // namespace
}  // namespace anf::controller
