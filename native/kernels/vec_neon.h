// Four floats in a q register: AArch64 Advanced SIMD, part of every ARMv8-A CPU. Its vdivq_f32
// and vsqrtq_f32 are correctly rounded IEEE operations, so a lane gives the bits of VecScalar.
// max/min are compare-and-select, not vmaxq/vminq (those return NaN for a NaN in either operand;
// the contract is maxps's: the second operand whenever the comparison is false). Tails run
// VecScalar. Included inside namespace adam::neon (kernels_isa.inc).
struct VecNeon {
  using F = float32x4_t;
  static constexpr size_t kWidth = 4;
  static constexpr bool kMasked = false;
  static F load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, F x) { vst1q_f32(p, x); }
  static F set1(float x) { return vdupq_n_f32(x); }
  static F add(F a, F b) { return vaddq_f32(a, b); }
  static F sub(F a, F b) { return vsubq_f32(a, b); }
  static F mul(F a, F b) { return vmulq_f32(a, b); }
  static F div(F a, F b) { return vdivq_f32(a, b); }
  static F sqrt(F a) { return vsqrtq_f32(a); }
  static F max(F a, F b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
  static F abs(F a) { return vabsq_f32(a); }  // clears the sign bit only, NaN payload kept
  static F neg(F a) { return vnegq_f32(a); }  // flips the sign bit only
  static F min(F a, F b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
  // VecScalar::sign: ordered compares select +1 or -1 (both false for zeros and NaN); NaN lanes keep a.
  static F sign(F a) {
    const F zero = vdupq_n_f32(0.0f);
    const uint32x4_t pos = vandq_u32(vcgtq_f32(a, zero), vreinterpretq_u32_f32(vdupq_n_f32(1.0f)));
    const uint32x4_t neg = vandq_u32(vcltq_f32(a, zero), vreinterpretq_u32_f32(vdupq_n_f32(-1.0f)));
    const uint32x4_t nan = vbicq_u32(vreinterpretq_u32_f32(a), vceqq_f32(a, a));
    return vreinterpretq_f32_u32(vorrq_u32(vorrq_u32(pos, neg), nan));
  }

  using D = float64x2_t;
  static constexpr size_t kDWidth = 2;
  static D dzero() { return vdupq_n_f64(0.0); }
  static D load_d(const float* p) { return vcvt_f64_f32(vld1_f32(p)); }
  static D dadd(D a, D b) { return vaddq_f64(a, b); }
  static D dmul(D a, D b) { return vmulq_f64(a, b); }
  static void dstore(double* p, D x) { vst1q_f64(p, x); }
};
using VecMain = VecNeon;
