#include "azure/in_flight.h"

namespace anf::azure {

pplx::task<void> InFlightLimit::acquire(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto& slots = slots_[key];
  if (slots.held < limit_) {
    ++slots.held;
    return pplx::task_from_result();
  }
  pplx::task_completion_event<void> turn;
  slots.waiting.push_back(turn);
  return pplx::create_task(turn);
}

void InFlightLimit::release(const std::string& key) {
  pplx::task_completion_event<void> next;
  {
    std::lock_guard lock(mutex_);
    auto& slots = slots_[key];
    if (slots.waiting.empty()) {
      if (slots.held > 0) --slots.held;
      return;
    }
    next = slots.waiting.front();  // the slot passes on: `held` stays
    slots.waiting.pop_front();
  }
  next.set();
}

int InFlightLimit::held(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = slots_.find(key);
  return it == slots_.end() ? 0 : it->second.held;
}

}  // namespace anf::azure
