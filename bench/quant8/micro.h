// The 8-bit microbench's interface between main.cc and the per-ISA units (isa_unit.cc).
#pragma once
#include <cstddef>
#include <cstdint>

struct MicroInput {
  const float* x;  // n values, whole blocks of 256
  size_t n;
  bool is_signed;
  int reps;
};
// Seconds per element (fastest run), and the codes each ISA wrote, for a cross-check.
struct MicroResult {
  double codes, narrow, copy, widen, div, adam_f32, adam_q8;
  uint8_t* code_out;
  uint8_t* narrow_out;
};
void micro_sse2(const MicroInput&, MicroResult&);
void micro_avx2(const MicroInput&, MicroResult&);
void micro_avx512(const MicroInput&, MicroResult&);
// Exhaustive check of one map's codes (every |y| <= 1, both signs, NaNs; q8_code past 1) and
// its widening: the count of differing codes and values.
size_t exhaustive_sse2(bool is_signed);
size_t exhaustive_avx2(bool is_signed);
size_t exhaustive_avx512(bool is_signed);
