// Four floats in an xmm register; baseline x86-64. Tails run VecScalar (no masked loads in SSE2).
// Included inside namespace adam::sse2 (kernels_isa.inc).
struct VecSse2 {
  using F = __m128;
  static constexpr size_t kWidth = 4;
  static constexpr bool kMasked = false;
  static F load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, F x) { _mm_storeu_ps(p, x); }
  static F set1(float x) { return _mm_set1_ps(x); }
  static F add(F a, F b) { return _mm_add_ps(a, b); }
  static F sub(F a, F b) { return _mm_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm_mul_ps(a, b); }
  static F div(F a, F b) { return _mm_div_ps(a, b); }
  static F sqrt(F a) { return _mm_sqrt_ps(a); }
  static F max(F a, F b) { return _mm_max_ps(a, b); }
  static F abs(F a) { return _mm_andnot_ps(_mm_set1_ps(-0.0f), a); }
  static F neg(F a) { return _mm_xor_ps(a, _mm_set1_ps(-0.0f)); }
  static F min(F a, F b) { return _mm_min_ps(a, b); }
  // VecScalar::sign: ordered compares select +1 or -1 (both false for zeros and NaN); NaN lanes keep a.
  static F sign(F a) {
    const F zero = _mm_setzero_ps();
    const F pos = _mm_and_ps(_mm_cmpgt_ps(a, zero), _mm_set1_ps(1.0f));
    const F neg = _mm_and_ps(_mm_cmplt_ps(a, zero), _mm_set1_ps(-1.0f));
    return _mm_or_ps(_mm_or_ps(pos, neg), _mm_and_ps(_mm_cmpunord_ps(a, a), a));
  }

  using D = __m128d;
  static constexpr size_t kDWidth = 2;
  static D dzero() { return _mm_setzero_pd(); }
  static D load_d(const float* p) {  // two floats, through an aliasing-safe 64-bit load
    return _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static D dadd(D a, D b) { return _mm_add_pd(a, b); }
  static D dmul(D a, D b) { return _mm_mul_pd(a, b); }
  static void dstore(double* p, D x) { _mm_storeu_pd(p, x); }
};
using VecMain = VecSse2;
