// The 8-bit loops of convert.h on AVX2 and AVX-512, chosen by the unit's own compile flags. No
// gathers: they are slow on Zen 4 (~20 cycles each) and on Intel cores with the GDS ("Downfall")
// microcode mitigation. The codes come from the region arithmetic (kernel_api.h), exact wherever
// it is trusted: quant8.cc checks its error bounds when it builds the tables, and bench/quant8
// (--exhaustive) compares every float32 in [-1, 1] and NaNs with the definition, and the values
// of every code. Other units (and tails) use the scalar functions.
// Included inside an ISA namespace after convert.h; the intrinsics headers come with the unit.

// codes[i] = q8_code(map, y[i]) for i < n, each y in [-1, 1] or NaN (what q8_narrow divides out).
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
  // The same arithmetic on 8 lanes, the tables in registers of 8: regions 0..7 (quant8.cc allows
  // no more), and the octaves by pairs (exponent fields 96 + 2p and 97 + 2p; quant8.cc checks
  // that no pair holds two special midpoints), 16 pairs in two registers. A pair's entry packs
  // the region of its values below the threshold (bits 25..31) and the threshold's distance in
  // float32 steps from the pair's start, less one (bits 0..24; 2^25 - 1 for none), so one
  // permute finds both, and integer compares with |y|'s own distance decide `up` and `special`.
  __m256i pair[2];
  {
    const __m256i start = _mm256_slli_epi32(_mm256_setr_epi32(96, 98, 100, 102, 104, 106, 108, 110), 23);
    for (int h = 0; h < 2; ++h) {
      // Octaves 16h..16h+15: each pair's threshold is the finite one of its two, its region the
      // first one's; the even lanes, in order.
      __m256 thr[2], reg[2];
      for (int q = 0; q < 2; ++q) {
        const __m256 t = _mm256_load_ps(map.octave_threshold + 16 * h + 8 * q);
        thr[q] = _mm256_min_ps(t, _mm256_permute_ps(t, 0xb1));
        reg[q] = _mm256_load_ps(reinterpret_cast<const float*>(map.octave_region + 16 * h + 8 * q));
      }
      const __m256i t = _mm256_permute4x64_epi64(_mm256_castps_si256(_mm256_shuffle_ps(thr[0], thr[1], 0x88)), 0xd8);
      const __m256i r = _mm256_permute4x64_epi64(_mm256_castps_si256(_mm256_shuffle_ps(reg[0], reg[1], 0x88)), 0xd8);
      const __m256i from = _mm256_add_epi32(start, _mm256_set1_epi32((16 * h) << 23));
      const __m256i dist = _mm256_sub_epi32(_mm256_sub_epi32(t, from), _mm256_set1_epi32(1));  // +Inf: far above 2^25
      pair[h] = _mm256_or_si256(_mm256_slli_epi32(r, 25), _mm256_min_epu32(dist, _mm256_set1_epi32(0x1ffffff)));
    }
  }
  const __m256 scale = _mm256_load_ps(map.region_scale), offset = _mm256_load_ps(map.region_offset);
  const __m256 cap = _mm256_load_ps(map.region_cap);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256i zero = _mm256_set1_epi32(static_cast<int>(map.zero)), low25 = _mm256_set1_epi32(0x1ffffff);
  const __m256i tiny = _mm256_set1_epi32(96 << 23), pair_bits = _mm256_set1_epi32(0x7f000000);
  const __m256 half = _mm256_set1_ps(0.5f), far = _mm256_set1_ps(0.5f - kQ8Margin);
  // Codes of 8 lanes (int32, below 0 for 0: the saturating packs clamp them) and the lanes that
  // take q8_code (sign bits).
  auto lanes = [&](const float* p, __m256& retry) {
    const __m256 v = _mm256_loadu_ps(p);
    const __m256 a = _mm256_and_ps(v, abs_mask);
    const __m256i ab = _mm256_castps_si256(a), eb = _mm256_max_epi32(ab, tiny);  // below 2^-31 as 2^-31
    const __m256i p2 = _mm256_srli_epi32(eb, 24);  // 48 + the pair, 48..63 (NaN: 127, its t is NaN)
    const __m256i w = _mm256_castps_si256(_mm256_blendv_ps(_mm256_permutevar8x32_ps(_mm256_castsi256_ps(pair[0]), p2),
                                                           _mm256_permutevar8x32_ps(_mm256_castsi256_ps(pair[1]), p2),
                                                           _mm256_castsi256_ps(_mm256_slli_epi32(eb, 4))));  // bit 3 of the pair
    const __m256i dist = _mm256_sub_epi32(ab, _mm256_and_si256(eb, pair_bits));  // below 2^-31: negative
    const __m256i before = _mm256_and_si256(w, low25);
    const __m256i r = _mm256_sub_epi32(_mm256_srli_epi32(w, 25), _mm256_cmpgt_epi32(dist, before));
    const __m256i special = _mm256_cmpeq_epi32(dist, before);
    __m256 t = _mm256_add_ps(_mm256_mul_ps(a, _mm256_permutevar8x32_ps(scale, r)), _mm256_permutevar8x32_ps(offset, r));
    t = _mm256_min_ps(_mm256_permutevar8x32_ps(cap, r), t);  // NaN t stays NaN
    const __m256i cnt = _mm256_cvttps_epi32(t);  // t >= 0: floor
    const __m256 frac = _mm256_and_ps(_mm256_sub_ps(_mm256_sub_ps(t, _mm256_cvtepi32_ps(cnt)), half), abs_mask);
    retry = _mm256_or_ps(_mm256_cmp_ps(frac, far, _CMP_NLT_UQ), _mm256_and_ps(_mm256_castsi256_ps(special), v));
    return _mm256_add_epi32(zero, _mm256_sign_epi32(cnt, _mm256_castps_si256(v)));
  };
  for (; i + 32 <= n; i += 32) {
    __m256 k0, k1, k2, k3;
    const __m256i c0 = lanes(y + i, k0), c1 = lanes(y + i + 8, k1), c2 = lanes(y + i + 16, k2), c3 = lanes(y + i + 24, k3);
    // The saturating packs keep 0..255 and clamp below 0; the permute undoes the packs' lane interleave.
    const __m256i bytes = _mm256_packus_epi16(_mm256_packus_epi32(c0, c1), _mm256_packus_epi32(c2, c3));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + i), _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    const uint32_t retry = static_cast<uint32_t>(_mm256_movemask_ps(k0)) | static_cast<uint32_t>(_mm256_movemask_ps(k1)) << 8 |
                           static_cast<uint32_t>(_mm256_movemask_ps(k2)) << 16 | static_cast<uint32_t>(_mm256_movemask_ps(k3)) << 24;
    for (uint32_t m = retry; m != 0; m &= m - 1) {
      const size_t k = i + static_cast<size_t>(__builtin_ctz(m));
      codes[k] = q8_code(map, y[k]);
    }
  }
  for (; i + 8 <= n; i += 8) {
    __m256 k8;
    const __m256i c = lanes(y + i, k8);
    const __m256i bytes = _mm256_packus_epi16(_mm256_packus_epi32(c, c), _mm256_setzero_si256());
    const uint32_t lo = static_cast<uint32_t>(_mm256_cvtsi256_si32(bytes)), hi = static_cast<uint32_t>(_mm256_extract_epi32(bytes, 4));
    memcpy(codes + i, &lo, 4);
    memcpy(codes + i + 4, &hi, 4);
    for (uint32_t m = static_cast<uint32_t>(_mm256_movemask_ps(k8)); m != 0; m &= m - 1) {
      const size_t k = i + static_cast<size_t>(__builtin_ctz(m));
      codes[k] = q8_code(map, y[k]);
    }
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
  // Eight scalar loads put together by inserts: 2.5x faster than a gather on Zen 4.
  const __m256 a = _mm256_set1_ps(absmax);
  const float* t = map.values;
  for (; i + 8 <= n; i += 8) {
    uint64_t c;
    memcpy(&c, codes + i, 8);
    const __m128 lo = _mm_setr_ps(t[c & 255], t[(c >> 8) & 255], t[(c >> 16) & 255], t[(c >> 24) & 255]);
    const __m128 hi = _mm_setr_ps(t[(c >> 32) & 255], t[(c >> 40) & 255], t[(c >> 48) & 255], t[c >> 56]);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_set_m128(hi, lo), a));
  }
#endif
  for (; i < n; ++i) out[i] = map.values[codes[i]] * absmax;
}
