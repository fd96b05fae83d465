#include "controller/workqueue.h"

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <cmath>

namespace anf::controller {

using std::chrono::milliseconds;

RateLimiter::RateLimiter(BackoffOptions options)
    : options_(options), tokens_(options.bucketBurst), last_(Clock::now()) {}

milliseconds RateLimiter::itemDelayLocked(int failures) const {
  const double delay = static_cast<double>(options_.baseDelay.count()) * std::pow(2.0, failures);
  if (delay >= static_cast<double>(options_.maxDelay.count())) return options_.maxDelay;
  return milliseconds(static_cast<milliseconds::rep>(delay));
}

milliseconds RateLimiter::when(const DocumentKey& key) {
  std::lock_guard lock(mutex_);
  const milliseconds item = itemDelayLocked(failures_[key]++);
  // Token bucket as golang.org/x/time/rate.Reserve: take one token, possibly going into debt.
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  tokens_ = std::min<double>(options_.bucketBurst, tokens_ + elapsed * options_.bucketQps);
  tokens_ -= 1;
  const milliseconds bucket =
      tokens_ >= 0 ? milliseconds(0) : milliseconds(static_cast<milliseconds::rep>(std::ceil(-tokens_ / options_.bucketQps * 1000)));
  return std::max(item, bucket);
}

milliseconds RateLimiter::itemDelay(const DocumentKey& key) const {
  std::lock_guard lock(mutex_);
  const auto it = failures_.find(key);
  return itemDelayLocked(it == failures_.end() ? 0 : it->second);
}

void RateLimiter::forget(const DocumentKey& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

int RateLimiter::numRequeues(const DocumentKey& key) const {
  std::lock_guard lock(mutex_);
  const auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

struct WorkQueue::Delayed {
  explicit Delayed(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  std::chrono::steady_clock::time_point at;
};

WorkQueue::WorkQueue(boost::asio::io_context& io, BackoffOptions backoff, WorkQueueHooks hooks)
    : io_(io), limiter_(backoff), hooks_(std::move(hooks)) {
  publishDepthLocked();
}

WorkQueue::~WorkQueue() { shutDown(); }

void WorkQueue::publishDepthLocked() {
  if (hooks_.depth) hooks_.depth(queue_.size());
}

void WorkQueue::pushLocked(const DocumentKey& key, Priority priority) {
  const Slot slot{static_cast<int>(priority), sequence_++};
  queue_.emplace(slot, key);
  queuedAt_[key] = slot;
  publishDepthLocked();
  cv_.notify_one();
}

void WorkQueue::add(const DocumentKey& key, Priority priority) {
  std::lock_guard lock(mutex_);
  if (shuttingDown_) return;
  if (hooks_.added) hooks_.added();
  const auto [it, inserted] = dirty_.try_emplace(key, priority);
  if (!inserted) {
    if (priority <= it->second) return;
    it->second = priority;
    if (auto queued = queuedAt_.find(key); queued != queuedAt_.end()) {  // moves ahead of lower-priority keys
      queue_.erase(queued->second);
      queuedAt_.erase(queued);
      pushLocked(key, priority);
    }
    return;
  }
  addedAt_.emplace(key, std::chrono::steady_clock::now());
  if (processing_.contains(key)) return;
  pushLocked(key, priority);
}

void WorkQueue::addAfter(const DocumentKey& key, milliseconds delay) {
  if (delay <= milliseconds(0)) return add(key);
  std::lock_guard lock(mutex_);
  if (shuttingDown_) return;
  const auto at = std::chrono::steady_clock::now() + delay;
  if (auto it = delayed_.find(key); it != delayed_.end()) {
    if (it->second->at <= at) return;
    it->second->timer.cancel();
  }
  auto delayed = std::make_shared<Delayed>(io_);
  delayed->at = at;
  delayed->timer.expires_at(at);
  delayed_[key] = delayed;
  delayed->timer.async_wait([this, key, delayed](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: replaced by an earlier add, forgotten, or shut down
    {
      std::lock_guard lock(mutex_);
      auto it = delayed_.find(key);
      if (it == delayed_.end() || it->second != delayed) return;
      delayed_.erase(it);
    }
    add(key);
  });
}

milliseconds WorkQueue::addRateLimited(const DocumentKey& key) { return addRateLimited(key, milliseconds(0)); }

milliseconds WorkQueue::addRateLimited(const DocumentKey& key, milliseconds hint) {
  const milliseconds delay = std::max(limiter_.when(key), hint);
  if (hooks_.retried) hooks_.retried();
  addAfter(key, delay);
  return delay;
}

void WorkQueue::forget(const DocumentKey& key) { limiter_.forget(key); }

int WorkQueue::numRequeues(const DocumentKey& key) const { return limiter_.numRequeues(key); }

std::optional<DocumentKey> WorkQueue::get() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return shuttingDown_ || !queue_.empty(); });
  if (shuttingDown_) return std::nullopt;
  DocumentKey key = std::move(queue_.begin()->second);
  queue_.erase(queue_.begin());
  queuedAt_.erase(key);
  publishDepthLocked();
  processing_.insert(key);
  dirty_.erase(key);
  if (auto it = addedAt_.find(key); it != addedAt_.end()) {
    if (hooks_.queued) hooks_.queued(std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second).count());
    addedAt_.erase(it);
  }
  return key;
}

void WorkQueue::done(const DocumentKey& key) {
  std::lock_guard lock(mutex_);
  processing_.erase(key);
  if (const auto it = dirty_.find(key); it != dirty_.end() && !shuttingDown_) pushLocked(key, it->second);
  if (processing_.empty() && queue_.empty()) idle_.notify_all();
}

bool WorkQueue::waitIdle(milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] { return (processing_.empty() && queue_.empty()) || shuttingDown_; });
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mutex_);
  shuttingDown_ = true;
  for (auto& [key, delayed] : delayed_) delayed->timer.cancel();
  delayed_.clear();
  cv_.notify_all();
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mutex_);
  return shuttingDown_;
}

std::size_t WorkQueue::len() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t WorkQueue::waiting() const {
  std::lock_guard lock(mutex_);
  return delayed_.size();
}

}  // namespace anf::controller
