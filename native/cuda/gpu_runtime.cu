// Device discovery and device memory, over the statically linked CUDA runtime: the runtime finds
// the driver (libcuda.so) at run time, so on a machine without one every call returns its error.
#include <cuda_runtime.h>

#include "check.h"
#include "gpu.h"

namespace adam {
namespace gpu {

Info query() {
  Info info;
  info.compiled = true;
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear it, so later calls report their own errors
    info.error = describe("cudaGetDeviceCount", e);
    if (e == cudaErrorInsufficientDriver) info.error += ": no NVIDIA driver was found, or it is older than CUDA 13";
    return info;
  }
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp p;
    e = cudaGetDeviceProperties(&p, d);
    if (e != cudaSuccess) {
      cudaGetLastError();
      info.error = describe("cudaGetDeviceProperties", e);
      continue;
    }
    info.devices.push_back({p.name, static_cast<uint64_t>(p.totalGlobalMem), p.major, p.minor});
  }
  info.device_count = static_cast<int>(info.devices.size());
  if (count == 0) info.error = "the CUDA driver reports no device";
  return info;
}

std::string alloc(size_t n, float** out) {
  *out = nullptr;
  if (n == 0) return "";
  void* p = nullptr;
  ADAM_CUDA_TRY(cudaMalloc(&p, n * sizeof(float)));
  cudaError_t e = cudaMemset(p, 0, n * sizeof(float));
  if (e == cudaSuccess) e = cudaDeviceSynchronize();
  if (e != cudaSuccess) {
    cudaFree(p);
    return describe("cudaMemset", e);
  }
  *out = static_cast<float*>(p);
  return "";
}

std::string release(float* p) {
  if (p) ADAM_CUDA_TRY(cudaFree(p));
  return "";
}

// cudaMemcpy on the legacy default stream: it waits for work queued on the optimizers' (blocking)
// streams first and returns when the copy is done, so tensor I/O never races a step.
static std::string copy_sync(float* dst, const float* src, size_t n, cudaMemcpyKind kind) {
  if (n == 0) return "";
  ADAM_CUDA_TRY(cudaMemcpy(dst, src, n * sizeof(float), kind));
  if (kind == cudaMemcpyDeviceToDevice) ADAM_CUDA_TRY(cudaDeviceSynchronize());
  return "";
}

std::string upload(float* dst, const float* src, size_t n) { return copy_sync(dst, src, n, cudaMemcpyHostToDevice); }
std::string download(float* dst, const float* src, size_t n) { return copy_sync(dst, src, n, cudaMemcpyDeviceToHost); }
std::string copy(float* dst, const float* src, size_t n) { return copy_sync(dst, src, n, cudaMemcpyDeviceToDevice); }

std::string zero(float* p, size_t n) {
  if (n == 0) return "";
  ADAM_CUDA_TRY(cudaMemset(p, 0, n * sizeof(float)));
  ADAM_CUDA_TRY(cudaDeviceSynchronize());
  return "";
}

std::string time_copy(float* dst, const float* src, size_t n, int iters, double* ms) {
  Events ev;
  ADAM_CUDA_TRY(ev.create());
  ADAM_CUDA_TRY(cudaMemcpy(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice));  // warm-up
  ADAM_CUDA_TRY(cudaEventRecord(ev.start, 0));
  for (int i = 0; i < iters; ++i)
    ADAM_CUDA_TRY(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, 0));
  ADAM_CUDA_TRY(cudaEventRecord(ev.stop, 0));
  return ev.elapsed(ms);
}

}  // namespace gpu
}  // namespace adam
