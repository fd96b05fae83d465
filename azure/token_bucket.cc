#include "azure/token_bucket.h"

#include <algorithm>

namespace anf::azure {
namespace {
constexpr double kAzureReadRefill = 25, kAzureWriteRefill = 10;  // per second (azure-api.md §3)
// A reserved slot nobody came back for (the document was removed) is dropped after a while.
constexpr auto kUnclaimedSlotLifetime = std::chrono::seconds(60);
}  // namespace

TokenBucket::TokenBucket(double ratePerSecond, double burst, SteadyTime now)
    : rate_(std::max(ratePerSecond, 0.001)), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

void TokenBucket::refill(SteadyTime now) {
  if (now <= last_) return;
  double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + seconds * rate_);
  last_ = now;
}

std::chrono::nanoseconds TokenBucket::reserve(SteadyTime now) {
  refill(now);
  tokens_ -= 1.0;
  std::chrono::nanoseconds wait{0};
  if (tokens_ < 0) wait = std::chrono::nanoseconds(static_cast<long long>(-tokens_ / rate_ * 1e9));
  if (pausedUntil_ > now) wait = std::max(wait, std::chrono::duration_cast<std::chrono::nanoseconds>(pausedUntil_ - now));
  return wait;
}

void TokenBucket::pauseUntil(SteadyTime until) { pausedUntil_ = std::max(pausedUntil_, until); }

double TokenBucket::available(SteadyTime now) {
  refill(now);
  return tokens_;
}

TokenBucket& SubscriptionThrottle::bucket(const std::string& subscription, bool write, SteadyTime now) {
  auto key = std::pair{subscription, write};
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    const double rate = write ? limits_.writesPerSecond : limits_.readsPerSecond;
    const double share = std::min(1.0, rate / (write ? kAzureWriteRefill : kAzureReadRefill));  // config.h: RateLimits
    it = buckets_.try_emplace(key, rate, share * (write ? limits_.writeBurst : limits_.readBurst), now).first;
  }
  return it->second;
}

std::chrono::nanoseconds SubscriptionThrottle::reserve(const std::string& subscription, bool write, SteadyTime now) {
  std::lock_guard lock(mutex_);
  return bucket(subscription, write, now).reserve(now);
}

std::chrono::nanoseconds SubscriptionThrottle::admitWrite(const std::string& subscription, const std::string& holder,
                                                          SteadyTime now) {
  std::lock_guard lock(mutex_);
  dropStaleSlotsLocked(now);
  const auto key = std::pair{subscription, holder};
  if (auto it = slots_.find(key); it != slots_.end()) {
    if (it->second > now) return it->second - now;
    slots_.erase(it);  // its slot came: the token was reserved then
    return std::chrono::nanoseconds::zero();
  }
  const auto wait = bucket(subscription, true, now).reserve(now);
  if (wait > std::chrono::nanoseconds::zero()) slots_[key] = now + wait;
  return wait > std::chrono::nanoseconds::zero() ? wait : std::chrono::nanoseconds::zero();
}

void SubscriptionThrottle::dropStaleSlotsLocked(SteadyTime now) {
  std::erase_if(slots_, [&](const auto& slot) { return slot.second + kUnclaimedSlotLifetime < now; });
}

void SubscriptionThrottle::observeRemaining(const std::string& subscription, bool write, long remaining,
                                            SteadyTime now) {
  if (remaining > limits_.lowRemaining) return;
  double seconds = static_cast<double>(limits_.lowRemaining - remaining + 1) / (write ? kAzureWriteRefill : kAzureReadRefill);
  std::lock_guard lock(mutex_);
  bucket(subscription, write, now)
      .pauseUntil(now + std::chrono::duration_cast<SteadyTime::duration>(std::chrono::duration<double>(seconds)));
}

}  // namespace anf::azure
