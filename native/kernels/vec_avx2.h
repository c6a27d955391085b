// Eight floats in a ymm register; tails use maskload/maskstore. Included inside namespace adam::avx2.
struct VecAvx2 {
  using F = __m256;
  using Mask = __m256i;
  static constexpr size_t kWidth = 8;
  static constexpr bool kMasked = true;
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F x) { _mm256_storeu_ps(p, x); }
  static Mask mask(size_t n) {  // lanes [0, n) on, n < 8
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static F load(const float* p, Mask k) { return _mm256_maskload_ps(p, k); }
  static void store(float* p, F x, Mask k) { _mm256_maskstore_ps(p, k, x); }
  static F set1(float x) { return _mm256_set1_ps(x); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F sqrt(F a) { return _mm256_sqrt_ps(a); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F abs(F a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static F neg(F a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  // VecScalar::sign: ordered compares select +1 or -1 (both false for zeros and NaN); NaN lanes keep a.
  static F sign(F a) {
    const F zero = _mm256_setzero_ps();
    const F pos = _mm256_and_ps(_mm256_cmp_ps(a, zero, _CMP_GT_OQ), _mm256_set1_ps(1.0f));
    const F neg = _mm256_and_ps(_mm256_cmp_ps(a, zero, _CMP_LT_OQ), _mm256_set1_ps(-1.0f));
    return _mm256_or_ps(_mm256_or_ps(pos, neg), _mm256_and_ps(_mm256_cmp_ps(a, a, _CMP_UNORD_Q), a));
  }

  using D = __m256d;
  static constexpr size_t kDWidth = 4;
  static D dzero() { return _mm256_setzero_pd(); }
  static D load_d(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
  static D dadd(D a, D b) { return _mm256_add_pd(a, b); }
  static D dmul(D a, D b) { return _mm256_mul_pd(a, b); }
  static void dstore(double* p, D x) { _mm256_storeu_pd(p, x); }
};
using VecMain = VecAvx2;
