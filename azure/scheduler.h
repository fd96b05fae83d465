#pragma once
// Timers without sleeping threads: one Asio io_context run by one thread owned by the client.
// after(d) returns a task that completes d later; backoff, Retry-After, token-bucket waits and
// poll intervals all go through it. Continuations run on cpprestsdk's task pool, not on the timer thread.
#include <chrono>
#include <memory>

#include <pplx/pplxtasks.h>

namespace anf::azure {

class Scheduler {
 public:
  Scheduler();
  ~Scheduler();  // pending timers complete at once
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Completes after `delay` (at once for zero or negative delays).
  pplx::task<void> after(std::chrono::nanoseconds delay);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace anf::azure
