// Gradient utilities per ISA (clipping, the non-finite check), part of each unit's IsaKernels
// (kernel_api.h) and run by native/grad_ops.cc. Plain C++, safe to include anywhere.
#pragma once
#include <cstddef>

namespace adam {

// The global norm's fixed order (lib/gradops.ts is the reference): each tensor is cut into blocks
// of kNormBlock elements; a block's sum of squares uses kNormLanes float64 lanes (gradops.h); the
// blocks' sums are added in order, tensor after tensor, starting from 0.
constexpr size_t kNormBlock = 1024;
constexpr size_t kNormLanes = 16;

struct GradKernels {
  double (*block_sum_squares)(const float* x, size_t n);  // n <= kNormBlock
  void (*scale)(float* x, size_t n, float factor);        // x = x*factor
  void (*clamp)(float* x, size_t n, float limit);         // x = min(limit, max(-limit, x)), NaN kept
};

}  // namespace adam
