// One float per "vector": the tails of the SSE2 unit, the portable unit, and the CUDA kernels.
// Included inside an ISA namespace (see kernels_isa.inc); no includes of its own.
#ifndef ADAM_HD
#define ADAM_HD
#endif

struct VecScalar {
  using F = float;
  static constexpr size_t kWidth = 1;
  static constexpr bool kMasked = false;
  ADAM_HD static F load(const float* p) { return *p; }
  ADAM_HD static void store(float* p, F x) { *p = x; }
  ADAM_HD static F set1(float x) { return x; }
  ADAM_HD static F add(F a, F b) { return a + b; }
  ADAM_HD static F sub(F a, F b) { return a - b; }
  ADAM_HD static F mul(F a, F b) { return a * b; }
  ADAM_HD static F div(F a, F b) { return a / b; }
  ADAM_HD static F sqrt(F a) { return sqrtf(a); }
  // a > b ? a : b, the semantics of maxps (second operand on NaN), kept by every backend.
  ADAM_HD static F max(F a, F b) { return a > b ? a : b; }
  ADAM_HD static F abs(F a) { return fabsf(a); }
  ADAM_HD static F neg(F a) { return -a; }
  // a < b ? a : b, the semantics of minps.
  ADAM_HD static F min(F a, F b) { return a < b ? a : b; }
  // +1 for a > 0, -1 for a < 0, +0 for either zero, and a NaN returned as it is (Lion's update).
  ADAM_HD static F sign(F a) { return a > 0.0f ? 1.0f : a < 0.0f ? -1.0f : a == 0.0f ? 0.0f : a; }

  // Float64 lanes for reductions (gradops.h): kDWidth floats widened to doubles.
  using D = double;
  static constexpr size_t kDWidth = 1;
  ADAM_HD static D dzero() { return 0.0; }
  ADAM_HD static D load_d(const float* p) { return static_cast<double>(*p); }
  ADAM_HD static D dadd(D a, D b) { return a + b; }
  ADAM_HD static D dmul(D a, D b) { return a * b; }
  ADAM_HD static void dstore(double* p, D x) { *p = x; }
};
