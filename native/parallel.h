// A process-wide thread pool. Work is split by the caller into a fixed list of jobs, so which
// thread runs a job never changes what the job computes: results are independent of `threads`.
#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

namespace adam {

using JobFn = void (*)(void* ctx, size_t job);

// Elements per chunk: the unit of work a job covers (whole chunks, or whole small tensors).
// 64 KiB per array: long enough to stream, short enough to balance threads.
constexpr size_t kChunkElements = 16384;
// Elements per job, at least: 8 consecutive chunks. Threads take jobs in turn, so a job is where a
// thread's streams jump; at one chunk per job the hardware prefetcher restarted every 64 KiB, and
// 2-thread Adam ran 10-25% slower at 1M-64M (bf16 state ~20% at 16M-64M) than with 8.
constexpr size_t kJobElements = 8 * kChunkElements;

// Runs fn(ctx, j) for every j in [0, jobs) on up to `threads` threads, the calling thread being
// one of them, and returns when all are done. A call never waits for another: while one call has
// the helper threads, a concurrent call runs its jobs on its own thread. Helpers spin briefly,
// then sleep, and end after a second without work; where the OS refuses threads, fewer are used.
void parallel_for(unsigned threads, size_t jobs, JobFn fn, void* ctx);

unsigned hardware_threads();

// THE chunker, for every caller of parallel_for and for the CUDA chunk table. Each tensor is cut
// into chunks of `chunk` elements (the last one shorter), tensor after tensor; consecutive chunks
// are grouped into jobs of at least `job` elements in all (so many small tensors make one job).
// The cut depends on the lengths only: never on the thread count.
struct Chunk {
  size_t tensor, begin, end;  // elements [begin, end) of tensor `tensor`
};
struct Chunking {
  std::vector<Chunk> chunks;
  std::vector<size_t> job_starts;  // job j covers chunks [job_starts[j], job_starts[j + 1])
  size_t jobs() const { return job_starts.empty() ? 0 : job_starts.size() - 1; }
};

template <class Lengths>
Chunking chunk_tensors(const Lengths& lengths, size_t chunk = kChunkElements, size_t job = kJobElements) {
  Chunking c;
  size_t elements = 0;
  for (size_t t = 0; t < lengths.size(); ++t)
    for (size_t begin = 0; begin < lengths[t]; begin += chunk) {
      if (elements == 0) c.job_starts.push_back(c.chunks.size());
      const size_t end = std::min<size_t>(lengths[t], begin + chunk);
      c.chunks.push_back({t, begin, end});
      elements += end - begin;
      if (elements >= job) elements = 0;
    }
  if (!c.chunks.empty()) c.job_starts.push_back(c.chunks.size());
  return c;
}

}  // namespace adam
