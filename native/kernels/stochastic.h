// Half-precision parameters (kernel_api.h SlotStore::half): writing the rule's float32 result back
// to bf16/fp16 storage by stochastic rounding (no master copy), or copying a float32 master into
// its half-precision parameter by round to nearest even. lib/compact/stochastic.ts mirrors this
// bit for bit; the README ("Half-precision parameters") states the same.
//
// The hash (sr_key, sr_mix) is in sr_hash.h.
// Rounding: add the low bits of h that lie below the kept mantissa to the magnitude, truncate.
//   bf16:  (float32 bits + (h & 0xffff)) >> 16; NaN -> quiet NaN as bf16_narrow.
//   fp16:  |x| >= 2^-14: r = |bits| - 0x38000000 (rebias), (r + (h & 0x1fff)) >> 13, and
//          |x| >= 2^16 (Inf included) -> Inf: values past 65504 reach Inf with the probability of
//          the next step up; below 2^-14 (binary16 subnormals, units of 2^-24): with s = 126 - e
//          (e the float32 biased exponent, implicit bit set), (m + (h & (2^s - 1))) >> s for
//          s <= 31; |x| < 2^-32 truncates to ±0 (float32 subnormals included). NaN -> quiet NaN.
// So each value rounds up with probability equal to its distance from the value below, in units
// of the step (to 2^-16 for bf16, 2^-13 for fp16 normals): unbiased in expectation.

ADAM_HD inline uint16_t bf16_narrow_sr(float x, uint32_t h) {
  const uint32_t b = f32_bits(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((b >> 16) | 0x0040u);
  return static_cast<uint16_t>((b + (h & 0xffffu)) >> 16);
}

ADAM_HD inline uint16_t f16_narrow_sr(float x, uint32_t h) {
  const uint32_t b = f32_bits(x);
  const uint32_t sign = (b >> 16) & 0x8000u;
  const uint32_t a = b & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x47800000u) return static_cast<uint16_t>(sign | 0x7c00u);
  if (a >= 0x38800000u) return static_cast<uint16_t>(sign | ((a - 0x38000000u + (h & 0x1fffu)) >> 13));
  const uint32_t e = a >> 23;
  if (e < 95) return static_cast<uint16_t>(sign);
  const uint32_t s = 126 - e;  // 14..31
  const uint32_t m = (a & 0x7fffffu) | 0x800000u;
  return static_cast<uint16_t>(sign | ((m + (h & ((1u << s) - 1u))) >> s));
}

// Elements [at, at + n) of a half parameter from float32 `in`, by stochastic rounding.
inline void narrow_block_sr(const SlotStore& s, size_t at, size_t n, const float* in) {
  uint16_t* h = static_cast<uint16_t*>(s.data) + at;
  const uint32_t key = s.half->key;
  if (s.storage == kStoreBf16)
    for (size_t i = 0; i < n; ++i) h[i] = bf16_narrow_sr(in[i], sr_mix(key ^ static_cast<uint32_t>(at + i)));
  else
    for (size_t i = 0; i < n; ++i) h[i] = f16_narrow_sr(in[i], sr_mix(key ^ static_cast<uint32_t>(at + i)));
}

// After the rule: a master's block copied (nearest even) into its half parameter, or a half
// parameter without master narrowed by stochastic rounding. `p` is the param slot's block.
inline void write_half_param(const SlotStore& s, size_t at, size_t n, const float* p) {
  const HalfParam& half = *s.half;
  if (!half.mirror) return narrow_block_sr(s, at, n, p);
  uint16_t* h = static_cast<uint16_t*>(half.mirror) + at;
  if (half.mirror_storage == kStoreBf16)
    for (size_t i = 0; i < n; ++i) h[i] = bf16_narrow(p[i]);
  else
    for (size_t i = 0; i < n; ++i) h[i] = f16_narrow(p[i]);
}
