// Which kernels this CPU can run. Detection runs once; the N-API layer picks a table per call
// (the per-optimizer `isa` option) and never runs a table the CPU lacks.
#pragma once
#include "kernel_api.h"

namespace adam {
bool isa_supported(Isa isa);
Isa best_isa();
const KernelTable& kernel_table(Isa isa);  // isa must be supported
uint32_t required_slots(RuleId rule, uint32_t flags);
}  // namespace adam
