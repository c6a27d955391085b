#include "parallel.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace adam {
namespace {

class Pool {
 public:
  void run(unsigned threads, size_t jobs, JobFn fn, void* ctx) {
    std::lock_guard<std::mutex> turn(run_mu_);
    unsigned helpers = threads > 1 ? threads - 1 : 0;
    if (helpers > jobs) helpers = static_cast<unsigned>(jobs > 0 ? jobs - 1 : 0);
    if (helpers == 0) {
      for (size_t j = 0; j < jobs; ++j) fn(ctx, j);
      return;
    }
    while (workers_.size() < helpers) {
      unsigned index = static_cast<unsigned>(workers_.size());
      workers_.emplace_back([this, index] { worker(index); });
      workers_.back().detach();  // the pool lives as long as the process
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = fn;
      ctx_ = ctx;
      jobs_ = jobs;
      next_.store(0, std::memory_order_relaxed);
      active_ = helpers;
      pending_ = helpers;
      ++generation_;
    }
    start_.notify_all();
    drain();
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  void drain() {
    for (size_t j; (j = next_.fetch_add(1, std::memory_order_relaxed)) < jobs_;) fn_(ctx_, j);
  }

  void worker(unsigned index) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      start_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (index >= active_) continue;
      lock.unlock();
      drain();
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex run_mu_;
  std::mutex mu_;
  std::condition_variable start_, done_;
  std::vector<std::thread> workers_;
  uint64_t generation_ = 0;
  unsigned active_ = 0, pending_ = 0;
  JobFn fn_ = nullptr;
  void* ctx_ = nullptr;
  size_t jobs_ = 0;
  std::atomic<size_t> next_{0};
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: detached workers may still wait on it at exit
  return *p;
}

}  // namespace

void parallel_for(unsigned threads, size_t jobs, JobFn fn, void* ctx) { pool().run(threads, jobs, fn, ctx); }

unsigned hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? n : 1;
}

}  // namespace adam
