// CPU detection (once, at load) and the kernel tables, indexed by Isa.
#include "dispatch.h"

#include <cstdint>

namespace adam {

namespace layout {
#include "rules.h"  // only the enums are used here: no code is instantiated in this unit
}  // namespace layout

const RuleLayout kRuleLayouts[kRuleCount] = {
#define ADAM_LAYOUT_ENTRY(name, Rule) {#name, layout::Rule::kSlots, layout::Rule::kScalars},
    ADAM_RULE_LIST(ADAM_LAYOUT_ENTRY)
#undef ADAM_LAYOUT_ENTRY
};

uint32_t required_slots(RuleId rule, uint32_t flags) {
  switch (rule) {
#define ADAM_REQUIRED_CASE(name, Rule) \
  case kRule_##name:                   \
    return layout::Rule::required(flags);
    ADAM_RULE_LIST(ADAM_REQUIRED_CASE)
#undef ADAM_REQUIRED_CASE
    default:
      return 0;
  }
}

#if defined(__aarch64__)
static bool detect(Isa isa) { return isa == kIsaNeon; }  // Advanced SIMD is part of AArch64

bool isa_supported(Isa isa) { return isa < kIsaCount && detect(isa); }

Isa best_isa() { return kIsaNeon; }

const KernelTable& kernel_table(Isa) { return kKernelsNeon; }
#else
static bool detect(Isa isa) {
  switch (isa) {
    case kIsaSse2:
      return true;  // part of x86-64
    case kIsaAvx2:
      return __builtin_cpu_supports("avx2");
    case kIsaAvx512:
      return __builtin_cpu_supports("avx512f");  // libgcc also checks the OS saves zmm state
    default:
      return false;
  }
}

bool isa_supported(Isa isa) {
  static const bool supported[kIsaCount] = {detect(kIsaSse2), detect(kIsaAvx2), detect(kIsaAvx512)};
  return isa < kIsaCount && supported[isa];
}

Isa best_isa() {
  static const Isa best = isa_supported(kIsaAvx512) ? kIsaAvx512 : isa_supported(kIsaAvx2) ? kIsaAvx2 : kIsaSse2;
  return best;
}

const KernelTable& kernel_table(Isa isa) {
  static const KernelTable* const tables[kIsaCount] = {&kKernelsSse2, &kKernelsAvx2, &kKernelsAvx512};
  return *tables[isa];
}
#endif

}  // namespace adam
