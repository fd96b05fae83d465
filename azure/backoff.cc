#include "azure/backoff.h"

#include <algorithm>
#include <cmath>

namespace anf::azure {

std::chrono::milliseconds fullJitterDelay(const RetryPolicy& policy, int retry, double random01) {
  double ceiling = static_cast<double>(policy.baseDelay.count()) * std::pow(2.0, std::max(0, retry - 1));
  ceiling = std::min(ceiling, static_cast<double>(policy.maxDelay.count()));
  return std::chrono::milliseconds(static_cast<long long>(std::clamp(random01, 0.0, 1.0) * ceiling));
}

std::optional<std::chrono::milliseconds> nextRetryDelay(const RetryPolicy& policy, int attempts,
                                                        std::chrono::milliseconds elapsed,
                                                        std::optional<std::chrono::milliseconds> retryAfter,
                                                        double random01) {
  if (attempts >= policy.maxAttempts) return std::nullopt;
  auto delay = retryAfter ? *retryAfter : fullJitterDelay(policy, attempts, random01);
  if (elapsed + delay > policy.maxTotal) return std::nullopt;
  return delay;
}

}  // namespace anf::azure
