#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace adam {
namespace {

using Clock = std::chrono::steady_clock;

// A helper that finds no work spins this long before sleeping (a futex wake costs tens of us,
// more than a small step), and sleeps this long before its thread ends.
constexpr auto kSpin = std::chrono::microseconds(50);
constexpr auto kIdle = std::chrono::milliseconds(1000);

// Fewer jobs than this run on the helpers only when they are awake (spinning after the last run):
// waking a sleeping helper or starting a thread costs 40-70 us here, more than a second thread
// saves on a step under ~500K elements (jobs are at least kJobElements: 128K Adam elements, ~3.7
// MB of traffic, take ~30 us on one core from L2/L3).
constexpr size_t kWakeJobs = 4;

inline void Pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

void RunInline(size_t jobs, JobFn fn, void* ctx) {
  for (size_t j = 0; j < jobs; ++j) fn(ctx, j);
}

// One run at a time owns the helpers. A call that finds them owned by another run (another
// optimizer's async step, another worker_thread) does not wait: it runs its jobs on its own
// thread. Jobs are a fixed list, so which thread runs which job never changes a result.
class Pool {
 public:
  void run(unsigned threads, size_t jobs, JobFn fn, void* ctx) {
    size_t want = std::min<size_t>(threads, jobs);  // the caller is one of the threads
    if (want <= 1) return RunInline(jobs, fn, ctx);
    if (owned_.exchange(true, std::memory_order_acquire)) return RunInline(jobs, fn, ctx);
    struct Release {
      std::atomic<bool>& owned;
      ~Release() { owned.store(false, std::memory_order_release); }
    } turn{owned_};

    unsigned helpers = static_cast<unsigned>(want - 1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      const bool wake = jobs >= kWakeJobs;
      if (wake) Spawn(helpers);
      helpers = std::min(helpers, live_);  // the OS may give fewer threads than asked
      if (!wake) helpers = std::min(helpers, live_ - sleeping_);  // only those awake: none is woken
      if (helpers > 0) {
        fn_ = fn;
        ctx_ = ctx;
        jobs_ = jobs;
        next_.store(0, std::memory_order_relaxed);
        open_ = helpers;
        generation_.fetch_add(1, std::memory_order_release);
        if (wake)
          for (unsigned i = std::min(helpers, sleeping_); i > 0; --i) start_.notify_one();
      }
    }
    if (helpers == 0) return RunInline(jobs, fn, ctx);
    Drain(fn, ctx, jobs);
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = 0;  // every job is taken: a helper that wakes only now stays out
    }
    for (auto until = Clock::now() + kSpin; active_.load(std::memory_order_acquire) != 0 && Clock::now() < until;)
      Pause();
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return active_.load(std::memory_order_acquire) == 0; });
  }

 private:
  void Drain(JobFn fn, void* ctx, size_t jobs) {
    for (size_t j; (j = next_.fetch_add(1, std::memory_order_relaxed)) < jobs;) fn(ctx, j);
  }

  // Under mu_: starts threads until `helpers` are alive, fewer where the OS refuses.
  void Spawn(unsigned helpers) {
    while (live_ < helpers) {
      try {
        std::thread(&Pool::Worker, this, generation_.load(std::memory_order_relaxed)).detach();
      } catch (...) {  // std::system_error (EAGAIN) or bad_alloc: run with the threads there are
        return;
      }
      ++live_;
    }
  }

  void Worker(uint64_t seen) {
    for (;;) {
      // Spin only while the helpers do not outnumber the cores: else spinning steals their time.
      if (live_relaxed() <= hardware_threads())
        for (auto until = Clock::now() + kSpin;
             generation_.load(std::memory_order_acquire) == seen && Clock::now() < until;)
          Pause();
      std::unique_lock<std::mutex> lock(mu_);
      if (generation_.load(std::memory_order_relaxed) == seen) {
        ++sleeping_;
        // system_clock: pthread_cond_timedwait, which old glibc has (steady_clock needs 2.30's
        // clockwait, and the prebuilt binary loads on glibc 2.17); a clock jump only moves the release.
        bool woken = start_.wait_until(lock, std::chrono::system_clock::now() + kIdle,
                                       [&] { return generation_.load(std::memory_order_relaxed) != seen; });
        --sleeping_;
        if (!woken) {  // idle: release the thread
          --live_;
          return;
        }
      }
      seen = generation_.load(std::memory_order_relaxed);
      if (open_ == 0) continue;
      --open_;
      active_.fetch_add(1, std::memory_order_relaxed);
      JobFn fn = fn_;
      void* ctx = ctx_;
      size_t jobs = jobs_;
      lock.unlock();
      Drain(fn, ctx, jobs);
      if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> done(mu_);  // the caller checks active_ under mu_: no lost wake-up
        done_.notify_one();
      }
    }
  }

  unsigned live_relaxed() {
    std::lock_guard<std::mutex> lock(mu_);
    return live_;
  }

  std::atomic<bool> owned_{false};  // set by the run that owns the helpers
  std::mutex mu_;      // everything below except the atomics
  std::condition_variable start_, done_;
  std::atomic<uint64_t> generation_{0};  // bumped when a run publishes its jobs
  unsigned live_ = 0, sleeping_ = 0;
  unsigned open_ = 0;                    // helper places left in the current run
  std::atomic<unsigned> active_{0};      // helpers inside the current run
  JobFn fn_ = nullptr;
  void* ctx_ = nullptr;
  size_t jobs_ = 0;
  std::atomic<size_t> next_{0};
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: detached helpers may still use it at exit
  return *p;
}

}  // namespace

void parallel_for(unsigned threads, size_t jobs, JobFn fn, void* ctx) { pool().run(threads, jobs, fn, ctx); }

unsigned hardware_threads() {
  static const unsigned n = [] {
    unsigned h = std::thread::hardware_concurrency();
    return h ? h : 1;
  }();
  return n;
}

}  // namespace adam
