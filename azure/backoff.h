#pragma once
// Retry timing: exponential backoff with full jitter (AWS architecture blog "Exponential Backoff And
// Jitter"), bounded by RetryPolicy, and Retry-After taking precedence when Azure gives one.
#include <chrono>
#include <optional>

#include "azure/config.h"

namespace anf::azure {

/// The delay before retry number `retry` (1 = the first retry): uniform in [0, min(maxDelay, base * 2^(retry-1))],
/// picked with `random01` in [0, 1).
std::chrono::milliseconds fullJitterDelay(const RetryPolicy& policy, int retry, double random01);

/// Whether to retry after `attempts` attempts took `elapsed`, and after what delay. The delay is
/// Retry-After when given (never shortened), else the jittered backoff. nullopt: give up, because
/// attempts are exhausted or the retry would end after policy.maxTotal.
std::optional<std::chrono::milliseconds> nextRetryDelay(const RetryPolicy& policy, int attempts,
                                                        std::chrono::milliseconds elapsed,
                                                        std::optional<std::chrono::milliseconds> retryAfter,
                                                        double random01);

}  // namespace anf::azure
