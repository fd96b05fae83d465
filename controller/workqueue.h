#pragma once
// A rate-limited, delaying work queue of document keys, after client-go's workqueue:
//  - a key is queued at most once (the "dirty" set) and never handed to two workers at once (the
//    "processing" set): a key added while it is processed is queued again when the worker calls done();
//  - failures back off per key exponentially (ItemExponentialFailureRateLimiter) under a global token
//    bucket (BucketRateLimiter); the larger delay wins; forget() resets a key's backoff;
//  - addAfter() uses Asio steady_timers, so waiting never occupies a worker.
#include <chrono>
#include <condition_variable>
#include <deque>
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

  /// Queues `key` unless it is already queued; a key being processed is queued again on done().
  void add(const DocumentKey& key);
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
  void publishDepthLocked();

  boost::asio::io_context& io_;
  RateLimiter limiter_;
  WorkQueueHooks hooks_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  mutable std::condition_variable idle_;
  std::deque<DocumentKey> queue_;
  std::set<DocumentKey> dirty_;
  std::set<DocumentKey> processing_;
  std::map<DocumentKey, std::chrono::steady_clock::time_point> addedAt_;
  std::map<DocumentKey, std::shared_ptr<Delayed>> delayed_;
  bool shuttingDown_ = false;
};

}  // namespace anf::controller
