// Sixteen floats in a zmm register; tails use __mmask16. Included inside namespace adam::avx512.
struct VecAvx512 {
  using F = __m512;
  using Mask = __mmask16;
  static constexpr size_t kWidth = 16;
  static constexpr bool kMasked = true;
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F x) { _mm512_storeu_ps(p, x); }
  static Mask mask(size_t n) { return static_cast<Mask>((1u << n) - 1u); }  // n < 16
  static F load(const float* p, Mask k) { return _mm512_maskz_loadu_ps(k, p); }
  static void store(float* p, F x, Mask k) { _mm512_mask_storeu_ps(p, k, x); }
  static F set1(float x) { return _mm512_set1_ps(x); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F sqrt(F a) { return _mm512_sqrt_ps(a); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  // AVX512F has no float and/xor (that is AVX512DQ): go through the integer domain.
  static F abs(F a) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)));
  }
  static F neg(F a) {
    return _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(static_cast<int>(0x80000000u))));
  }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  // VecScalar::sign: +1 and -1 under ordered compare masks (zeros and NaN stay 0), then NaN lanes keep a.
  static F sign(F a) {
    const F zero = _mm512_setzero_ps();
    F r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, zero, _CMP_GT_OQ), _mm512_set1_ps(1.0f));
    r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(a, zero, _CMP_LT_OQ), _mm512_set1_ps(-1.0f));
    return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
  }

  using D = __m512d;
  static constexpr size_t kDWidth = 8;
  static D dzero() { return _mm512_setzero_pd(); }
  static D load_d(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
  static D dadd(D a, D b) { return _mm512_add_pd(a, b); }
  static D dmul(D a, D b) { return _mm512_mul_pd(a, b); }
  static void dstore(double* p, D x) { _mm512_storeu_pd(p, x); }
};
using VecMain = VecAvx512;
