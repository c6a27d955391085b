// What separates the AVX-512 Adam kernel from the 4-read/3-write stream probe on a cache-sized
// working set (1M elements: 16 MiB, from L3). One process, every subject timed in turn round after
// round, each as the addon runs it: the chunker of parallel.h, jobs on the addon's pool, one
// kernel call per chunk. Subjects that differ from the addon's kernel only in where they prefetch,
// how large the chunks are, or where the arrays lie show which of these matters. Arithmetic and
// its order are the rule's own (update_block of driver.h) in every Adam subject.
//
// usage: run.sh [elements=1048576] [rounds=31] [threads=1] [passes per timing=8] [subjects besides the probe: comma-separated names, '' for all] [warm|cold]
#include <immintrin.h>
#include <math.h>
#include <string.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "../../native/kernels/kernel_api.h"
#include "../../native/kernels/sr_hash.h"
#include "../../native/parallel.h"

namespace adam {
namespace avx512 {
#include "../../native/kernels/vec_scalar.h"
#include "../../native/kernels/vec_avx512.h"
#include "../../native/kernels/rules.h"
#include "../../native/kernels/driver.h"
#include "../../native/kernels/stream.h"
}  // namespace avx512
}  // namespace adam

namespace {
using namespace adam;
using namespace adam::avx512;
using V = VecMain;

constexpr size_t kHuge = size_t{2} << 20;

// n floats at `offset` bytes past a 2 MiB boundary, on huge pages where the kernel gives them
// (allocFloat32's placement when offset is 0), or on 4 KiB pages (a plain `new Float32Array`).
float* alloc_floats(size_t n, size_t offset, bool huge) {
  const size_t bytes = n * sizeof(float) + offset + kHuge;
  void* raw = mmap(nullptr, bytes + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  uintptr_t aligned = (reinterpret_cast<uintptr_t>(raw) + kHuge - 1) / kHuge * kHuge;
  madvise(reinterpret_cast<void*>(aligned), bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  return reinterpret_cast<float*>(aligned + offset);
}

void fill_grad(float* a, size_t n) {
  uint32_t x = 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    a[i] = static_cast<float>(x >> 8) / 16777216.0f - 0.5f;
  }
}

// The addon's Adam kernel (kernels_isa.inc's adam_avx512), called through a pointer as the plan does.
[[gnu::noinline]] void adam_kernel(const float* scalars, uint32_t flags, float* const* slots, size_t n) {
  run_rule<AdamRule>(scalars, flags, slots, n);
}

// The same loop with no flags, prefetching every array kDist bytes ahead with hint kHint: one
// prefetch per array per vector (a vector is one 64-byte line), or with kBatch the whole next 1 KiB
// block of each array at the start of each block (one batch per 16 vectors).
template <int kHint, size_t kDist, bool kBatch = false>
[[gnu::noinline]] void adam_prefetch(const float* scalars, uint32_t flags, float* const* slots, size_t n) {
  constexpr uint32_t need = 0xFu;
  constexpr size_t kBlock = 256;  // floats: 1 KiB
  float* p[AdamRule::kSlots];
  for (int j = 0; j < AdamRule::kSlots; ++j) p[j] = slots[j];
  V::F s[AdamRule::kScalars];
  for (int j = 0; j < AdamRule::kScalars; ++j) s[j] = V::set1(scalars[j]);
  size_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) {
    for (int j = 0; j < 4; ++j) {
      if constexpr (!kBatch) {
        _mm_prefetch(reinterpret_cast<const char*>(p[j] + i) + kDist, static_cast<_mm_hint>(kHint));
      } else if ((i & (kBlock - 1)) == 0) {
        for (size_t e = 0; e < kBlock; e += 16)
          _mm_prefetch(reinterpret_cast<const char*>(p[j] + i + e) + kDist, static_cast<_mm_hint>(kHint));
      }
    }
    update_block<AdamRule, V>(s, flags, need, p, i);
  }
  if (i < n) update_block<AdamRule, V>(s, flags, need, p, i, V::mask(n - i));
}

// The probe's loop with Adam's arithmetic cost added to it but not its data flow: p += g, m += g,
// v += g, plus an independent sqrt and div per vector into a sink (what the memory stream costs
// when the core also has Adam's long-latency work).
[[gnu::noinline]] void probe_plus_divsqrt(float* p, const float* g, float* m, float* v, size_t n) {
  V::F sink = V::set1(0.0f), one = V::set1(1.0f);
  size_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) {
    V::F gi = V::load(g + i);
    V::F pi = V::add(V::load(p + i), gi);
    V::store(p + i, pi);
    V::F mi = V::add(V::load(m + i), gi);
    V::store(m + i, mi);
    V::F vi = V::add(V::load(v + i), gi);
    V::store(v + i, vi);
    sink = V::add(sink, V::div(mi, V::add(V::sqrt(V::abs(vi)), one)));
  }
  float out[16];
  V::store(out, sink);
  volatile float keep = out[0];
  (void)keep;
}

// The addon's kernel with a masked head first, so that the rest starts on a 64-byte line of p
// (each element's arithmetic is the same: which lanes share a vector never changes a result).
[[gnu::noinline]] void adam_peeled(const float* scalars, uint32_t flags, float* const* slots, size_t n) {
  const size_t head = std::min(n, ((64 - (reinterpret_cast<uintptr_t>(slots[0]) & 63)) & 63) / sizeof(float));
  if (head) run_rule<AdamRule>(scalars, flags, slots, head);
  float* rest[kMaxSlots];
  for (int k = 0; k < kMaxSlots; ++k) rest[k] = slots[k] ? slots[k] + head : nullptr;
  run_rule<AdamRule>(scalars, flags, rest, n - head);
}

struct Arrays {
  float* a[4];  // p, g, m, v
};

using StreamFn = void (*)(float*, const float*, float*, float*, size_t);

struct Job {
  KernelFn kernel = nullptr;
  StreamFn stream = nullptr;
  const float* scalars = nullptr;
  Arrays arrays{};
  Chunking chunks;
};

// As CpuPlan::RunJob (one tensor: no jumps to prefetch) and the stream probe's RunJob.
void RunJob(void* ctx, size_t j) {
  const Job* job = static_cast<const Job*>(ctx);
  const Chunking& c = job->chunks;
  float* slots[kMaxSlots];
  for (size_t i = c.job_starts[j]; i < c.job_starts[j + 1]; ++i) {
    const size_t begin = c.chunks[i].begin, n = c.chunks[i].end - begin;
    if (job->stream) {
      job->stream(job->arrays.a[0] + begin, job->arrays.a[1] + begin, job->arrays.a[2] + begin, job->arrays.a[3] + begin, n);
    } else {
      for (int k = 0; k < 4; ++k) slots[k] = job->arrays.a[k] + begin;
      slots[4] = nullptr;
      job->kernel(job->scalars, 0u, slots, n);
    }
  }
}

struct Subject {
  std::string name;
  Job job;
};

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Spread {
  double median, min, max;
};
Spread spread(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  const size_t n = x.size();
  return {n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2, x.front(), x.back()};
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? strtoull(argv[1], nullptr, 10) : size_t{1} << 20;
  const int rounds = argc > 2 ? atoi(argv[2]) : 31;
  const unsigned threads = argc > 3 ? static_cast<unsigned>(atoi(argv[3])) : 1;
  const int passes = argc > 4 ? atoi(argv[4]) : 8;
  const std::string filter = argc > 5 ? argv[5] : "";
  // cold: no untimed pass before a subject's timing, as in npm run bench (the previous subject's
  // 16 MiB went through the cache in between).
  const bool cold = argc > 6 && std::string(argv[6]) == "cold";

  // Adam's scalars (beta1, 1-beta1, beta2, 1-beta2, weightDecay, stepSize, epsHat, decay, gradScale).
  static const float scalars[kMaxScalars] = {0.9f, 0.1f, 0.999f, 0.001f, 0.0f, 1e-3f, 1e-8f, 1.0f, 1.0f};

  auto arrays = [&](const std::vector<size_t>& offsets, bool small_pg) {
    Arrays a;
    for (int k = 0; k < 4; ++k) {
      a.a[k] = alloc_floats(n, offsets[k], !(small_pg && k < 2));
      if (k == 1) fill_grad(a.a[k], n);
      else std::fill(a.a[k], a.a[k] + n, k == 0 ? 1.0f : 0.0f);
    }
    return a;
  };
  // Each subject its own arrays, so none reads another's freshly written lines.
  std::vector<Subject> subjects;
  auto add = [&](const std::string& name, KernelFn kernel, StreamFn stream, size_t chunk = kChunkElements,
                 std::vector<size_t> offsets = {0, 0, 0, 0}, bool small_pages = false) {
    if (!filter.empty() && name != "probe" && ("," + filter + ",").find("," + name + ",") == std::string::npos) return;
    Subject s{name, {}};
    s.job.kernel = kernel;
    s.job.stream = stream;
    s.job.scalars = scalars;
    s.job.arrays = arrays(offsets, small_pages);
    s.job.chunks = chunk_tensors(std::vector<size_t>{n}, chunk, chunk);
    subjects.push_back(std::move(s));
  };
  add("probe", nullptr, stream_add<V>);
  add("adam", adam_kernel, nullptr);
  add("adam chunk 4K", adam_kernel, nullptr, 4096);
  add("adam chunk 64K", adam_kernel, nullptr, 65536);
  add("adam one chunk", adam_kernel, nullptr, n);
  add("probe one chunk", nullptr, stream_add<V>, n);
  add("probe+divsqrt", nullptr, probe_plus_divsqrt);
  // Arrays 1 KiB + 64 bytes apart (no 4 KiB aliasing between them); p and g 16 bytes past a
  // line, m and v aligned, as separate small `new Float32Array`s from malloc and the state arenas.
  const std::vector<size_t> apart = {0, 1088, 2176, 3264}, unaligned = {16, 32, 0, 0};
  add("probe offsets 1K", nullptr, stream_add<V>, kChunkElements, apart);
  add("adam offsets 1K", adam_kernel, nullptr, kChunkElements, apart);
  add("probe p,g unaligned", nullptr, stream_add<V>, kChunkElements, unaligned);
  add("adam p,g unaligned", adam_kernel, nullptr, kChunkElements, unaligned);
  add("adam all +16", adam_kernel, nullptr, kChunkElements, {16, 16, 16, 16});
  add("adam all +16 peeled", adam_peeled, nullptr, kChunkElements, {16, 16, 16, 16});
  add("adam p,g +16 peeled", adam_peeled, nullptr, kChunkElements, unaligned);
  add("adam p,g 4K +16 peeled", adam_peeled, nullptr, kChunkElements, {16, 16, 0, 0}, true);
  add("adam p,g 4K aligned", adam_kernel, nullptr, kChunkElements, {0, 0, 0, 0}, true);
  add("adam all +16, p,g 4K, peeled", adam_peeled, nullptr, kChunkElements, {16, 16, 16, 16}, true);
  // p and g on 4 KiB pages (views of a plain `new Float32Array`), m and v on huge pages (arenas).
  add("probe p,g 4K pages", nullptr, stream_add<V>, kChunkElements, {16, 16, 0, 0}, true);
  add("adam p,g 4K pages", adam_kernel, nullptr, kChunkElements, {16, 16, 0, 0}, true);
  add("adam pf t0 +512", adam_prefetch<_MM_HINT_T0, 512>, nullptr);
  add("adam pf t0 +1K", adam_prefetch<_MM_HINT_T0, 1024>, nullptr);
  add("adam pf t0 +2K", adam_prefetch<_MM_HINT_T0, 2048>, nullptr);
  add("adam pf t1 +1K", adam_prefetch<_MM_HINT_T1, 1024>, nullptr);
  add("adam pf t1 +4K", adam_prefetch<_MM_HINT_T1, 4096>, nullptr);
  add("adam pf t2 +4K", adam_prefetch<_MM_HINT_T2, 4096>, nullptr);
  add("adam pf batch t0 +1K", adam_prefetch<_MM_HINT_T0, 1024, true>, nullptr);
  add("adam pf batch t1 +2K", adam_prefetch<_MM_HINT_T1, 2048, true>, nullptr);

  const size_t S = subjects.size();
  for (auto& s : subjects)  // warm-up: pages touched, pool started
    for (int r = 0; r < 3; ++r) parallel_for(threads, s.job.chunks.jobs(), RunJob, &s.job);
  std::vector<std::vector<double>> secs(S);
  for (int r = 0; r < rounds; ++r)
    for (size_t k = 0; k < S; ++k) {
      Job* job = &subjects[k].job;
      if (!cold) parallel_for(threads, job->chunks.jobs(), RunJob, job);  // one untimed pass: the cache holds this subject's data
      const double t0 = now();
      for (int p = 0; p < passes; ++p) parallel_for(threads, job->chunks.jobs(), RunJob, job);
      secs[k].push_back((now() - t0) / passes);
    }
  printf("%zu elements, %u thread(s), %d rounds of %d %s passes; median [min-max] over rounds\n", n, threads, rounds, passes, cold ? "cold" : "warm");
  printf("%-22s %10s %22s\n", "subject", "Gelem/s", "probe time / this time");
  for (size_t k = 0; k < S; ++k) {
    std::vector<double> ratio(rounds);
    for (int r = 0; r < rounds; ++r) ratio[r] = secs[0][r] / secs[k][r];
    const Spread t = spread(secs[k]), q = spread(ratio);
    printf("%-22s %10.2f %10.2f [%.2f-%.2f]\n", subjects[k].name.c_str(), n / t.median / 1e9, q.median, q.min, q.max);
  }
  return 0;
}
