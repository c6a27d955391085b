// The CUDA backend as plain C++: what the N-API layer (native/cuda_addon.cc) calls. No CUDA header
// here, so the same N-API code builds with CUDA (gpu_runtime.cu, multi_tensor.cu) or without it
// (gpu_stub.cc, where every call reports why CUDA is unavailable).
//
// Every function returns "" on success, else a message that names the failing step and the CUDA
// error. Nothing here aborts the process.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../kernels/kernel_api.h"

namespace adam {
namespace gpu {

struct DeviceProps {
  std::string name;
  uint64_t memory = 0;  // bytes
  int major = 0, minor = 0;
};

struct Info {
  bool compiled = false;
  int device_count = 0;
  std::vector<DeviceProps> devices;
  std::string error;  // why there is no usable device ("" when device_count > 0)
};

// Never throws: without a driver or GPU it says so in `error`.
Info query();

// Device memory (plain cudaMalloc), zero-filled. n == 0 gives nullptr.
std::string alloc(size_t n, float** out);
std::string release(float* p);
// Synchronous copies: they return when the data has arrived.
std::string upload(float* dst, const float* src, size_t n);
std::string download(float* dst, const float* src, size_t n);
std::string copy(float* dst, const float* src, size_t n);
std::string zero(float* p, size_t n);
// bench: `iters` device-to-device copies of n floats timed with CUDA events.
std::string time_copy(float* dst, const float* src, size_t n, int iters, double* ms);

// One tensor of a plan: its device slots (param, grad, state...; nullptr for an absent state slot),
// or, when `mirror` is set, host param and grad that the plan mirrors on the device.
struct PlanTensor {
  float* slots[kMaxSlots] = {};
  size_t n = 0;
  uint32_t group = 0;  // its parameter group: which scalars and flags it steps with
  bool mirror = false;
};

// Host arrays of a mirrored tensor, registered by the N-API layer (which checks them before every step).
struct HostPair {
  float* data = nullptr;
  const float* grad = nullptr;
};

class DevicePlan;  // one optimizer's tensors on the device: tables, stream, mirror arenas

// Uploads the tables once; for mirrored tensors allocates device param/grad arenas and pinned
// staging buffers, and uploads host[t].data (the param values the device copy starts from).
std::string plan_create(RuleId rule, uint32_t groups, const std::vector<PlanTensor>& tensors,
                        const std::vector<HostPair>& host, DevicePlan** out);
// One step for every group: `scalars` holds kMaxScalars floats per group, `flags` one entry per
// group. Uploads mirrored grads, launches one kernel for every tensor, downloads mirrored params.
// Blocks the calling thread until the device is done (stepAsync calls it from a worker thread).
std::string plan_step(DevicePlan* plan, const float* scalars, const uint32_t* flags, const std::vector<HostPair>& host);
// bench: `iters` kernel launches back to back (no mirror traffic), timed with CUDA events.
std::string plan_time(DevicePlan* plan, const float* scalars, const uint32_t* flags, int iters, double* ms);
void plan_destroy(DevicePlan* plan);

// Compact storage (kernels/compact.h) on the device: one tensor's slots as the block code
// (compact_block.h) reads them, in the plan's memory (device pointers for a device plan).
struct CompactTensor {
  void* data[kMaxSlots];
  float* absmax[kMaxSlots];  // 8-bit slots: one float32 per block of kCompactBlock
  uint32_t storage[kMaxSlots];
  void* mirror;  // with a master (slot 0, float32): the bf16/fp16 parameter written from it
  uint32_t mirror_storage;
  uint32_t sr;     // 1: slot 0 is a bf16/fp16 parameter narrowed by stochastic rounding
  uint32_t index;  // the parameter's index in the rounding key (sr_key)
  uint32_t group;
  unsigned long long n;
};

// The compact step run on the CPU by the device kernel's own block code (compact_host.cc): every
// build has it, so the device code's arithmetic is tested without a GPU. Pointers are host memory;
// `scalars` kMaxScalars floats per group, `flags` one per group. Single-threaded.
void compact_step_host(RuleId rule, const std::vector<CompactTensor>& tensors, const float* scalars,
                       const uint32_t* flags, uint32_t seed, uint32_t step);

class CompactDevicePlan;  // one compact optimizer's tensors on the device

// `host_slots[t]` bit k: slot k of tensor t (and its absmax) is host memory that the plan mirrors
// on the device (uploaded now; slot 1, the grad, again before every step; the others downloaded
// after every step); other slots are device memory. A mirror (half parameter output) is always
// host memory, downloaded after every step.
std::string compact_plan_create(RuleId rule, uint32_t groups, const std::vector<CompactTensor>& tensors,
                                const std::vector<uint32_t>& host_slots, uint32_t seed, CompactDevicePlan** out);
// One step for every tensor (one launch); blocks until the device is done and the host copies are written.
std::string compact_plan_step(CompactDevicePlan* plan, const float* scalars, const uint32_t* flags, uint32_t step);
void compact_plan_destroy(CompactDevicePlan* plan);

}  // namespace gpu
}  // namespace adam
