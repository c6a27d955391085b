// The avx512 kernels: compiled with -mavx512f only; chosen at run time when the CPU has AVX-512F.
#include <immintrin.h>

#define ADAM_ISA avx512
#define ADAM_VEC_HEADER "vec_avx512.h"
#include "kernels_isa.inc"
