#pragma once
// At most N requests per throttle key on the wire at once; the rest wait, in arrival order, on a task
// (never a thread). The client takes its token-bucket slot only once it holds one of these: requests
// handed to cpprestsdk while its connections are busy (a burst of TLS handshakes, say) would otherwise
// have their bucket slots age in its queue and then reach Azure together, above Azure's own bucket.
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include <pplx/pplxtasks.h>

namespace anf::azure {

class InFlightLimit {
 public:
  explicit InFlightLimit(int limit) : limit_(limit < 1 ? 1 : limit) {}
  /// Completes once the caller holds a slot for `key`; every acquire is paired with one release.
  pplx::task<void> acquire(const std::string& key);
  /// Hands the slot to the oldest waiter, or frees it.
  void release(const std::string& key);
  /// Slots held for `key` (for tests).
  int held(const std::string& key);

 private:
  struct Slots {
    int held = 0;
    std::deque<pplx::task_completion_event<void>> waiting;
  };
  int limit_;
  std::mutex mutex_;
  std::map<std::string, Slots> slots_;
};

}  // namespace anf::azure
