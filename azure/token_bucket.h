#pragma once
// Client-side throttling: a token bucket per subscription and direction (reads, writes), so the
// operator stays below Azure's own buckets (azure-api.md §3) instead of learning about them from 429s.
// Reservations may go negative: each caller is told how long to wait for its slot, in arrival order,
// and waits on a timer (never on a thread).
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "azure/config.h"

namespace anf::azure {

using SteadyTime = std::chrono::steady_clock::time_point;

class TokenBucket {
 public:
  TokenBucket(double ratePerSecond, double burst, SteadyTime now);
  /// Takes one token; returns how long the caller must wait before sending (0 when one was free).
  std::chrono::nanoseconds reserve(SteadyTime now);
  /// No token is granted before `until` (Azure's remaining quota ran low).
  void pauseUntil(SteadyTime until);
  /// Tokens available at `now` (negative when callers are queued).
  double available(SteadyTime now);

 private:
  void refill(SteadyTime now);
  double rate_;
  double burst_;
  double tokens_;
  SteadyTime last_;
  SteadyTime pausedUntil_{};
};

/// One read bucket and one write bucket per subscription (Graph and token calls use a key of their own).
class SubscriptionThrottle {
 public:
  explicit SubscriptionThrottle(RateLimits limits) : limits_(limits) {}
  /// Wait before sending one request for `subscription`.
  std::chrono::nanoseconds reserve(const std::string& subscription, bool write, SteadyTime now);
  /// Write admission that never blocks (the engine asks before a reconcile writes): zero when `holder` (a
  /// document) may write now, its token taken here (its write must not reserve another); otherwise how long
  /// until the slot reserved for `holder`, in arrival order, so that deferred holders come back one per token
  /// instead of all at once. Asking again before then returns the rest of the wait.
  std::chrono::nanoseconds admitWrite(const std::string& subscription, const std::string& holder, SteadyTime now);
  /// Feeds x-ms-ratelimit-remaining-subscription-{reads,writes}: at or below limits.lowRemaining the
  /// bucket pauses until Azure's bucket (refilling 25 reads/s or 10 writes/s) is back above it.
  void observeRemaining(const std::string& subscription, bool write, long remaining, SteadyTime now);

 private:
  TokenBucket& bucket(const std::string& subscription, bool write, SteadyTime now);
  void dropStaleSlotsLocked(SteadyTime now);
  RateLimits limits_;
  std::mutex mutex_;
  std::map<std::pair<std::string, bool>, TokenBucket> buckets_;
  std::map<std::pair<std::string, std::string>, SteadyTime> slots_;  // (subscription, holder): its reserved slot
};

}  // namespace anf::azure
