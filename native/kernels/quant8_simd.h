// The 8-bit loops of convert.h on AVX2 (gathers from the map's tables) and AVX-512 (no gathers:
// they are slow on AVX-512 cores such as Zen 4, ~20 cycles each), chosen by the unit's own
// compile flags. The gathers do q8_code's and q8_widen's operations lane by lane. The AVX-512
// codes come from the region arithmetic (kernel_api.h), exact wherever it is trusted: quant8.cc
// checks its error bounds when it builds the tables, and bench/quant8 (--exhaustive) compares
// every float32 in [-1, 1] with the definition. Other units (and tails) use the scalar functions.
// Included inside an ISA namespace after convert.h; the intrinsics headers come with the unit.

// codes[i] = q8_code(map, y[i]) for i < n.
inline void q8_codes(const Quant8Map& map, const float* y, uint8_t* codes, size_t n) {
  size_t i = 0;
#if defined(__AVX512F__)
  // The region arithmetic of kernel_api.h, all tables in registers. n = midpoints below a = |y|;
  // y >= 0 takes code zero + n, y < 0 zero - (midpoints at most a), clamped at 0 (-1 in the
  // signed map; any y < 0 in the unsigned one). The two counts differ only when a is a midpoint:
  // an inner one puts t within kQ8Margin of an integer, and a special one is the float32 just
  // below its octave's threshold. Those lanes, and NaN, take q8_code.
  const __m512 oct_lo = _mm512_load_ps(map.octave_threshold), oct_hi = _mm512_load_ps(map.octave_threshold + 16);
  const __m512i reg_lo = _mm512_load_si512(map.octave_region), reg_hi = _mm512_load_si512(map.octave_region + 16);
  const __m512 scale = _mm512_load_ps(map.region_scale), offset = _mm512_load_ps(map.region_offset);
  const __m512 cap = _mm512_load_ps(map.region_cap);
  const __m512i abs_bits = _mm512_set1_epi32(0x7fffffff), sign_bit = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  const __m512i zero = _mm512_set1_epi32(static_cast<int>(map.zero)), one = _mm512_set1_epi32(1);
  const __m512 tiny = _mm512_set1_ps(0x1p-31f), half = _mm512_set1_ps(0.5f), far = _mm512_set1_ps(0.5f - kQ8Margin);
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(y + i);
    const __m512 a = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), abs_bits));
    // Octave index: the exponent field's low 5 bits once a is at least 2^-31 (field 96..127).
    const __m512i e = _mm512_srli_epi32(_mm512_castps_si512(_mm512_max_ps(a, tiny)), 23);
    const __m512 threshold = _mm512_permutex2var_ps(oct_lo, e, oct_hi);
    const __mmask16 up = _mm512_cmp_ps_mask(a, threshold, _CMP_GE_OQ);
    const __m512i below = _mm512_permutex2var_epi32(reg_lo, e, reg_hi);
    const __m512i r = _mm512_mask_add_epi32(below, up, below, one);
    __m512 t = _mm512_add_ps(_mm512_mul_ps(a, _mm512_permutexvar_ps(r, scale)), _mm512_permutexvar_ps(r, offset));
    t = _mm512_min_ps(_mm512_permutexvar_ps(r, cap), t);  // NaN t stays NaN
    const __m512 f = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m512 frac = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(_mm512_sub_ps(_mm512_sub_ps(t, f), half)), abs_bits));
    const __mmask16 neg = _mm512_test_epi32_mask(_mm512_castps_si512(v), sign_bit);
    const __m512 special = _mm512_castsi512_ps(_mm512_sub_epi32(_mm512_castps_si512(threshold), one));
    const __mmask16 near = _mm512_cmp_ps_mask(frac, far, _CMP_NLT_UQ) |  // |fraction - 1/2| >= 1/2 - margin, or NaN
                           _mm512_mask_cmp_ps_mask(neg, a, special, _CMP_EQ_OQ);
    const __m512i cnt = _mm512_cvttps_epi32(f);
    __m512i code = _mm512_mask_sub_epi32(_mm512_add_epi32(zero, cnt), neg, zero, cnt);
    code = _mm512_max_epi32(code, _mm512_setzero_si512());
    _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i), _mm512_cvtepi32_epi8(code));
    for (uint32_t m = near; m != 0; m &= m - 1) {
      const size_t k = i + static_cast<size_t>(__builtin_ctz(m));
      codes[k] = q8_code(map, y[k]);
    }
  }
#elif defined(__AVX2__)
  const __m256i c103 = _mm256_set1_epi32(103), last = _mm256_set1_epi32(kQ8Buckets - 1);
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(y + i);
    const __m256i b = _mm256_castps_si256(v);
    const __m256i e = _mm256_and_si256(_mm256_srli_epi32(b, 23), _mm256_set1_epi32(0xff));
    const __m256i fine = _mm256_or_si256(_mm256_slli_epi32(_mm256_sub_epi32(e, c103), kQ8MantissaBits),
                                         _mm256_and_si256(_mm256_srli_epi32(b, 23 - kQ8MantissaBits), _mm256_set1_epi32(0xff)));
    const __m256i low = _mm256_cmpgt_epi32(c103, e);
    __m256i bucket = _mm256_andnot_si256(low, _mm256_min_epu32(fine, last));
    bucket = _mm256_add_epi32(bucket, _mm256_and_si256(_mm256_srai_epi32(b, 31), _mm256_set1_epi32(kQ8Buckets)));
    __m256i code = _mm256_i32gather_epi32(map.start, bucket, 4);
    const __m256 thr = _mm256_i32gather_ps(map.threshold, bucket, 4);
    code = _mm256_sub_epi32(code, _mm256_castps_si256(_mm256_cmp_ps(v, thr, _CMP_GE_OQ)));  // true is -1
    code = _mm256_and_si256(code, _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_ORD_Q)));
    const __m256i bytes = _mm256_packus_epi16(_mm256_packus_epi32(code, code), _mm256_setzero_si256());
    const uint32_t lo = static_cast<uint32_t>(_mm256_cvtsi256_si32(bytes));
    const uint32_t hi = static_cast<uint32_t>(_mm256_extract_epi32(bytes, 4));
    memcpy(codes + i, &lo, 4);
    memcpy(codes + i + 4, &hi, 4);
  }
#endif
  for (; i < n; ++i) codes[i] = q8_code(map, y[i]);
}

// out[i] = map.values[codes[i]] * absmax for i < n.
inline void q8_values(const Quant8Map& map, const uint8_t* codes, float absmax, float* out, size_t n) {
  size_t i = 0;
#if defined(__AVX512F__)
  // The 256 values in 16 registers: a permute of two picks by the low 5 bits, bits 5-7 select.
  __m512 t[16];
  for (int q = 0; q < 16; ++q) t[q] = _mm512_loadu_ps(map.values + 16 * q);
  const __m512 a = _mm512_set1_ps(absmax);
  for (; i + 16 <= n; i += 16) {
    const __m512i c = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i)));
    const __mmask16 b5 = _mm512_test_epi32_mask(c, _mm512_set1_epi32(32));
    const __mmask16 b6 = _mm512_test_epi32_mask(c, _mm512_set1_epi32(64));
    __m512 r[4];
    for (int q = 0; q < 4; ++q)
      r[q] = _mm512_mask_mov_ps(_mm512_permutex2var_ps(t[4 * q], c, t[4 * q + 1]), b5, _mm512_permutex2var_ps(t[4 * q + 2], c, t[4 * q + 3]));
    const __m512 low = _mm512_mask_mov_ps(r[0], b6, r[1]), high = _mm512_mask_mov_ps(r[2], b6, r[3]);
    const __m512 v = _mm512_mask_mov_ps(low, _mm512_test_epi32_mask(c, _mm512_set1_epi32(128)), high);
    _mm512_storeu_ps(out + i, _mm512_mul_ps(v, a));
  }
#elif defined(__AVX2__)
  const __m256 a = _mm256_set1_ps(absmax);
  for (; i + 8 <= n; i += 8) {
    const __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + i)));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_i32gather_ps(map.values, c, 4), a));
  }
#endif
  for (; i < n; ++i) out[i] = map.values[codes[i]] * absmax;
}
