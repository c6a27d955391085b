// The contract between the dispatcher, the N-API layer and the per-ISA kernel units.
// Plain C++ with no ISA-specific code: safe to include anywhere.
#pragma once
#include <cstddef>
#include <cstdint>

namespace adam {

// One kernel updates `n` elements of one tensor. `slots[k]` points at slot k of that tensor
// (param, grad, then the rule's state slots; an absent optional slot is nullptr), `scalars` is
// the rule's per-step float32 scalars, `flags` its option bits (rules.h).
using KernelFn = void (*)(const float* scalars, uint32_t flags, float* const* slots, size_t n);

// The list of update rules, written once: X(name, RuleType).
#define ADAM_RULE_LIST(X) \
  X(adam, AdamRule)       \
  X(adamax, AdamaxRule)   \
  X(sgd, SgdRule)         \
  X(adagrad, AdagradRule) \
  X(rmsprop, RmspropRule)

enum RuleId : uint32_t {
#define ADAM_RULE_ID(name, Rule) kRule_##name,
  ADAM_RULE_LIST(ADAM_RULE_ID)
#undef ADAM_RULE_ID
  kRuleCount
};

// Option bits shared by the rules; lib/rules/flags.ts mirrors them.
enum Flag : uint32_t {
  kFlagMaximize = 1u << 0,        // g = -grad
  kFlagL2 = 1u << 1,              // g = g + weightDecay*p (coupled, the paper's L2)
  kFlagDecoupledDecay = 1u << 2,  // p = p*(1 - lr*weightDecay) first (AdamW)
  kFlagAmsgrad = 1u << 3,         // vmax = max(vmax, v), used in the denominator
  kFlagGradScale = 1u << 4,       // g = grad/gradScale (loss scaling), before everything else
  kFlagMomentum = 1u << 5,        // SGD, RMSProp: keep a momentum buffer
  kFlagNesterov = 1u << 6,        // SGD: g = g + momentum*buf
  kFlagFirstStep = 1u << 7,       // SGD: the momentum buffer starts as g (PyTorch's "buf is None")
  kFlagCentered = 1u << 8,        // RMSProp: subtract the squared mean gradient
};

// Every flag by its lib/ name, for the addon's load-time check against lib/rules/flags.ts.
#define ADAM_FLAG_LIST(X)                                                                          \
  X(maximize, kFlagMaximize) X(l2, kFlagL2) X(decoupledDecay, kFlagDecoupledDecay)                 \
  X(amsgrad, kFlagAmsgrad) X(gradScale, kFlagGradScale) X(momentum, kFlagMomentum)                 \
  X(nesterov, kFlagNesterov) X(firstStep, kFlagFirstStep) X(centered, kFlagCentered)

#if defined(__aarch64__)
enum Isa : uint32_t { kIsaNeon = 0, kIsaCount };
#else
enum Isa : uint32_t { kIsaSse2 = 0, kIsaAvx2 = 1, kIsaAvx512 = 2, kIsaCount };
#endif

struct KernelTable {
  const char* isa;
  KernelFn rules[kRuleCount];
};

// Defined by kernels_<isa>.cc.
extern const KernelTable kKernelsNeon;
extern const KernelTable kKernelsSse2;
extern const KernelTable kKernelsAvx2;
extern const KernelTable kKernelsAvx512;

// The bandwidth probe's kernel (kernels/stream.h): p += g, m += g, v += g over n elements.
using StreamFn = void (*)(float* p, const float* g, float* m, float* v, size_t n);
extern const StreamFn kStream_neon;
extern const StreamFn kStream_sse2;
extern const StreamFn kStream_avx2;
extern const StreamFn kStream_avx512;

// Per-rule layout (slot and scalar counts), shared with the TypeScript layer for a load-time check.
struct RuleLayout {
  const char* name;
  uint32_t slots;
  uint32_t scalars;
};
extern const RuleLayout kRuleLayouts[kRuleCount];

}  // namespace adam
