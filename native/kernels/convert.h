// Widening and narrowing between float32 and the compact storages, on bits (uint32 <-> uint16),
// so every ISA, the CUDA build and lib/compact/convert.ts give the same bits by construction.
// Included inside an ISA namespace (kernels_isa.inc); plain loops the compiler may vectorise
// (integer operations: any vectorisation is exact).


ADAM_HD inline uint32_t f32_bits(float x) {
  uint32_t b;
  memcpy(&b, &x, 4);
  return b;
}
ADAM_HD inline float f32_from_bits(uint32_t b) {
  float x;
  memcpy(&x, &b, 4);
  return x;
}

// bfloat16: the high half of a float32. Narrowing rounds to nearest, ties to even (overflow gives
// ±Inf by the carry into the exponent); a NaN stays a NaN, made quiet.
ADAM_HD inline float bf16_widen(uint16_t h) { return f32_from_bits(static_cast<uint32_t>(h) << 16); }
ADAM_HD inline uint16_t bf16_narrow(float x) {
  const uint32_t b = f32_bits(x);
  const uint32_t rounded = (b + 0x7fffu + ((b >> 16) & 1u)) >> 16, quiet = (b >> 16) | 0x0040u;
  return static_cast<uint16_t>((b & 0x7fffffffu) > 0x7f800000u ? quiet : rounded);  // a select: vectorises
}

#if defined(__AVX512F__)
inline __m512 bf16_widen_vec(const uint16_t* h) {
  const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
inline void bf16_narrow_vec(uint16_t* h, __m512 x) {
  const __m512i b = _mm512_castps_si512(x), top = _mm512_srli_epi32(b, 16);
  const __m512i bias = _mm512_add_epi32(_mm512_set1_epi32(0x7fff), _mm512_and_si512(top, _mm512_set1_epi32(1)));
  const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(b, bias), 16);
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(b, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
  const __m512i r = _mm512_mask_or_epi32(rounded, nan, top, _mm512_set1_epi32(0x0040));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(h), _mm512_cvtepi32_epi16(r));
}
#elif defined(__AVX2__)
inline __m256 bf16_widen_vec(const uint16_t* h) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
inline void bf16_narrow_vec(uint16_t* h, __m256 x) {
  const __m256i b = _mm256_castps_si256(x), top = _mm256_srli_epi32(b, 16);
  const __m256i bias = _mm256_add_epi32(_mm256_set1_epi32(0x7fff), _mm256_and_si256(top, _mm256_set1_epi32(1)));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(b, bias), 16);
  // Both sides below 2^31: the signed compare is the unsigned one.
  const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(b, _mm256_set1_epi32(0x7fffffff)), _mm256_set1_epi32(0x7f800000));
  const __m256i r = _mm256_blendv_epi8(rounded, _mm256_or_si256(top, _mm256_set1_epi32(0x0040)), nan);
  // Each lane <= 0xffff, so the saturating pack keeps it; the permute joins the two halves.
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm256_castsi256_si128(packed));
}
#endif

// IEEE binary16. Widening is exact (subnormals included; a NaN keeps its payload's top bits).
ADAM_HD inline float f16_widen(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 31) return f32_from_bits(sign | 0x7f800000u | (m << 13));
  if (e != 0) return f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
  if (m == 0) return f32_from_bits(sign);
  // Subnormal: m * 2^-24, normalised (m < 2^10, so the shift is 1..10).
  int shift = 0;
  uint32_t mm = m;
  while ((mm & 0x400u) == 0) {
    mm <<= 1;
    ++shift;
  }
  return f32_from_bits(sign | ((113u - shift) << 23) | ((mm & 0x3ffu) << 13));
}
// Narrowing rounds to nearest, ties to even, into binary16's subnormals; past the largest finite
// half (65504) it rounds to ±Inf as IEEE says (from 65520 up); NaN stays a quiet NaN.
ADAM_HD inline uint16_t f16_narrow(float x) {
  const uint32_t b = f32_bits(x);
  const uint32_t sign = (b >> 16) & 0x8000u;
  const uint32_t a = b & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);
  if (a >= 0x38800000u) {  // normal half: rebias the exponent, round 13 bits away
    const uint32_t r = a - 0x38000000u;
    return static_cast<uint16_t>(sign | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13));
  }
  const uint32_t e = a >> 23;
  if (e < 102) return static_cast<uint16_t>(sign);  // below 2^-25 (2^-25 itself ties to 0 below)
  const uint32_t m = (a & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - e;  // 14..24: m*2^(e-150) in units of 2^-24
  uint32_t q = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return static_cast<uint16_t>(sign | q);
}

// The code of y: how many midpoints lie strictly below it (quant8.cc's buckets; |y| past the
// last bucket counts as its end); NaN gives code 0. Two look-ups and selects: the scalar units'
// code, and the SIMD loops' for the lanes their arithmetic does not decide.
ADAM_HD inline uint8_t q8_code(const Quant8Map& map, float y) {
  const uint32_t b = f32_bits(y);
  const uint32_t e = (b >> 23) & 0xffu;
  const uint32_t fine = ((e - 103) << kQ8MantissaBits) | ((b >> (23 - kQ8MantissaBits)) & ((1u << kQ8MantissaBits) - 1));
  const uint32_t bucket = (e < 103 ? 0u : fine > kQ8Buckets - 1 ? kQ8Buckets - 1 : fine) + (b >> 31) * kQ8Buckets;
  const int32_t code = map.start[bucket] + (y >= map.threshold[bucket] ? 1 : 0);
  return static_cast<uint8_t>(y != y ? 0 : code);
}
#include "quant8_simd.h"

// 8-bit block codes. Dequantise: map value times absmax, one float32 multiply.
inline void q8_widen(const Quant8Map& map, const uint8_t* codes, float absmax, float* out, size_t n) {
  q8_values(map, codes, absmax, out, n);
}

// Quantise a block: absmax = max |x| (NaN if any element is NaN, so divergence stays visible),
// code = q8_code(x/absmax); absmax 0 gives every element the code of 0.
// `x` (n <= kCompactBlock) is overwritten with x/absmax.
inline float q8_narrow(const Quant8Map& map, float* x, uint8_t* codes, size_t n) {
  // On the bits of |x|, integer order is float order, and any NaN is above +Inf: an integer max
  // (which vectorises) finds the absmax and any NaN at once.
  uint32_t top = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t a = f32_bits(x[i]) & 0x7fffffffu;
    top = a > top ? a : top;
  }
  const float absmax = f32_from_bits(top > 0x7f800000u ? 0x7fc00000u : top);
  if (top == 0) {
    for (size_t i = 0; i < n; ++i) codes[i] = static_cast<uint8_t>(map.zero);
    return absmax;
  }
  for (size_t i = 0; i < n; ++i) x[i] = x[i] / absmax;
  q8_codes(map, x, codes, n);
  return absmax;
}
