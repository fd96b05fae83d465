// Leader election decisions (kube/leader_election.h) with an injected clock and an in-memory LeaseStore that
// keeps the API's optimistic concurrency (a stale resourceVersion is refused with 409).
#include "kube/leader_election.h"

#include <future>
#include <thread>

#include <gtest/gtest.h>

namespace anf::kube {
namespace {

using namespace std::chrono_literals;

class MemoryLeaseStore : public LeaseStore {
 public:
  Result<std::optional<LeaseRecord>> get() override {
    if (unreachable) return std::unexpected(KubeError{.status = 0, .message = "down"});
    return lease;
  }
  Result<LeaseRecord> create(const LeaseRecord& record) override {
    if (unreachable) return std::unexpected(KubeError{.status = 0, .message = "down"});
    if (lease) return std::unexpected(KubeError{.status = 409, .reason = "AlreadyExists"});
    return store(record);
  }
  Result<LeaseRecord> update(const LeaseRecord& record) override {
    if (unreachable) return std::unexpected(KubeError{.status = 0, .message = "down"});
    if (auto hook = std::exchange(beforeUpdate, nullptr)) hook();
    if (!lease || lease->resourceVersion != record.resourceVersion) return std::unexpected(KubeError{.status = 409, .reason = "Conflict"});
    ++updates;
    return store(record);
  }
  LeaseRecord store(LeaseRecord record) {
    record.resourceVersion = std::to_string(++version);
    lease = record;
    return record;
  }
  std::optional<LeaseRecord> lease;
  int version = 0;
  int updates = 0;
  bool unreachable = false;
  std::function<void()> beforeUpdate;  // runs once, inside the next update (another replica's write racing it)
};

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  LeaderElector::SteadyClock fn() {
    return [this] { return now; };
  }
};

LeaderElectionConfig configFor(std::string identity) {
  return LeaderElectionConfig{.leaseName = "anf-cmk-operator", .leaseNamespace = "ns", .identity = std::move(identity)};
}

/// Two replicas, a and b, on one Lease and one clock (client-go's defaults: 15 s, 10 s, 2 s).
class LeaderElection : public ::testing::Test {
 protected:
  MemoryLeaseStore store;
  FakeClock clock;
  LeaderElector a{configFor("a"), store, clock.fn()};
  LeaderElector b{configFor("b"), store, clock.fn()};
};

TEST_F(LeaderElection, TheFirstCandidateCreatesTheLeaseAndLeads) {
  EXPECT_EQ(a.tick(), LeaderElector::State::Leading);
  EXPECT_TRUE(a.mayWrite());
  ASSERT_TRUE(store.lease);
  EXPECT_EQ(store.lease->holderIdentity, "a");
  EXPECT_EQ(store.lease->leaseDurationSeconds, 15);
  EXPECT_EQ(store.lease->leaseTransitions, 0);
}

TEST_F(LeaderElection, ACandidateWaitsForTheLeaseToExpireFromWhenItObservedIt) {
  ASSERT_EQ(a.tick(), LeaderElector::State::Leading);
  clock.now += 1s;
  EXPECT_EQ(b.tick(), LeaderElector::State::Candidate);  // observed now: expires for b at +15 s from here
  clock.now += 14s;
  EXPECT_EQ(b.tick(), LeaderElector::State::Candidate);
  EXPECT_FALSE(b.mayWrite());
  clock.now += 1s;
  EXPECT_EQ(b.tick(), LeaderElector::State::Leading);
  EXPECT_EQ(store.lease->holderIdentity, "b");
  EXPECT_EQ(store.lease->leaseTransitions, 1);
}

TEST_F(LeaderElection, ARenewedLeaseStaysWithItsHolder) {
  ASSERT_EQ(a.tick(), LeaderElector::State::Leading);
  const std::string acquired = store.lease->acquireTime;
  for (int i = 0; i < 20; ++i) {
    clock.now += 2s;
    ASSERT_EQ(a.tick(), LeaderElector::State::Leading);
    ASSERT_EQ(b.tick(), LeaderElector::State::Candidate);  // each renew is a new record: b's clock restarts
  }
  EXPECT_EQ(store.lease->acquireTime, acquired);
  EXPECT_EQ(store.lease->leaseTransitions, 0);
}

TEST_F(LeaderElection, ALeaderThatCannotRenewStopsWritingAtRenewDeadlineBeforeOthersMayTakeOver) {
  ASSERT_EQ(a.tick(), LeaderElector::State::Leading);
  ASSERT_EQ(b.tick(), LeaderElector::State::Candidate);  // b observes a's renew at the same instant (the worst case)
  const auto renewedAt = clock.now;
  // a is cut off from the API (its loop is not even ticking): its writes stop at renewedAt + renewDeadline, whatever its loop does.
  clock.now = renewedAt + 10s - 1ms;
  EXPECT_TRUE(a.mayWrite());
  clock.now = renewedAt + 10s;
  EXPECT_FALSE(a.mayWrite());
  // b may take the Lease only at renewedAt + leaseDuration: 5 s after a stopped writing.
  clock.now = renewedAt + 15s - 1ms;
  EXPECT_EQ(b.tick(), LeaderElector::State::Candidate);
  clock.now = renewedAt + 15s;
  EXPECT_EQ(b.tick(), LeaderElector::State::Leading);
  EXPECT_TRUE(b.mayWrite());
  // a, back, finds the Lease taken: lost for good.
  EXPECT_EQ(a.tick(), LeaderElector::State::Lost);
  EXPECT_FALSE(a.mayWrite());
  EXPECT_EQ(a.tick(), LeaderElector::State::Lost);
}

TEST_F(LeaderElection, FailedRenewsGiveUpLeadershipAfterRenewDeadline) {
  ASSERT_EQ(a.tick(), LeaderElector::State::Leading);
  store.unreachable = true;
  for (int i = 0; i < 4; ++i) {
    clock.now += 2s;
    EXPECT_EQ(a.tick(), LeaderElector::State::Leading) << i;  // 2..8 s without a renew: still within renewDeadline
  }
  clock.now += 2s;
  EXPECT_EQ(a.tick(), LeaderElector::State::Lost);
  EXPECT_FALSE(a.mayWrite());
}

TEST_F(LeaderElection, ARenewThatSucceedsAgainWithinRenewDeadlineKeepsLeadership) {
  ASSERT_EQ(a.tick(), LeaderElector::State::Leading);
  store.unreachable = true;
  clock.now += 8s;
  EXPECT_EQ(a.tick(), LeaderElector::State::Leading);
  store.unreachable = false;
  clock.now += 1s;
  EXPECT_EQ(a.tick(), LeaderElector::State::Leading);
  clock.now += 9s;
  EXPECT_TRUE(a.mayWrite());  // renewed 9 s ago
}

TEST_F(LeaderElection, TwoCandidatesRacingForAnExpiredLeaseNeverBothWin) {
  store.store(LeaseRecord{.holderIdentity = "gone", .leaseDurationSeconds = 15});
  EXPECT_EQ(a.tick(), LeaderElector::State::Candidate);
  EXPECT_EQ(b.tick(), LeaderElector::State::Candidate);
  clock.now += 15s;
  // b reads the expired record, then a's update lands before b's: b's carries a stale resourceVersion.
  LeaderElector::State aState{};
  store.beforeUpdate = [&] { aState = a.tick(); };
  EXPECT_EQ(b.tick(), LeaderElector::State::Candidate);
  EXPECT_EQ(aState, LeaderElector::State::Leading);
  EXPECT_EQ(store.lease->holderIdentity, "a");
}

TEST_F(LeaderElection, AnEmptyHolderIsFreeAtOnce) {
  store.store(LeaseRecord{.holderIdentity = "", .leaseDurationSeconds = 1});
  EXPECT_EQ(a.tick(), LeaderElector::State::Leading);
}

TEST_F(LeaderElection, StopReleasesTheLeaseSoTheNextReplicaNeedNotWait) {
  std::promise<void> leading;
  std::thread loop([&] { a.run([&] { leading.set_value(); }, [] {}); });
  leading.get_future().wait();
  EXPECT_TRUE(a.mayWrite());
  a.stop();
  loop.join();
  EXPECT_FALSE(a.mayWrite());
  ASSERT_TRUE(store.lease);
  EXPECT_EQ(store.lease->holderIdentity, "");
  EXPECT_EQ(b.tick(), LeaderElector::State::Leading);
}

}  // namespace
}  // namespace anf::kube
