// Every update rule, written once as a template over a vector-ops type V (vec_*.h).
// Included inside an ISA namespace (adam::sse2, adam::avx2, adam::avx512, adam::cuda) so each
// instantiation is compiled with that unit's flags only and can never be mixed by the linker.
//
// Each rule reads its tensor slots into x[] (param, grad, state...), updates them in registers,
// and the driver stores back the slots in kWrites. A rule reads and writes only the slots in
// required(flags); kFlags lists the option bits it tests (the driver compiles one loop for each
// combination of them). s[] holds the per-step scalars, computed once on the host in float64 and
// rounded to float32 once. Every operation is one IEEE float32 op in the order written; no FMA
// (-ffp-contract=off / --fmad=false). lib/rules/*.ts keeps the same order.
#ifndef ADAM_HD
#define ADAM_HD
#endif

// Adam (Kingma & Ba 2015, Algorithm 1) and AdamW (decoupled decay), PyTorch 1.13 formulas:
//   g  = maximize ? -grad : grad
//   AdamW: p = p * decay                  decay    = 1 - lr*weightDecay
//   L2:    g = g + weightDecay*p
//   m  = m*beta1 + g*(1-beta1)            first moment
//   v  = v*beta2 + (g*g)*(1-beta2)        uncentred second moment
//   amsgrad: vmax = max(vmax, v); v' = vmax, else v' = v
//   denom = sqrt(v')/sqrtBc2 + eps        sqrtBc2  = sqrt(1 - beta2^t)
//   p  = p - stepSize*(m/denom)           stepSize = lr/(1 - beta1^t)
struct AdamRule {
  enum Slot { kParam, kGrad, kExpAvg, kExpAvgSq, kMaxExpAvgSq, kSlots };
  enum Scalar { kBeta1, kOneMinusBeta1, kBeta2, kOneMinusBeta2, kEps, kWeightDecay, kStepSize, kSqrtBc2,
                kDecay, kScalars };
  static constexpr uint32_t kWrites = 1u << kParam | 1u << kExpAvg | 1u << kExpAvgSq | 1u << kMaxExpAvgSq;
  static constexpr uint32_t kFlags = kFlagMaximize | kFlagL2 | kFlagDecoupledDecay | kFlagAmsgrad;
  ADAM_HD static uint32_t required(uint32_t flags) {
    return 1u << kParam | 1u << kGrad | 1u << kExpAvg | 1u << kExpAvgSq |
           ((flags & kFlagAmsgrad) ? 1u << kMaxExpAvgSq : 0u);
  }

  template <class V>
  ADAM_HD static void update(const typename V::F* s, uint32_t flags, typename V::F* x) {
    using F = typename V::F;
    F p = x[kParam];
    F g = x[kGrad];
    if (flags & kFlagMaximize) g = V::neg(g);
    if (flags & kFlagDecoupledDecay) p = V::mul(p, s[kDecay]);
    if (flags & kFlagL2) g = V::add(g, V::mul(s[kWeightDecay], p));
    F m = V::add(V::mul(x[kExpAvg], s[kBeta1]), V::mul(g, s[kOneMinusBeta1]));
    F v = V::add(V::mul(x[kExpAvgSq], s[kBeta2]), V::mul(V::mul(g, g), s[kOneMinusBeta2]));
    F vd = v;
    if (flags & kFlagAmsgrad) {
      vd = V::max(x[kMaxExpAvgSq], v);
      x[kMaxExpAvgSq] = vd;
    }
    F denom = V::add(V::div(V::sqrt(vd), s[kSqrtBc2]), s[kEps]);
    x[kParam] = V::sub(p, V::mul(s[kStepSize], V::div(m, denom)));
    x[kExpAvg] = m;
    x[kExpAvgSq] = v;
  }
};

// AdaMax (Kingma & Ba 2015, Algorithm 2), PyTorch 1.13 formulas:
//   g = maximize ? -grad : grad;  L2: g = g + weightDecay*p
//   m = m*beta1 + g*(1-beta1)
//   u = max(u*beta2, |g| + eps)           infinity norm; no bias correction on u
//   p = p - stepSize*(m/u)                stepSize = lr/(1 - beta1^t)
struct AdamaxRule {
  enum Slot { kParam, kGrad, kExpAvg, kExpInf, kSlots };
  enum Scalar { kBeta1, kOneMinusBeta1, kBeta2, kEps, kWeightDecay, kStepSize, kScalars };
  static constexpr uint32_t kWrites = 1u << kParam | 1u << kExpAvg | 1u << kExpInf;
  static constexpr uint32_t kFlags = kFlagMaximize | kFlagL2;
  ADAM_HD static uint32_t required(uint32_t) { return (1u << kSlots) - 1u; }

  template <class V>
  ADAM_HD static void update(const typename V::F* s, uint32_t flags, typename V::F* x) {
    using F = typename V::F;
    F p = x[kParam];
    F g = x[kGrad];
    if (flags & kFlagMaximize) g = V::neg(g);
    if (flags & kFlagL2) g = V::add(g, V::mul(s[kWeightDecay], p));
    F m = V::add(V::mul(x[kExpAvg], s[kBeta1]), V::mul(g, s[kOneMinusBeta1]));
    F u = V::max(V::mul(x[kExpInf], s[kBeta2]), V::add(V::abs(g), s[kEps]));
    x[kParam] = V::sub(p, V::mul(s[kStepSize], V::div(m, u)));
    x[kExpAvg] = m;
    x[kExpInf] = u;
  }
};
