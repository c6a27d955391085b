// Error plumbing shared by the .cu units: a CUDA error becomes a returned message, never an abort.
#pragma once
#include <cuda_runtime.h>

#include <string>

namespace adam {
namespace gpu {

// `what` may be a whole call's text: only the function name is kept.
inline std::string describe(const char* what, cudaError_t e) {
  std::string name(what);
  name = name.substr(0, name.find('('));
  return name + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
}

// Returns the message from the enclosing function when a CUDA call fails.
#define ADAM_CUDA_TRY(call)                                    \
  do {                                                         \
    cudaError_t adam_e_ = (call);                              \
    if (adam_e_ != cudaSuccess) return describe(#call, adam_e_); \
  } while (0)

// A pair of CUDA events for timing (bench helpers only).
struct Events {
  cudaEvent_t start = nullptr, stop = nullptr;
  cudaError_t create() {
    cudaError_t e = cudaEventCreate(&start);
    return e != cudaSuccess ? e : cudaEventCreate(&stop);
  }
  std::string elapsed(double* ms) {
    ADAM_CUDA_TRY(cudaEventSynchronize(stop));
    float f = 0;
    ADAM_CUDA_TRY(cudaEventElapsedTime(&f, start, stop));
    *ms = f;
    return "";
  }
  ~Events() {
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
  }
};

}  // namespace gpu
}  // namespace adam
