// Every update rule, written once as a template over a vector-ops type V (vec_*.h).
// Included inside an ISA namespace (adam::sse2, adam::avx2, adam::avx512, adam::cuda) so each
// instantiation is compiled with that unit's flags only and can never be mixed by the linker.
//
// Each rule reads its tensor slots into x[] (param, grad, state...), updates them in registers,
// and the driver stores back the slots in kWrites. A rule reads and writes only the slots in
// required(flags); kFlags lists the option bits worth a loop of their own (the CPU driver compiles
// one per combination of them; the rest, like gradScale, stay run-time tests). s[] holds the
// per-step scalars, computed once on the host in float64 and rounded to float32 once. Every
// operation is one IEEE float32 op in the order written; no FMA (-ffp-contract=off /
// --fmad=false). lib/rules/*.ts keeps the same order.
#ifndef ADAM_HD
#define ADAM_HD
#endif

// A rule's slots and scalars, each named once: X(enumerator, "name"). ADAM_RULE_NAMES makes the
// Slot and Scalar enums and kSlotNames/kScalarNames from them; the addon exports the names and
// lib/rules/<rule>.ts declares the same names in the same order (checked when the addon loads).
#define ADAM_NAME_ENUM(id, name) id,
#define ADAM_NAME_STRING(id, name) name,
#define ADAM_RULE_NAMES(SLOTS, SCALARS)                                            \
  enum Slot : int { SLOTS(ADAM_NAME_ENUM) kSlots };                                \
  enum Scalar : int { SCALARS(ADAM_NAME_ENUM) kScalars };                          \
  static constexpr const char* kSlotNames[kSlots] = {SLOTS(ADAM_NAME_STRING)};     \
  static constexpr const char* kScalarNames[kScalars] = {SCALARS(ADAM_NAME_STRING)};

// The gradient every rule steps with, written once (lib/rules/grad.ts mirrors it):
//   gradScale: g = grad/gradScale       loss scaling; an IEEE division, never a reciprocal multiply
//   maximize:  g = -g
//   L2:        g = g + weightDecay*p    coupled weight decay (PyTorch's weight_decay)
template <class V>
ADAM_HD inline typename V::F effective_grad(uint32_t flags, typename V::F grad, typename V::F p,
                                            typename V::F grad_scale, typename V::F weight_decay) {
  typename V::F g = grad;
  if (flags & kFlagGradScale) g = V::div(g, grad_scale);
  if (flags & kFlagMaximize) g = V::neg(g);
  if (flags & kFlagL2) g = V::add(g, V::mul(weight_decay, p));
  return g;
}

// Adam (Kingma & Ba 2015, Algorithm 1) and AdamW (decoupled decay), in the paper's efficient
// ordering (the note after Algorithm 1): the bias corrections fold into two host scalars, so an
// element costs one sqrt and one division. Equal to PyTorch 1.13's formula up to float32 rounding.
//   AdamW: p = p * decay                  decay    = 1 - lr*weightDecay
//   g  = effective_grad(grad, p)          (L2 only without AdamW)
//   m  = m*beta1 + g*(1-beta1)            first moment
//   v  = v*beta2 + (g*g)*(1-beta2)        uncentred second moment
//   amsgrad: vmax = max(vmax, v); v' = vmax, else v' = v
//   denom = sqrt(v') + epsHat             epsHat   = eps*sqrt(1 - beta2^t)
//   p  = p - stepSize*(m/denom)           stepSize = lr*sqrt(1 - beta2^t)/(1 - beta1^t)
struct AdamRule {
#define ADAM_SLOTS(X) X(kParam, "param") X(kGrad, "grad") X(kExpAvg, "exp_avg") X(kExpAvgSq, "exp_avg_sq") \
  X(kMaxExpAvgSq, "max_exp_avg_sq")
#define ADAM_SCALARS(X)                                                                                \
  X(kBeta1, "beta1") X(kOneMinusBeta1, "oneMinusBeta1") X(kBeta2, "beta2") X(kOneMinusBeta2, "oneMinusBeta2") \
  X(kWeightDecay, "weightDecay") X(kStepSize, "stepSize") X(kEpsHat, "epsHat") X(kDecay, "decay")        \
  X(kGradScale, "gradScale")
  ADAM_RULE_NAMES(ADAM_SLOTS, ADAM_SCALARS)
#undef ADAM_SLOTS
#undef ADAM_SCALARS
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
    if (flags & kFlagDecoupledDecay) p = V::mul(p, s[kDecay]);
    F g = effective_grad<V>(flags, x[kGrad], p, s[kGradScale], s[kWeightDecay]);
    F m = V::add(V::mul(x[kExpAvg], s[kBeta1]), V::mul(g, s[kOneMinusBeta1]));
    F v = V::add(V::mul(x[kExpAvgSq], s[kBeta2]), V::mul(V::mul(g, g), s[kOneMinusBeta2]));
    F vd = v;
    if (flags & kFlagAmsgrad) {
      vd = V::max(x[kMaxExpAvgSq], v);
      x[kMaxExpAvgSq] = vd;
    }
    F denom = V::add(V::sqrt(vd), s[kEpsHat]);
    x[kParam] = V::sub(p, V::mul(s[kStepSize], V::div(m, denom)));
    x[kExpAvg] = m;
    x[kExpAvgSq] = v;
  }
};

// AdaMax (Kingma & Ba 2015, Algorithm 2), PyTorch 1.13 formulas:
//   g = effective_grad(grad, p)
//   m = m*beta1 + g*(1-beta1)
//   u = max(u*beta2, |g| + eps)           infinity norm; no bias correction on u
//   p = p - stepSize*(m/u)                stepSize = lr/(1 - beta1^t)
struct AdamaxRule {
#define ADAMAX_SLOTS(X) X(kParam, "param") X(kGrad, "grad") X(kExpAvg, "exp_avg") X(kExpInf, "exp_inf")
#define ADAMAX_SCALARS(X)                                                                  \
  X(kBeta1, "beta1") X(kOneMinusBeta1, "oneMinusBeta1") X(kBeta2, "beta2") X(kEps, "eps") \
  X(kWeightDecay, "weightDecay") X(kStepSize, "stepSize") X(kGradScale, "gradScale")
  ADAM_RULE_NAMES(ADAMAX_SLOTS, ADAMAX_SCALARS)
#undef ADAMAX_SLOTS
#undef ADAMAX_SCALARS
  static constexpr uint32_t kWrites = 1u << kParam | 1u << kExpAvg | 1u << kExpInf;
  static constexpr uint32_t kFlags = kFlagMaximize | kFlagL2;
  ADAM_HD static uint32_t required(uint32_t) { return (1u << kSlots) - 1u; }

  template <class V>
  ADAM_HD static void update(const typename V::F* s, uint32_t flags, typename V::F* x) {
    using F = typename V::F;
    F p = x[kParam];
    F g = effective_grad<V>(flags, x[kGrad], p, s[kGradScale], s[kWeightDecay]);
    F m = V::add(V::mul(x[kExpAvg], s[kBeta1]), V::mul(g, s[kOneMinusBeta1]));
    F u = V::max(V::mul(x[kExpInf], s[kBeta2]), V::add(V::abs(g), s[kEps]));
    x[kParam] = V::sub(p, V::mul(s[kStepSize], V::div(m, u)));
    x[kExpAvg] = m;
    x[kExpInf] = u;
  }
};

// SGD with momentum and Nesterov momentum (Sutskever et al. 2013), PyTorch 1.13 formulas:
//   g = effective_grad(grad, p)
//   momentum: buf = g on the first step (kFlagFirstStep), else buf = buf*momentum + g*(1-dampening)
//             nesterov: g = g + buf*momentum, else g = buf
//   p = p - lr*g
struct SgdRule {
#define SGD_SLOTS(X) X(kParam, "param") X(kGrad, "grad") X(kMomentumBuffer, "momentum_buffer")
#define SGD_SCALARS(X)                                                                      \
  X(kLr, "lr") X(kMomentum, "momentum") X(kOneMinusDampening, "oneMinusDampening")          \
  X(kWeightDecay, "weightDecay") X(kGradScale, "gradScale")
  ADAM_RULE_NAMES(SGD_SLOTS, SGD_SCALARS)
#undef SGD_SLOTS
#undef SGD_SCALARS
  static constexpr uint32_t kWrites = 1u << kParam | 1u << kMomentumBuffer;
  static constexpr uint32_t kFlags = kFlagMaximize | kFlagL2 | kFlagMomentum | kFlagNesterov | kFlagFirstStep;
  ADAM_HD static uint32_t required(uint32_t flags) {
    return 1u << kParam | 1u << kGrad | ((flags & kFlagMomentum) ? 1u << kMomentumBuffer : 0u);
  }

  template <class V>
  ADAM_HD static void update(const typename V::F* s, uint32_t flags, typename V::F* x) {
    using F = typename V::F;
    F p = x[kParam];
    F g = effective_grad<V>(flags, x[kGrad], p, s[kGradScale], s[kWeightDecay]);
    if (flags & kFlagMomentum) {
      F buf = (flags & kFlagFirstStep)
                  ? g
                  : V::add(V::mul(x[kMomentumBuffer], s[kMomentum]), V::mul(g, s[kOneMinusDampening]));
      g = (flags & kFlagNesterov) ? V::add(g, V::mul(buf, s[kMomentum])) : buf;
      x[kMomentumBuffer] = buf;
    }
    x[kParam] = V::sub(p, V::mul(s[kLr], g));
  }
};

// AdaGrad (Duchi et al. 2011), PyTorch 1.13 formulas:
//   g = effective_grad(grad, p)
//   sum = sum + g*g                       (sum starts at initialAccumulatorValue)
//   p = p - clr*(g/(sqrt(sum) + eps))     clr = lr/(1 + (t-1)*lrDecay)
struct AdagradRule {
#define ADAGRAD_SLOTS(X) X(kParam, "param") X(kGrad, "grad") X(kSum, "sum")
#define ADAGRAD_SCALARS(X) X(kClr, "clr") X(kEps, "eps") X(kWeightDecay, "weightDecay") X(kGradScale, "gradScale")
  ADAM_RULE_NAMES(ADAGRAD_SLOTS, ADAGRAD_SCALARS)
#undef ADAGRAD_SLOTS
#undef ADAGRAD_SCALARS
  static constexpr uint32_t kWrites = 1u << kParam | 1u << kSum;
  static constexpr uint32_t kFlags = kFlagMaximize | kFlagL2;
  ADAM_HD static uint32_t required(uint32_t) { return (1u << kSlots) - 1u; }

  template <class V>
  ADAM_HD static void update(const typename V::F* s, uint32_t flags, typename V::F* x) {
    using F = typename V::F;
    F p = x[kParam];
    F g = effective_grad<V>(flags, x[kGrad], p, s[kGradScale], s[kWeightDecay]);
    F sum = V::add(x[kSum], V::mul(g, g));
    F denom = V::add(V::sqrt(sum), s[kEps]);
    x[kParam] = V::sub(p, V::mul(s[kClr], V::div(g, denom)));
    x[kSum] = sum;
  }
};

// RMSProp (Tieleman & Hinton 2012; centred form of Graves 2013), PyTorch 1.13 formulas:
//   g  = effective_grad(grad, p)
//   sq = sq*rho + (g*g)*(1-rho)           rho is PyTorch's alpha
//   centered: ga = ga*rho + g*(1-rho); avg = sqrt(sq - ga*ga) + eps, else avg = sqrt(sq) + eps
//   momentum: buf = buf*momentum + g/avg; p = p - lr*buf, else p = p - lr*(g/avg)
struct RmspropRule {
#define RMSPROP_SLOTS(X) \
  X(kParam, "param") X(kGrad, "grad") X(kSquareAvg, "square_avg") X(kMomentumBuffer, "momentum_buffer") X(kGradAvg, "grad_avg")
#define RMSPROP_SCALARS(X)                                                                        \
  X(kLr, "lr") X(kRho, "rho") X(kOneMinusRho, "oneMinusRho") X(kEps, "eps") X(kMomentum, "momentum") \
  X(kWeightDecay, "weightDecay") X(kGradScale, "gradScale")
  ADAM_RULE_NAMES(RMSPROP_SLOTS, RMSPROP_SCALARS)
#undef RMSPROP_SLOTS
#undef RMSPROP_SCALARS
  static constexpr uint32_t kWrites = 1u << kParam | 1u << kSquareAvg | 1u << kMomentumBuffer | 1u << kGradAvg;
  static constexpr uint32_t kFlags = kFlagMaximize | kFlagL2 | kFlagMomentum | kFlagCentered;
  ADAM_HD static uint32_t required(uint32_t flags) {
    return 1u << kParam | 1u << kGrad | 1u << kSquareAvg | ((flags & kFlagMomentum) ? 1u << kMomentumBuffer : 0u) |
           ((flags & kFlagCentered) ? 1u << kGradAvg : 0u);
  }

  template <class V>
  ADAM_HD static void update(const typename V::F* s, uint32_t flags, typename V::F* x) {
    using F = typename V::F;
    F p = x[kParam];
    F g = effective_grad<V>(flags, x[kGrad], p, s[kGradScale], s[kWeightDecay]);
    F sq = V::add(V::mul(x[kSquareAvg], s[kRho]), V::mul(V::mul(g, g), s[kOneMinusRho]));
    F var = sq;
    if (flags & kFlagCentered) {
      F ga = V::add(V::mul(x[kGradAvg], s[kRho]), V::mul(g, s[kOneMinusRho]));
      var = V::sub(sq, V::mul(ga, ga));
      x[kGradAvg] = ga;
    }
    F avg = V::add(V::sqrt(var), s[kEps]);
    F step = V::div(g, avg);
    if (flags & kFlagMomentum) {
      step = V::add(V::mul(x[kMomentumBuffer], s[kMomentum]), step);
      x[kMomentumBuffer] = step;
    }
    x[kParam] = V::sub(p, V::mul(s[kLr], step));
    x[kSquareAvg] = sq;
  }
};

// Adadelta (Zeiler 2012), PyTorch 1.13 formulas:
//   g     = effective_grad(grad, p)
//   sq    = sq*rho + (g*g)*(1-rho)
//   std   = sqrt(sq + eps)
//   delta = (sqrt(acc + eps)/std)*g
//   acc   = acc*rho + (delta*delta)*(1-rho)
//   p     = p - lr*delta
struct AdadeltaRule {
#define ADADELTA_SLOTS(X) X(kParam, "param") X(kGrad, "grad") X(kSquareAvg, "square_avg") X(kAccDelta, "acc_delta")
#define ADADELTA_SCALARS(X)                                                                           \
  X(kLr, "lr") X(kRho, "rho") X(kOneMinusRho, "oneMinusRho") X(kEps, "eps") X(kWeightDecay, "weightDecay") \
  X(kGradScale, "gradScale")
  ADAM_RULE_NAMES(ADADELTA_SLOTS, ADADELTA_SCALARS)
#undef ADADELTA_SLOTS
#undef ADADELTA_SCALARS
  static constexpr uint32_t kWrites = 1u << kParam | 1u << kSquareAvg | 1u << kAccDelta;
  static constexpr uint32_t kFlags = kFlagMaximize | kFlagL2;
  ADAM_HD static uint32_t required(uint32_t) { return (1u << kSlots) - 1u; }

  template <class V>
  ADAM_HD static void update(const typename V::F* s, uint32_t flags, typename V::F* x) {
    using F = typename V::F;
    F p = x[kParam];
    F g = effective_grad<V>(flags, x[kGrad], p, s[kGradScale], s[kWeightDecay]);
    F sq = V::add(V::mul(x[kSquareAvg], s[kRho]), V::mul(V::mul(g, g), s[kOneMinusRho]));
    F std = V::sqrt(V::add(sq, s[kEps]));
    F delta = V::mul(V::div(V::sqrt(V::add(x[kAccDelta], s[kEps])), std), g);
    x[kAccDelta] = V::add(V::mul(x[kAccDelta], s[kRho]), V::mul(V::mul(delta, delta), s[kOneMinusRho]));
    x[kParam] = V::sub(p, V::mul(s[kLr], delta));
    x[kSquareAvg] = sq;
  }
};

// NAdam (Dozat 2016), PyTorch 1.13 formulas, with Adam's bias correction of v folded into host
// scalars as above (one sqrt, one division per element):
//   g = effective_grad(grad, p)
//   m = m*beta1 + g*(1-beta1);  v = v*beta2 + (g*g)*(1-beta2)
//   denom = sqrt(v) + epsHat                          epsHat     = eps*sqrt(1 - beta2^t)
//   p = p - (g*gradCoef + m*expAvgCoef)/denom         gradCoef   = lr*(1 - mu_t)/(1 - prod_t)*sqrt(1 - beta2^t)
//                                                     expAvgCoef = lr*mu_{t+1}/(1 - prod_t*mu_{t+1})*sqrt(1 - beta2^t)
// mu_t = beta1*(1 - 0.5*0.96^(t*momentumDecay)); prod_t = mu_1*...*mu_t, a running product the
// host keeps in float64 (lib/rules/nadam.ts).
struct NadamRule {
#define NADAM_SLOTS(X) X(kParam, "param") X(kGrad, "grad") X(kExpAvg, "exp_avg") X(kExpAvgSq, "exp_avg_sq")
#define NADAM_SCALARS(X)                                                                                        \
  X(kBeta1, "beta1") X(kOneMinusBeta1, "oneMinusBeta1") X(kBeta2, "beta2") X(kOneMinusBeta2, "oneMinusBeta2") \
  X(kWeightDecay, "weightDecay") X(kGradCoef, "gradCoef") X(kExpAvgCoef, "expAvgCoef") X(kEpsHat, "epsHat")   \
  X(kGradScale, "gradScale")
  ADAM_RULE_NAMES(NADAM_SLOTS, NADAM_SCALARS)
#undef NADAM_SLOTS
#undef NADAM_SCALARS
  static constexpr uint32_t kWrites = 1u << kParam | 1u << kExpAvg | 1u << kExpAvgSq;
  static constexpr uint32_t kFlags = kFlagMaximize | kFlagL2;
  ADAM_HD static uint32_t required(uint32_t) { return (1u << kSlots) - 1u; }

  template <class V>
  ADAM_HD static void update(const typename V::F* s, uint32_t flags, typename V::F* x) {
    using F = typename V::F;
    F p = x[kParam];
    F g = effective_grad<V>(flags, x[kGrad], p, s[kGradScale], s[kWeightDecay]);
    F m = V::add(V::mul(x[kExpAvg], s[kBeta1]), V::mul(g, s[kOneMinusBeta1]));
    F v = V::add(V::mul(x[kExpAvgSq], s[kBeta2]), V::mul(V::mul(g, g), s[kOneMinusBeta2]));
    F denom = V::add(V::sqrt(v), s[kEpsHat]);
    F num = V::add(V::mul(g, s[kGradCoef]), V::mul(m, s[kExpAvgCoef]));
    x[kParam] = V::sub(p, V::div(num, denom));
    x[kExpAvg] = m;
    x[kExpAvgSq] = v;
  }
};

// RAdam (Liu et al. 2020), PyTorch 1.13 formulas:
//   g = effective_grad(grad, p)
//   m = m*beta1 + g*(1-beta1);  v = v*beta2 + (g*g)*(1-beta2)
//   rectified (rho_t > 5): p = p - stepSize*(m/(sqrt(v) + eps))   stepSize = lr*r_t*sqrt(1 - beta2^t)/(1 - beta1^t)
//   else:                  p = p - stepSize*m                      stepSize = lr/(1 - beta1^t)
// rho_inf = 2/(1-beta2) - 1, rho_t = rho_inf - 2t*beta2^t/(1 - beta2^t) and the rectification
// r_t = sqrt((rho_t-4)(rho_t-2)rho_inf/((rho_inf-4)(rho_inf-2)rho_t)), all on the host in float64.
struct RadamRule {
#define RADAM_SLOTS(X) X(kParam, "param") X(kGrad, "grad") X(kExpAvg, "exp_avg") X(kExpAvgSq, "exp_avg_sq")
#define RADAM_SCALARS(X)                                                                                        \
  X(kBeta1, "beta1") X(kOneMinusBeta1, "oneMinusBeta1") X(kBeta2, "beta2") X(kOneMinusBeta2, "oneMinusBeta2") \
  X(kWeightDecay, "weightDecay") X(kStepSize, "stepSize") X(kEps, "eps") X(kGradScale, "gradScale")
  ADAM_RULE_NAMES(RADAM_SLOTS, RADAM_SCALARS)
#undef RADAM_SLOTS
#undef RADAM_SCALARS
  static constexpr uint32_t kWrites = 1u << kParam | 1u << kExpAvg | 1u << kExpAvgSq;
  static constexpr uint32_t kFlags = kFlagMaximize | kFlagL2 | kFlagRectified;
  ADAM_HD static uint32_t required(uint32_t) { return (1u << kSlots) - 1u; }

  template <class V>
  ADAM_HD static void update(const typename V::F* s, uint32_t flags, typename V::F* x) {
    using F = typename V::F;
    F p = x[kParam];
    F g = effective_grad<V>(flags, x[kGrad], p, s[kGradScale], s[kWeightDecay]);
    F m = V::add(V::mul(x[kExpAvg], s[kBeta1]), V::mul(g, s[kOneMinusBeta1]));
    F v = V::add(V::mul(x[kExpAvgSq], s[kBeta2]), V::mul(V::mul(g, g), s[kOneMinusBeta2]));
    F step = (flags & kFlagRectified) ? V::div(m, V::add(V::sqrt(v), s[kEps])) : m;
    x[kParam] = V::sub(p, V::mul(s[kStepSize], step));
    x[kExpAvg] = m;
    x[kExpAvgSq] = v;
  }
};

// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Program 1), with the
// decay decoupled as in AdamW:
//   p = p*decay                           decay = 1 - lr*weightDecay
//   g = effective_grad(grad, p)           (no L2: the decay is decoupled only)
//   c = m*beta1 + g*(1-beta1)
//   p = p - lr*sign(c)                    sign: +1, -1, +0 for either zero, NaN kept (V::sign)
//   m = m*beta2 + g*(1-beta2)
struct LionRule {
#define LION_SLOTS(X) X(kParam, "param") X(kGrad, "grad") X(kExpAvg, "exp_avg")
#define LION_SCALARS(X)                                                                                      \
  X(kLr, "lr") X(kBeta1, "beta1") X(kOneMinusBeta1, "oneMinusBeta1") X(kBeta2, "beta2")                     \
  X(kOneMinusBeta2, "oneMinusBeta2") X(kDecay, "decay") X(kGradScale, "gradScale")
  ADAM_RULE_NAMES(LION_SLOTS, LION_SCALARS)
#undef LION_SLOTS
#undef LION_SCALARS
  static constexpr uint32_t kWrites = 1u << kParam | 1u << kExpAvg;
  static constexpr uint32_t kFlags = kFlagMaximize | kFlagDecoupledDecay;
  ADAM_HD static uint32_t required(uint32_t) { return (1u << kSlots) - 1u; }

  template <class V>
  ADAM_HD static void update(const typename V::F* s, uint32_t flags, typename V::F* x) {
    using F = typename V::F;
    F p = x[kParam];
    if (flags & kFlagDecoupledDecay) p = V::mul(p, s[kDecay]);
    // L2 masked off, so the weight-decay argument is never read.
    F g = effective_grad<V>(flags & ~uint32_t{kFlagL2}, x[kGrad], p, s[kGradScale], p);
    F c = V::add(V::mul(x[kExpAvg], s[kBeta1]), V::mul(g, s[kOneMinusBeta1]));
    x[kParam] = V::sub(p, V::mul(s[kLr], V::sign(c)));
    x[kExpAvg] = V::add(V::mul(x[kExpAvg], s[kBeta2]), V::mul(g, s[kOneMinusBeta2]));
  }
};

// SparseAdam (PyTorch 1.13's torch.optim.SparseAdam, "lazy Adam"): run only on the rows a sparse
// gradient touches (rows.h), after the duplicates were summed. Its arithmetic is PyTorch's, not
// AdamRule's: the moments move by a difference, and eps is added unscaled.
//   g  = effective_grad(grad, p)          (no weight decay)
//   dm = (g - m)*(1-beta1);  dv = (g*g - v)*(1-beta2);  m = m + dm;  v = v + dv
//   p  = p - stepSize*(m/(sqrt(v) + eps)) stepSize = lr*sqrt(1 - beta2^t)/(1 - beta1^t)
struct SparseAdamRule {
#define SPARSE_ADAM_SLOTS(X) X(kParam, "param") X(kGrad, "grad") X(kExpAvg, "exp_avg") X(kExpAvgSq, "exp_avg_sq")
#define SPARSE_ADAM_SCALARS(X) \
  X(kOneMinusBeta1, "oneMinusBeta1") X(kOneMinusBeta2, "oneMinusBeta2") X(kStepSize, "stepSize") X(kEps, "eps") \
  X(kWeightDecay, "weightDecay") X(kGradScale, "gradScale")
  ADAM_RULE_NAMES(SPARSE_ADAM_SLOTS, SPARSE_ADAM_SCALARS)
#undef SPARSE_ADAM_SLOTS
#undef SPARSE_ADAM_SCALARS
  static constexpr uint32_t kWrites = 1u << kParam | 1u << kExpAvg | 1u << kExpAvgSq;
  static constexpr uint32_t kFlags = kFlagMaximize;
  ADAM_HD static uint32_t required(uint32_t) { return (1u << kSlots) - 1u; }

  template <class V>
  ADAM_HD static void update(const typename V::F* s, uint32_t flags, typename V::F* x) {
    using F = typename V::F;
    F p = x[kParam];
    F g = effective_grad<V>(flags, x[kGrad], p, s[kGradScale], s[kWeightDecay]);
    F dm = V::mul(V::sub(g, x[kExpAvg]), s[kOneMinusBeta1]);
    F dv = V::mul(V::sub(V::mul(g, g), x[kExpAvgSq]), s[kOneMinusBeta2]);
    F m = V::add(x[kExpAvg], dm);
    F v = V::add(x[kExpAvgSq], dv);
    F denom = V::add(V::sqrt(v), s[kEps]);
    x[kParam] = V::sub(p, V::mul(s[kStepSize], V::div(m, denom)));
    x[kExpAvg] = m;
    x[kExpAvgSq] = v;
  }
};

// Every rule fits the fixed-size per-group arrays of the N-API layer and the CUDA tables.
#define ADAM_CHECK_BOUNDS(name, Rule) \
  static_assert(Rule::kSlots <= kMaxSlots && Rule::kScalars <= kMaxScalars, #Rule ": raise kMaxSlots/kMaxScalars");
ADAM_RULE_LIST(ADAM_CHECK_BOUNDS)
#undef ADAM_CHECK_BOUNDS
