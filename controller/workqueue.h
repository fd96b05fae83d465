#pragma once
// A rate-limited, delaying work queue of document keys, after client-go's workqueue:
//  - a key is queued at most once (the "dirty" set) and never handed to two workers at once (the
//    "processing" set): a key added while it is processed is queued again when the worker calls done();
//  - failures back off per key exponentially (ItemExponentialFailureRateLimiter) under a global token
//    bucket (BucketRateLimiter); the larger delay wins; forget() resets a key's backoff;
//  - addAfter() uses Asio steady_timers, so waiting never occupies a worker;
//  - a priority per key, after controller-runtime's priority queue: get() hands out the highest priority
//    first (FIFO within one priority), so an edit is never queued behind a resync pass's keys. A key
//    added again while queued keeps the higher of its priorities.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "controller/document.h"

namespace boost::asio {
class io_context;
}

namespace anf::controller {

/// Events (a document changed, a dependency became Ready, a retry) go before resync work, as
/// controller-runtime gives its initial list and resyncs LowPriority.
enum class Priority { Low = -100, Normal = 0 };

/// client-go's DefaultControllerRateLimiter values.
struct BackoffOptions {
  std::chrono::milliseconds baseDelay{5};
  std::chrono::milliseconds maxDelay{std::chrono::seconds(1000)};
  double bucketQps = 10;
  int bucketBurst = 100;
};

/// Per-key exponential backoff under a global token bucket. Thread-safe.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateLimiter(BackoffOptions options = {});
  /// How long `key` should wait before its next retry: max(base * 2^failures capped at maxDelay, the
  /// bucket's wait). Counts one more failure for `key`.
  std::chrono::milliseconds when(const DocumentKey& key);
  /// The per-key part alone, without counting a failure (for tests and logs).
  std::chrono::milliseconds itemDelay(const DocumentKey& key) const;
  /// Resets `key`'s failures (success).
  void forget(const DocumentKey& key);
  /// Failures counted for `key` since the last forget().
  int numRequeues(const DocumentKey& key) const;

 private:
  std::chrono::milliseconds itemDelayLocked(int failures) const;
  BackoffOptions options_;
  mutable std::mutex mutex_;
  std::map<DocumentKey, int> failures_;
  double tokens_;
  Clock::time_point last_;
};

/// Observers for the workqueue_* metrics; any may be empty.
struct WorkQueueHooks {
  std::function<void(std::size_t depth)> depth;
  std::function<void()> added;
  std::function<void(double seconds)> queued;  // time from add to get
  std::function<void()> retried;
};

class WorkQueue {
 public:
  /// Delayed adds run as timers on `io`, which must outlive the queue's timers (shutDown() cancels them).
  WorkQueue(boost::asio::io_context& io, BackoffOptions backoff = {}, WorkQueueHooks hooks = {});
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  /// Queues `key` unless it is already queued (then its priority is raised to `priority` if higher);
  /// a key being processed is queued again on done(), at the highest priority it was added with.
  void add(const DocumentKey& key, Priority priority = Priority::Normal);
  /// add() after `delay`; of several pending delays for one key the earliest wins.
  void addAfter(const DocumentKey& key, std::chrono::milliseconds delay);
  /// addAfter() with the rate limiter's delay (counts a retry). Returns the delay used.
  std::chrono::milliseconds addRateLimited(const DocumentKey& key);
  /// addAfter(max(hint, rate limiter's delay)): a Retry-After hint never shortens the backoff.
  std::chrono::milliseconds addRateLimited(const DocumentKey& key, std::chrono::milliseconds hint);
  /// Resets `key`'s backoff (success).
  void forget(const DocumentKey& key);
  int numRequeues(const DocumentKey& key) const;

  /// Blocks until a key is available and marks it processing; nullopt once shut down.
  std::optional<DocumentKey> get();
  /// The worker finished `key`.
  void done(const DocumentKey& key);
  /// Stops intake: get() returns nullopt, add() is ignored, pending timers are cancelled.
  void shutDown();
  bool shuttingDown() const;
  /// Keys queued (not processing, not waiting on a timer).
  std::size_t len() const;
  /// Blocks until nothing is queued or processing (timers may still be pending), up to `timeout`.
  bool waitIdle(std::chrono::milliseconds timeout) const;
  /// Keys waiting on a timer.
  std::size_t waiting() const;

 private:
  struct Delayed;
  /// A queued key's place: higher priority first, then the order of arrival.
  struct Slot {
    int priority;
    std::uint64_t sequence;
    auto operator<=>(const Slot& other) const {
      if (priority != other.priority) return other.priority <=> priority;
      return sequence <=> other.sequence;
    }
  };
  void publishDepthLocked();
  void pushLocked(const DocumentKey& key, Priority priority);

  boost::asio::io_context& io_;
  RateLimiter limiter_;
  WorkQueueHooks hooks_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  mutable std::condition_variable idle_;
  std::map<Slot, DocumentKey> queue_;
  std::map<DocumentKey, Slot> queuedAt_;       // each queued key's slot in queue_
  std::map<DocumentKey, Priority> dirty_;      // added and not yet handed out, with its priority
  std::uint64_t sequence_ = 0;
  std::set<DocumentKey> processing_;
  std::map<DocumentKey, std::chrono::steady_clock::time_point> addedAt_;
  std::map<DocumentKey, std::shared_ptr<Delayed>> delayed_;
  bool shuttingDown_ = false;
};

}  // namespace anf::controller
