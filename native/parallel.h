// A process-wide thread pool. Work is split by the caller into a fixed list of jobs, so which
// thread runs a job never changes what the job computes: results are independent of `threads`.
#pragma once
#include <cstddef>

namespace adam {

using JobFn = void (*)(void* ctx, size_t job);

// Elements per chunk: the unit of work a job covers (whole chunks, or whole small tensors).
// 64 KiB per array: long enough to stream, short enough to balance threads.
constexpr size_t kChunkElements = 16384;

// Runs fn(ctx, j) for every j in [0, jobs) on up to `threads` threads, the calling thread being
// one of them, and returns when all are done. A call never waits for another: while one call has
// the helper threads, a concurrent call runs its jobs on its own thread. Helpers spin briefly,
// then sleep, and end after a second without work; where the OS refuses threads, fewer are used.
void parallel_for(unsigned threads, size_t jobs, JobFn fn, void* ctx);

unsigned hardware_threads();

}  // namespace adam
