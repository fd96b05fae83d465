#include "azure/backoff.h"
#include "azure/in_flight.h"
#include "azure/token_bucket.h"

#include <gtest/gtest.h>

namespace anf::azure {
namespace {

using namespace std::chrono_literals;

TEST(FullJitter, StaysWithinTheExponentialCeiling) {
  RetryPolicy policy{.baseDelay = 100ms, .maxDelay = 1000ms};
  EXPECT_EQ(fullJitterDelay(policy, 1, 0.0), 0ms);
  EXPECT_EQ(fullJitterDelay(policy, 1, 0.999), 99ms);
  EXPECT_EQ(fullJitterDelay(policy, 3, 0.5), 200ms);   // ceiling 400
  EXPECT_EQ(fullJitterDelay(policy, 10, 0.5), 500ms);  // capped at maxDelay
}

TEST(NextRetryDelay, HonoursRetryAfterAndBounds) {
  RetryPolicy policy{.maxAttempts = 3, .baseDelay = 100ms, .maxDelay = 1000ms, .maxTotal = 5000ms};
  EXPECT_EQ(nextRetryDelay(policy, 1, 0ms, 2000ms, 0.1), 2000ms) << "Retry-After wins over a shorter backoff";
  EXPECT_EQ(nextRetryDelay(policy, 1, 0ms, std::nullopt, 0.5), 50ms);
  EXPECT_FALSE(nextRetryDelay(policy, 3, 0ms, std::nullopt, 0.5)) << "attempts exhausted";
  EXPECT_FALSE(nextRetryDelay(policy, 1, 4000ms, 2000ms, 0.5)) << "would end after maxTotal";
}

TEST(TokenBucket, AllowsTheBurstThenPacesAtTheRate) {
  auto t0 = SteadyTime{};
  TokenBucket bucket(10, 5, t0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bucket.reserve(t0), 0ns);
  EXPECT_EQ(bucket.reserve(t0), 100ms);
  EXPECT_EQ(bucket.reserve(t0), 200ms) << "queued callers get successive slots";
  EXPECT_EQ(bucket.reserve(t0 + 1s), 0ns) << "refilled 10 tokens after the 2 borrowed";
}

TEST(TokenBucket, PausesWhenAzureReportsLowQuota) {
  auto t0 = SteadyTime{};
  SubscriptionThrottle throttle(RateLimits{.readsPerSecond = 20, .readBurst = 200, .lowRemaining = 20});
  EXPECT_EQ(throttle.reserve("sub", false, t0), 0ns);
  throttle.observeRemaining("sub", false, 100, t0);
  EXPECT_EQ(throttle.reserve("sub", false, t0), 0ns) << "plenty left: no pause";
  throttle.observeRemaining("sub", false, 5, t0);
  auto wait = throttle.reserve("sub", false, t0);
  EXPECT_GE(wait, 600ms) << "16 reads at Azure's 25/s refill";
  EXPECT_EQ(throttle.reserve("other", false, t0), 0ns) << "buckets are per subscription";
  EXPECT_EQ(throttle.reserve("sub", true, t0), 0ns) << "writes have their own bucket";
}

// Simulates Azure's read bucket (250, +25/s) against the default client bucket: a burst of 500 reads
// sent at the times the client bucket allows never empties Azure's bucket.
TEST(TokenBucket, DefaultsStayBelowAzuresReadBucket) {
  RateLimits defaults;
  auto t0 = SteadyTime{};
  TokenBucket client(defaults.readsPerSecond, defaults.readBurst, t0);
  TokenBucket azure(25, 250, t0);
  for (int i = 0; i < 500; ++i) {
    auto sendAt = t0 + client.reserve(t0);
    EXPECT_GE(azure.available(sendAt), 1.0) << "read " << i << " would be throttled";
    azure.reserve(sendAt);
  }
}

// The default write bucket against Azure's (200, +10/s) when requests reach Azure late and bunched: every
// request sent within a 2 s window arrives at the window's end. None would be throttled.
TEST(TokenBucket, DefaultsStayBelowAzuresWriteBucketWhenRequestsArriveTwoSecondsLate) {
  RateLimits defaults;
  SubscriptionThrottle client(defaults);
  auto t0 = SteadyTime{};
  std::vector<SteadyTime> arrivals;
  for (int i = 0; i < 1000; ++i) {
    const auto sentAt = std::chrono::duration_cast<std::chrono::milliseconds>(client.reserve("sub", true, t0));
    const long window = sentAt.count() / 2000;
    arrivals.push_back(t0 + std::chrono::milliseconds((window + 1) * 2000));
  }
  TokenBucket azure(10, 200, t0);
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    EXPECT_GE(azure.available(arrivals[i]), 1.0) << "write " << i << " would be throttled";
    azure.reserve(arrivals[i]);
  }
  EXPECT_GE(arrivals.back() - t0, 80s) << "and the writes go at Azure's rate: (1000 - 170) / 10 s";
  EXPECT_LE(arrivals.back() - t0, 86s);
}

// The engine asks before a reconcile writes: a write without a token gets its own later slot instead of a
// sleeping worker, and deferred writes come back one per token, not all at once.
TEST(WriteAdmission, AWriteWithoutATokenIsGivenItsOwnLaterSlot) {
  SubscriptionThrottle client(RateLimits{.writesPerSecond = 10, .writeBurst = 1});
  auto t0 = SteadyTime{};
  EXPECT_EQ(client.admitWrite("sub", "Volume/a", t0), 0ns) << "a takes the token";
  EXPECT_EQ(client.admitWrite("sub", "Volume/b", t0), 100ms);
  EXPECT_EQ(client.admitWrite("sub", "Volume/c", t0), 200ms);
  EXPECT_EQ(client.admitWrite("sub", "Volume/b", t0 + 40ms), 60ms) << "asking again keeps b's slot";
  EXPECT_EQ(client.admitWrite("sub", "Volume/b", t0 + 100ms), 0ns);
  EXPECT_EQ(client.admitWrite("sub", "Volume/c", t0 + 250ms), 0ns) << "a slot that came is kept until asked";
  EXPECT_EQ(client.reserve("sub", true, t0 + 250ms), 50ms) << "a write nobody admitted waits behind them";
}

// Leaving budget to other tools: half the rate keeps half of the bucket too.
TEST(TokenBucket, ALowerRateShrinksTheBucketInProportion) {
  SubscriptionThrottle client(RateLimits{.writesPerSecond = 5});
  auto t0 = SteadyTime{};
  for (int i = 0; i < 85; ++i) ASSERT_EQ(client.reserve("sub", true, t0), 0ns) << i;
  EXPECT_EQ(client.reserve("sub", true, t0), 200ms) << "85 = 170 * 5 / 10 at once, then 5 a second";
}

TEST(InFlightLimit, HoldsAtMostTheLimitAndHandsSlotsOnInArrivalOrder) {
  InFlightLimit limit(2);
  // Which acquire holds a slot is read from the tasks themselves, not from continuations, whose order
  // on the thread pool is not the order of the grants.
  auto first = limit.acquire("sub"), second = limit.acquire("sub"), third = limit.acquire("sub"), fourth = limit.acquire("sub");
  EXPECT_TRUE(first.is_done() && second.is_done()) << "two slots are free";
  EXPECT_FALSE(third.is_done()) << "a third request waits while two are on the wire";
  EXPECT_EQ(limit.held("sub"), 2);
  auto other = limit.acquire("other");
  EXPECT_TRUE(other.is_done()) << "limits are per key";
  limit.release("sub");
  third.wait();
  EXPECT_FALSE(fourth.is_done()) << "the slot goes to the oldest waiter";
  EXPECT_EQ(limit.held("sub"), 2) << "the slot passed on, not freed";
  limit.release("sub");
  fourth.wait();
  limit.release("sub");
  limit.release("sub");
  EXPECT_EQ(limit.held("sub"), 0);
  limit.release("other");
  EXPECT_EQ(limit.held("other"), 0);
}

}  // namespace
}  // namespace anf::azure
