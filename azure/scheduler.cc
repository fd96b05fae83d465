#include "azure/scheduler.h"

#include <utility>  // before Boost.Asio under C++23

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <set>
#include <thread>

namespace anf::azure {

struct Scheduler::Impl {
  using Timer = boost::asio::steady_timer;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::set<std::shared_ptr<Timer>> pending;  // touched only on the io thread
  std::thread thread{[this] { io.run(); }};

  void cancelAll() {
    for (const auto& timer : pending) timer->cancel();
  }
};

Scheduler::Scheduler() : impl_(std::make_unique<Impl>()) {}

Scheduler::~Scheduler() {
  if (impl_->thread.get_id() == std::this_thread::get_id()) {
    // The last owner let go from a timer callback: wind down without joining ourselves.
    impl_->cancelAll();
    impl_->work.reset();
    impl_->thread.detach();
    (void)impl_.release();  // the io_context must outlive the thread that is running it
    return;
  }
  boost::asio::post(impl_->io, [impl = impl_.get()] { impl->cancelAll(); });
  impl_->work.reset();
  impl_->thread.join();
}

pplx::task<void> Scheduler::after(std::chrono::nanoseconds delay) {
  if (delay <= std::chrono::nanoseconds::zero()) return pplx::task_from_result();
  pplx::task_completion_event<void> done;
  auto* impl = impl_.get();
  boost::asio::post(impl->io, [impl, delay, done] {
    auto timer = std::make_shared<Impl::Timer>(impl->io, delay);
    impl->pending.insert(timer);
    timer->async_wait([impl, timer, done](const boost::system::error_code&) {
      impl->pending.erase(timer);
      done.set();
    });
  });
  return pplx::create_task(done);
}

}  // namespace anf::azure
