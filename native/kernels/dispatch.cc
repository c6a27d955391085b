// CPU detection (once, at load) and the kernel tables, both from ADAM_ISA_LIST.
#include "dispatch.h"

#include <cstdint>

namespace adam {

namespace layout {
#include "rules.h"  // only the enums and names are used here: no code is instantiated in this unit
}  // namespace layout

const RuleLayout kRuleLayouts[kRuleCount] = {
#define ADAM_LAYOUT_ENTRY(name, Rule) \
  {#name, layout::Rule::kSlots, layout::Rule::kScalars, layout::Rule::kSlotNames, layout::Rule::kScalarNames},
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

namespace {
struct Detected {
  bool supported[kIsaCount];
  Isa best;
  Detected() : best(kIsaCount) {
#define ADAM_ISA_DETECT(name, detected) supported[kIsa_##name] = (detected);
    ADAM_ISA_LIST(ADAM_ISA_DETECT)
#undef ADAM_ISA_DETECT
    for (uint32_t i = 0; i < kIsaCount; ++i)
      if (supported[i]) best = static_cast<Isa>(i);
  }
};

const Detected& detected() {
  static const Detected d;
  return d;
}

// Addresses, not values: valid before the units' own initializers have run.
const IsaKernels* const kTables[kIsaCount] = {
#define ADAM_ISA_TABLE(name, detected) &kernels_##name,
    ADAM_ISA_LIST(ADAM_ISA_TABLE)
#undef ADAM_ISA_TABLE
};
}  // namespace

bool isa_supported(Isa isa) { return isa < kIsaCount && detected().supported[isa]; }

Isa best_isa() { return detected().best; }

const char* isa_name(Isa isa) { return kTables[isa]->name; }

const IsaKernels& isa_kernels(Isa isa) { return *kTables[isa]; }

}  // namespace adam
