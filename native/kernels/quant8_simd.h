// The 8-bit loops of convert.h on AVX2 / AVX-512 (gathers from the map's tables), chosen by the
// unit's own compile flags; the same operations as q8_code and q8_widen lane by lane, so the bits
// are those of the scalar code. Other units (and tails) use the scalar functions.
// Included inside an ISA namespace after convert.h; the intrinsics headers come with the unit.

// codes[i] = q8_code(map, y[i]) for i < n.
inline void q8_codes(const Quant8Map& map, const float* y, uint8_t* codes, size_t n) {
  size_t i = 0;
#if defined(__AVX512F__)
  const __m512i c103 = _mm512_set1_epi32(103), last = _mm512_set1_epi32(kQ8Buckets - 1);
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(y + i);
    const __m512i b = _mm512_castps_si512(v);
    const __m512i e = _mm512_and_si512(_mm512_srli_epi32(b, 23), _mm512_set1_epi32(0xff));
    const __m512i fine = _mm512_or_si512(_mm512_slli_epi32(_mm512_sub_epi32(e, c103), kQ8MantissaBits),
                                         _mm512_and_si512(_mm512_srli_epi32(b, 23 - kQ8MantissaBits), _mm512_set1_epi32(0xff)));
    const __mmask16 low = _mm512_cmplt_epi32_mask(e, c103);
    __m512i bucket = _mm512_maskz_mov_epi32(static_cast<__mmask16>(~low), _mm512_min_epu32(fine, last));
    bucket = _mm512_add_epi32(bucket, _mm512_and_si512(_mm512_srai_epi32(b, 31), _mm512_set1_epi32(kQ8Buckets)));
    __m512i code = _mm512_i32gather_epi32(bucket, map.start, 4);
    const __m512 thr = _mm512_i32gather_ps(bucket, map.threshold, 4);
    code = _mm512_mask_add_epi32(code, _mm512_cmp_ps_mask(v, thr, _CMP_GE_OQ), code, _mm512_set1_epi32(1));
    code = _mm512_maskz_mov_epi32(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), code);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i), _mm512_cvtepi32_epi8(code));
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
  const __m512 a = _mm512_set1_ps(absmax);
  for (; i + 16 <= n; i += 16) {
    const __m512i c = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i)));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_i32gather_ps(c, map.values, 4), a));
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
