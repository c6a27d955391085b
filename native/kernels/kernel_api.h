// The contract between the dispatcher, the N-API layer and the per-ISA kernel units.
// Plain C++ with no ISA-specific code: safe to include anywhere.
#pragma once
#include <cstddef>
#include <cstdint>

#include "grad_api.h"

namespace adam {

// One kernel updates `n` elements of one tensor. `slots[k]` points at slot k of that tensor
// (param, grad, then the rule's state slots; an absent optional slot is nullptr), `scalars` is
// the rule's per-step float32 scalars, `flags` its option bits (rules.h).
using KernelFn = void (*)(const float* scalars, uint32_t flags, float* const* slots, size_t n);

// The list of update rules, written once: X(name, RuleType).
#define ADAM_RULE_LIST(X)   \
  X(adam, AdamRule)         \
  X(adamax, AdamaxRule)     \
  X(sgd, SgdRule)           \
  X(adagrad, AdagradRule)   \
  X(rmsprop, RmspropRule)   \
  X(adadelta, AdadeltaRule) \
  X(nadam, NadamRule)       \
  X(radam, RadamRule)       \
  X(lion, LionRule)         \
  X(sparse_adam, SparseAdamRule)

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
  kFlagRectified = 1u << 9,       // RAdam: the variance is tractable (rho_t > 5): adaptive step
};

// Every flag by its lib/ name, for the addon's load-time check against lib/rules/flags.ts.
#define ADAM_FLAG_LIST(X)                                                                          \
  X(maximize, kFlagMaximize) X(l2, kFlagL2) X(decoupledDecay, kFlagDecoupledDecay)                 \
  X(amsgrad, kFlagAmsgrad) X(gradScale, kFlagGradScale) X(momentum, kFlagMomentum)                 \
  X(nesterov, kFlagNesterov) X(firstStep, kFlagFirstStep) X(centered, kFlagCentered)      \
  X(rectified, kFlagRectified)

// One kernel over `count` touched rows of a row-sparse tensor (rows.h): `slots` as KernelFn's but
// whole tensors, indexed by rows[k]; slots[1] is unused: row k's (coalesced) grad is grads[k].
// Rows must be distinct (the caller coalesced them), each in range.
using RowKernelFn = void (*)(const float* scalars, uint32_t flags, float* const* slots, const int32_t* rows,
                             const float* const* grads, size_t count, size_t row_size);

// Every ISA with a kernel unit, written once: X(name, detected). Each name has a unit
// kernels_<name>.cc exporting `kernels_<name>`. `scalar` is the portable unit (VecScalar, any CPU);
// the x86 units exist only in x86-64 builds, neon only in AArch64 ones (CMakeLists.txt). Later
// entries are preferred.
#if defined(__x86_64__) || defined(_M_X64)
#define ADAM_ISA_LIST(X)                               \
  X(scalar, true)                                      \
  X(sse2, true) /* part of x86-64 */                   \
  X(avx2, __builtin_cpu_supports("avx2"))              \
  X(avx512, __builtin_cpu_supports("avx512f")) /* libgcc also checks the OS saves zmm state */
#elif defined(__aarch64__)
#define ADAM_ISA_LIST(X) X(scalar, true) X(neon, true) /* Advanced SIMD is part of AArch64 */
#else
#define ADAM_ISA_LIST(X) X(scalar, true)
#endif

enum Isa : uint32_t {
#define ADAM_ISA_ID(name, detected) kIsa_##name,
  ADAM_ISA_LIST(ADAM_ISA_ID)
#undef ADAM_ISA_ID
  kIsaCount
};

// The bandwidth probe's kernel (kernels/stream.h): p += g, m += g, v += g over n elements.
using StreamFn = void (*)(float* p, const float* g, float* m, float* v, size_t n);

// Compact storage (compact.h): a slot kept narrower than float32, widened per block of
// kCompactBlock elements into float32 scratch, run through the unchanged rule, narrowed back.
constexpr size_t kCompactBlock = 256;
enum Storage : uint32_t {
  kStoreF32 = 0,       // float32
  kStoreBf16 = 1,      // bfloat16 bits (uint16)
  kStoreF16 = 2,       // IEEE binary16 bits (uint16)
  kStoreQ8Signed = 3,  // uint8 codes into the signed dynamic map, float32 absmax per block
  kStoreQ8Unsigned = 4,
  kStoreCount
};
// A half-precision parameter's param slot (stochastic.h): with a float32 master (the slot's
// data), `mirror` is the bf16/fp16 parameter written from it; without (mirror null, the slot's
// data the half parameter), `key` is this step's stochastic-rounding key (sr_key).
struct HalfParam {
  void* mirror;
  uint32_t mirror_storage;
  uint32_t key;
};
// One slot of one tensor: its whole array (element 0 at data), and the absmax array for 8-bit
// codes; `half` only on the param slot of a half-precision parameter.
struct SlotStore {
  void* data;
  float* absmax;
  uint32_t storage;
  const HalfParam* half;
};
// The 8-bit dynamic maps (quant8.cc): 256 float32 values ascending, the 255 float64 midpoints
// between neighbours, the code of 0, and a table that finds a code in two look-ups: per bucket of
// float32 bits (sign, exponent clamped to [2^-24, 1], 8 mantissa bits), the count of midpoints
// below every value of the bucket, and the least float32 above the one midpoint inside the
// bucket (NaN if none; no bucket holds two), so code = start + (y >= threshold). The AVX2 and
// AVX-512 loops compute the count from |y| instead (quant8_simd.h; gathers are slow there), with
// tables that fit in registers: |y| falls in a region (at most 8) between 0 or a `special`
// midpoint (one between different decades of the map, or before 1) and the next, found from its
// float32 exponent (32 octaves from 2^-31: at most one special midpoint per octave, and per pair
// of octaves); inside a region the midpoints are evenly spaced up to rounding, so the count is
// floor(min(|y|*scale + offset, cap)).
// The CUDA block code (native/cuda/compact_block.h) searches instead: `above` holds the least
// float32 above each midpoint, so y >= above[i] exactly when midpoint i < y, laid out as an
// implicit binary tree (the midpoint a search step of width s tests at position p sits at
// 128/s + p/(2s)); 1 KB per map fits the device's shared memory.
constexpr uint32_t kQ8Exponents = 25, kQ8MantissaBits = 8;
constexpr uint32_t kQ8Buckets = kQ8Exponents << kQ8MantissaBits;
struct Quant8Map {
  float values[256];
  double mids[255];
  uint32_t zero;
  int32_t start[2 * kQ8Buckets];     // [sign * kQ8Buckets + bucket]
  float threshold[2 * kQ8Buckets];
  // Per octave o (float32 exponent field 96 + o): the least float32 above the special midpoint
  // inside (+Inf if none), and the region of the octave's values below it.
  alignas(64) float octave_threshold[32];
  alignas(64) int32_t octave_region[32];
  // Per region: count of midpoints below |y| = floor(min(|y|*scale + offset, cap)).
  alignas(64) float region_scale[16];
  alignas(64) float region_offset[16];
  alignas(64) float region_cap[16];
  alignas(64) float above[256];  // [0] unused
};
// The computed count is used only where its fraction is at least this far from an integer
// (quant8.cc checks that rounding and the map's own rounding stay below it); other lanes take
// the table look-up.
constexpr float kQ8Margin = 1.0f / 8192;
const Quant8Map& quant8_map(bool is_signed);
// A compact kernel: elements [begin, begin + n) of one tensor, begin a multiple of kCompactBlock.
using CompactKernelFn = void (*)(const float* scalars, uint32_t flags, const SlotStore* slots, size_t begin,
                                 size_t n);

// Everything one ISA's unit exports.
struct IsaKernels {
  const char* name;
  KernelFn rules[kRuleCount];
  RowKernelFn rows[kRuleCount];  // the same rules over the touched rows of a sparse tensor
  GradKernels grad;
  StreamFn stream;
  CompactKernelFn compact[kRuleCount];  // the same rules over compact storage (compact.h)
};

#define ADAM_ISA_DECLARE(name, detected) extern const IsaKernels kernels_##name;
ADAM_ISA_LIST(ADAM_ISA_DECLARE)
#undef ADAM_ISA_DECLARE

// Bounds on every rule's layout (static_assert in rules.h, so every CPU unit and the CUDA unit
// check them): the N-API layer and the CUDA tables size their per-group arrays by them.
constexpr uint32_t kMaxSlots = 8;
constexpr uint32_t kMaxScalars = 16;

// Per-rule layout: the slot and scalar names in order (rules.h), exported by the addon and
// compared name by name with lib/rules/*.ts when the addon loads.
struct RuleLayout {
  const char* name;
  uint32_t slots;
  uint32_t scalars;
  const char* const* slot_names;
  const char* const* scalar_names;
};
extern const RuleLayout kRuleLayouts[kRuleCount];

}  // namespace adam
