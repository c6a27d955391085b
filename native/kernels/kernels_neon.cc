// The neon kernels: AArch64 Advanced SIMD, the baseline of every 64-bit ARM CPU.
#include <arm_neon.h>

#define ADAM_ISA neon
#define ADAM_VEC_HEADER "vec_neon.h"
#include "kernels_isa.inc"
