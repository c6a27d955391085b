// One ISA's kernels headers, built into the 8-bit microbench (run.sh compiles this file once per
// ISA with that unit's flags, as CMakeLists.txt does for the addon).
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "../../native/kernels/kernel_api.h"
#include "../../native/kernels/sr_hash.h"

#define ADAM_NS2(prefix, a) prefix##_##a
#define ADAM_NS(prefix, a) ADAM_NS2(prefix, a)

namespace adam {
namespace ADAM_ISA {
#include "../../native/kernels/vec_scalar.h"
#include ADAM_VEC_HEADER
#include "../../native/kernels/rules.h"
#include "../../native/kernels/driver.h"
#include "../../native/kernels/convert.h"
#include "../../native/kernels/stochastic.h"
#include "../../native/kernels/compact.h"
}  // namespace ADAM_ISA
}  // namespace adam

#include "micro.h"

namespace {
using namespace adam;
using namespace adam::ADAM_ISA;

// Fastest of `reps` runs of f, in seconds: the least disturbed by the other jobs on the machine.
template <class F>
double fastest(int reps, F f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = s < best ? s : best;
  }
  return best;
}
}  // namespace

void ADAM_NS(micro, ADAM_ISA)(const MicroInput& in, MicroResult& out) {
  const size_t n = in.n, blocks = n / kCompactBlock;
  const Quant8Map& map = quant8_map(in.is_signed);
  std::vector<float> scratch(n), y(n);
  std::vector<uint8_t> codes(n);
  std::vector<float> absmax(blocks);
  // y = x/absmax per block (the codes' input)
  for (size_t b = 0; b < blocks; ++b) {
    float a = 0;
    for (size_t i = 0; i < kCompactBlock; ++i) a = fmaxf(a, fabsf(in.x[b * kCompactBlock + i]));
    for (size_t i = 0; i < kCompactBlock; ++i) y[b * kCompactBlock + i] = in.x[b * kCompactBlock + i] / a;
  }
  volatile uint8_t sink = 0;
  out.codes = fastest(in.reps, [&] {
    for (size_t b = 0; b < blocks; ++b) q8_codes(map, y.data() + b * kCompactBlock, codes.data() + b * kCompactBlock, kCompactBlock);
    sink = sink + codes[n / 2];
  }) / n;
  for (size_t i = 0; i < n; ++i) out.code_out[i] = codes[i];
  out.narrow = fastest(in.reps, [&] {
    memcpy(scratch.data(), in.x, n * sizeof(float));
    for (size_t b = 0; b < blocks; ++b)
      absmax[b] = q8_narrow(map, scratch.data() + b * kCompactBlock, codes.data() + b * kCompactBlock, kCompactBlock);
    sink = sink + codes[n / 2];
  }) / n;
  out.copy = fastest(in.reps, [&] {
    memcpy(scratch.data(), in.x, n * sizeof(float));
    sink = sink + static_cast<uint8_t>(scratch[n / 2]);
  }) / n;
  for (size_t i = 0; i < n; ++i) out.narrow_out[i] = codes[i];
  out.widen = fastest(in.reps, [&] {
    for (size_t b = 0; b < blocks; ++b)
      q8_widen(map, codes.data() + b * kCompactBlock, absmax[b], scratch.data() + b * kCompactBlock, kCompactBlock);
    sink = sink + static_cast<uint8_t>(scratch[n / 2]);
  }) / n;
  out.div = fastest(in.reps, [&] {
    for (size_t b = 0; b < blocks; ++b) {
      const float a = absmax[b];
      float* s = scratch.data() + b * kCompactBlock;
      for (size_t i = 0; i < kCompactBlock; ++i) s[i] = in.x[b * kCompactBlock + i] / a;
    }
    sink = sink + static_cast<uint8_t>(scratch[n / 2]);
  }) / n;

  // Adam over n elements: float32 state, then int8 moments (signed exp_avg, unsigned exp_avg_sq).
  std::vector<float> p(in.x, in.x + n), g(n), m(n, 0.0f), v(n, 0.0f);
  for (size_t i = 0; i < n; ++i) g[i] = in.x[(i * 7919) % n] * 0.01f;
  const float scalars[AdamRule::kScalars] = {0.9f, 0.1f, 0.999f, 0.001f, 0.0f, 1e-3f, 1e-8f, 1.0f, 1.0f};
  float* f32[AdamRule::kSlots] = {p.data(), g.data(), m.data(), v.data(), nullptr};
  out.adam_f32 = fastest(in.reps, [&] { run_rule<AdamRule, VecMain>(scalars, 0, f32, n); }) / n;
  std::vector<uint8_t> cm(n, 127), cv(n, 0);
  std::vector<float> am(blocks, 0.0f), av(blocks, 0.0f);
  SlotStore slots[AdamRule::kSlots] = {
      {p.data(), nullptr, kStoreF32, nullptr},
      {g.data(), nullptr, kStoreF32, nullptr},
      {cm.data(), am.data(), kStoreQ8Signed, nullptr},
      {cv.data(), av.data(), kStoreQ8Unsigned, nullptr},
      {nullptr, nullptr, kStoreF32, nullptr},
  };
  for (int warm = 0; warm < 5; ++warm) run_compact<AdamRule>(scalars, 0, slots, 0, n);
  out.adam_q8 = fastest(in.reps, [&] { run_compact<AdamRule>(scalars, 0, slots, 0, n); }) / n;
  (void)sink;
}

// Every float32 y with |y| <= 1 (both signs) and some NaNs through q8_codes, and some |y| > 1 (to
// Inf) through q8_code, against the definition: how many midpoints lie strictly below y (scalar
// binary search over map.mids, as lib/compact/quant8.ts q8Code). Then q8_widen of every code (in a run of 1,000
// with every tail length) for absmax values of every kind, against values[code] * absmax, bits
// compared. Returns the number of differing codes and values; prints the first few.
size_t ADAM_NS(exhaustive, ADAM_ISA)(bool is_signed) {
  const Quant8Map& map = quant8_map(is_signed);
  constexpr size_t kChunk = 1 << 16;
  std::vector<float> y(kChunk);
  std::vector<uint8_t> codes(kChunk);
  size_t bad = 0;
  auto reference = [&](float v) {
    int lo = 0;
    for (int step = 128; step > 0; step >>= 1)
      if (lo + step <= 255 && map.mids[lo + step - 1] < v) lo += step;
    return static_cast<uint8_t>(lo);
  };
  const uint64_t top = 0x3f800000ull;  // bits of 1.0f
  for (uint64_t sign = 0; sign < 2; ++sign) {
    for (uint64_t start = 0; start <= top + kChunk; start += kChunk) {
      for (size_t k = 0; k < kChunk; ++k) {
        const uint64_t b = start + k;
        // Past 1.0: NaNs (payloads spread over their whole range) and |y| > 1 up to Inf, alternately.
        const uint64_t j = b - top - 1, step = j / 2;
        uint32_t bits = b <= top   ? static_cast<uint32_t>(b)
                        : j % 2 ? static_cast<uint32_t>(0x7f800001u + (step * 977u) % 0x7fffffu)
                                : static_cast<uint32_t>(std::min<uint64_t>(0x3f800001u + step * 16411u, 0x7f800000u));
        bits |= static_cast<uint32_t>(sign << 31);
        memcpy(&y[k], &bits, 4);
      }
      // Two calls of lengths 2^16 - 13 and 13, so every loop of q8_codes (and its tail) takes part.
      q8_codes(map, y.data(), codes.data(), kChunk - 13);
      q8_codes(map, y.data() + kChunk - 13, codes.data() + kChunk - 13, 13);
      for (size_t k = 0; k < kChunk; ++k) {
        const uint8_t want = reference(y[k]);
        // Past 1 (outside q8_codes' domain), the scalar q8_code still gives the definition.
        const uint8_t got = fabsf(y[k]) > 1.0f ? q8_code(map, y[k]) : codes[k];
        if (got != want && bad++ < 10) {
          uint32_t bits;
          memcpy(&bits, &y[k], 4);
          printf("  %s map, y=%a (bits %08x): code %u, want %u\n", is_signed ? "signed" : "unsigned", y[k], bits, got, want);
        }
      }
    }
  }
  const float absmaxes[] = {1.0f, 0.375f, 3.0e-41f, 1.17549435e-38f, 0.1f, 7.0e25f, 3.4028235e38f, HUGE_VALF, NAN, 0.0f};
  std::vector<uint8_t> c(1000);
  std::vector<float> out(1000);
  for (size_t k = 0; k < c.size(); ++k) c[k] = static_cast<uint8_t>(k * 131 + k / 256);
  for (const float a : absmaxes)
    for (size_t len = 1000 - 40; len <= 1000; ++len) {
      q8_widen(map, c.data(), a, out.data(), len);
      for (size_t k = 0; k < len; ++k) {
        const float want = map.values[c[k]] * a;
        if (memcmp(&want, &out[k], 4) != 0 && bad++ < 10)
          printf("  %s map, code %u, absmax %a: value %a, want %a\n", is_signed ? "signed" : "unsigned", c[k], a, out[k], want);
      }
    }
  return bad;
}
