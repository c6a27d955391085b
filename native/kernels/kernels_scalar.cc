// The scalar kernels: portable C++ on VecScalar, built on every CPU (the only unit off x86-64).
// The same rules and operation order as the vector units, one element at a time: the same bits.
#define ADAM_ISA scalar
#define ADAM_VEC_HEADER "vec_portable.h"
#include "kernels_isa.inc"
