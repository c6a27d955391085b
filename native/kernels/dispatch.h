// Which kernels this CPU can run. Detection runs once; a plan picks its ISA's table when it is made
// (the per-optimizer `isa` option) and never runs a table the CPU lacks.
#pragma once
#include "kernel_api.h"

namespace adam {
bool isa_supported(Isa isa);
Isa best_isa();
const char* isa_name(Isa isa);
const IsaKernels& isa_kernels(Isa isa);  // isa must be supported
uint32_t required_slots(RuleId rule, uint32_t flags);
}  // namespace adam
