// The sse2 kernels: baseline x86-64, the fastest unit that runs on every x86-64 CPU.
#include <emmintrin.h>

#define ADAM_ISA sse2
#define ADAM_VEC_HEADER "vec_sse2.h"
#include "kernels_isa.inc"
