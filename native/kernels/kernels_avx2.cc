// The avx2 kernels: compiled with -mavx2 only; chosen at run time when the CPU has AVX2.
#include <immintrin.h>

#define ADAM_ISA avx2
#define ADAM_VEC_HEADER "vec_avx2.h"
#include "kernels_isa.inc"
