// The 8-bit loops of convert.h on AVX2 (gathers from the map's tables) and AVX-512 (permutes:
// gathers are slow on some AVX-512 cores, ~20 cycles each on Zen 4), chosen by the
// unit's own compile flags. The gathers do q8_code's and q8_widen's operations lane by lane; the
// AVX-512 search counts the same midpoints q8_code counts (kernel_api.h above), so the codes are
// the scalar code's. Other units (and tails) use the scalar functions.
// Included inside an ISA namespace after convert.h; the intrinsics headers come with the unit.

// codes[i] = q8_code(map, y[i]) for i < n.
inline void q8_codes(const Quant8Map& map, const float* y, uint8_t* codes, size_t n) {
  size_t i = 0;
#if defined(__AVX512F__)
  // Binary search over the 255 midpoints (map.above, kernel_api.h), table look-ups by permutes:
  // code = how many midpoints lie below y, and NaN, above none, gives 0 as q8_code does.
  const float* t = map.above;
  const __m512 t1 = _mm512_set1_ps(t[1]), t2to15 = _mm512_load_ps(t), t16 = _mm512_load_ps(t + 16);
  const __m512 t32a = _mm512_load_ps(t + 32), t32b = _mm512_load_ps(t + 48);
  __m512 t64[4], t128[8];
  for (int q = 0; q < 4; ++q) t64[q] = _mm512_load_ps(t + 64 + 16 * q);
  for (int q = 0; q < 8; ++q) t128[q] = _mm512_load_ps(t + 128 + 16 * q);
  const __m512i bit5 = _mm512_set1_epi32(32), bit6 = _mm512_set1_epi32(64);
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(y + i);
    // Step s moves p up by s where v >= the node at 128/s + p/(2s).
    auto step = [&](__m512i p, __m512 node, int s) {
      return _mm512_mask_add_epi32(p, _mm512_cmp_ps_mask(v, node, _CMP_GE_OQ), p, _mm512_set1_epi32(s));
    };
    __m512i p = _mm512_maskz_mov_epi32(_mm512_cmp_ps_mask(v, t1, _CMP_GE_OQ), _mm512_set1_epi32(128));
    p = step(p, _mm512_permutexvar_ps(_mm512_add_epi32(_mm512_srli_epi32(p, 7), _mm512_set1_epi32(2)), t2to15), 64);
    p = step(p, _mm512_permutexvar_ps(_mm512_add_epi32(_mm512_srli_epi32(p, 6), _mm512_set1_epi32(4)), t2to15), 32);
    p = step(p, _mm512_permutexvar_ps(_mm512_add_epi32(_mm512_srli_epi32(p, 5), _mm512_set1_epi32(8)), t2to15), 16);
    p = step(p, _mm512_permutexvar_ps(_mm512_srli_epi32(p, 4), t16), 8);
    p = step(p, _mm512_permutex2var_ps(t32a, _mm512_srli_epi32(p, 3), t32b), 4);
    __m512i h = _mm512_srli_epi32(p, 2);  // 0..63: bit 5 picks the pair of tables
    __mmask16 hi5 = _mm512_test_epi32_mask(h, bit5);
    p = step(p, _mm512_mask_mov_ps(_mm512_permutex2var_ps(t64[0], h, t64[1]), hi5, _mm512_permutex2var_ps(t64[2], h, t64[3])), 2);
    h = _mm512_srli_epi32(p, 1);  // 0..127
    hi5 = _mm512_test_epi32_mask(h, bit5);
    const __m512 low = _mm512_mask_mov_ps(_mm512_permutex2var_ps(t128[0], h, t128[1]), hi5, _mm512_permutex2var_ps(t128[2], h, t128[3]));
    const __m512 high = _mm512_mask_mov_ps(_mm512_permutex2var_ps(t128[4], h, t128[5]), hi5, _mm512_permutex2var_ps(t128[6], h, t128[7]));
    p = step(p, _mm512_mask_mov_ps(low, _mm512_test_epi32_mask(h, bit6), high), 1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i), _mm512_cvtepi32_epi8(p));
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
