// The sse2 kernels: baseline x86-64: the only unit that runs on every CPU.
#include <emmintrin.h>

#define ADAM_ISA sse2
#define ADAM_VEC_HEADER "vec_sse2.h"
#define ADAM_TABLE kKernelsSse2
#include "kernels_isa.inc"
