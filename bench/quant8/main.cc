// 8-bit block-wise state microbench: where the time of int8-state Adam goes, per ISA, with the
// data in cache (n elements, default 16,384: param, grad, codes and scratch fit in L2). Prints
// ns per element for the code search alone (q8_codes on x/absmax), q8_narrow (absmax, division,
// codes; includes a copy of the input, printed separately), q8_widen, the division alone, and a
// whole Adam step with float32 state and with int8 state (run_compact). Fastest of many runs.
// Build and run: bash bench/quant8/run.sh [n] [reps]; `run.sh --exhaustive [first ISA index]`
// checks every ISA's codes and values instead (isa_unit.cc exhaustive).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "micro.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--exhaustive") == 0) {
    size_t (*fns[])(bool) = {exhaustive_sse2, exhaustive_avx2, exhaustive_avx512};
    const char* names[] = {"sse2", "avx2", "avx512"};
    size_t bad = 0;
    for (int k = argc > 2 ? std::atoi(argv[2]) : 0; k < 3; ++k) {
      if ((k == 1 && !__builtin_cpu_supports("avx2")) || (k == 2 && !__builtin_cpu_supports("avx512f"))) continue;
      for (int s = 0; s < 2; ++s) {
        const size_t b = fns[k](s == 1);
        printf("%s, %s map: %zu codes or values differ from the definition\n", names[k], s ? "signed" : "unsigned", b);
        bad += b;
      }
    }
    return bad ? 1 : 0;
  }
  const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 16384;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 300;
  // Moment-like values: a heavy-tailed spread over several decades, both signs.
  std::vector<float> x(n);
  uint64_t s = 88172645463325252ull;
  for (size_t i = 0; i < n; ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    const double u = (s >> 11) * (1.0 / 9007199254740992.0);
    const double w = ((s >> 3) & 0xff) / 255.0;
    x[i] = static_cast<float>((s & 1 ? -1 : 1) * std::exp(-6.0 * u) * (0.5 + w));
  }
  struct Isa {
    const char* name;
    void (*fn)(const MicroInput&, MicroResult&);
  } isas[] = {{"sse2", micro_sse2}, {"avx2", micro_avx2}, {"avx512", micro_avx512}};
  const bool has512 = __builtin_cpu_supports("avx512f"), has2 = __builtin_cpu_supports("avx2");
  for (int sign = 1; sign >= 0; --sign) {
    std::vector<float> in(x);
    if (!sign)
      for (float& f : in) f = f * f;
    std::vector<uint8_t> ref_codes(n), ref_narrow(n);
    printf("%s map, n=%zu (ns per element; Adam also as Gelem/s)\n", sign ? "signed" : "unsigned", n);
    printf("%-7s %7s %7s %7s %7s %7s %9s %9s %8s %8s\n", "isa", "codes", "narrow", "copy", "widen", "div", "adam f32", "adam q8", "f32 G/s", "q8 G/s");
    for (int k = 0; k < 3; ++k) {
      if ((k == 1 && !has2) || (k == 2 && !has512)) continue;
      std::vector<uint8_t> c(n), cn(n);
      MicroInput mi{in.data(), n, sign == 1, reps};
      MicroResult r{};
      r.code_out = c.data();
      r.narrow_out = cn.data();
      isas[k].fn(mi, r);
      if (k == 0) ref_codes = c, ref_narrow = cn;
      const bool same = c == ref_codes && cn == ref_narrow;
      printf("%-7s %7.3f %7.3f %7.3f %7.3f %7.3f %9.3f %9.3f %8.3f %8.3f%s\n", isas[k].name, r.codes * 1e9, r.narrow * 1e9,
             r.copy * 1e9, r.widen * 1e9, r.div * 1e9, r.adam_f32 * 1e9, r.adam_q8 * 1e9, 1e-9 / r.adam_f32,
             1e-9 / r.adam_q8, same ? "" : "  CODES DIFFER FROM sse2");
    }
  }
  return 0;
}
