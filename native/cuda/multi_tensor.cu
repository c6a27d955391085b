// Every rule of ADAM_RULE_LIST on the GPU, instantiated from the same rules.h as the CPU kernels,
// with VecScalar as the element type. One launch steps all tensors of every parameter group of an
// optimizer: a device-side table of tensors (slot pointers, length, group), of fixed chunks (cut by
// THE chunker, parallel.h) and of each group's scalars and flags; each block takes chunks in turn
// (the multi_tensor_apply idea). Built with --fmad=false and IEEE div/sqrt,
// each element sees the same float32 operations in the same order as on the CPU: the same bits.
#include <cuda_runtime.h>
#include <math.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "gpu.h"
#include "../parallel.h"

namespace adam {
namespace cuda {
#define ADAM_HD __host__ __device__
#include "../kernels/vec_scalar.h"
#include "../kernels/rules.h"
#undef ADAM_HD
}  // namespace cuda

namespace gpu {
namespace {

constexpr int kThreads = 256;
// One float4 per thread per pass, the loads of every slot in flight together. Measured on an H200,
// 64M elements, Adam on all-zero data (where the IEEE division takes its slow path): this shape
// reached 92% of the device's copy bandwidth; two or four float4 per thread, a register cap and
// prefetching the next pass reached 63-86%.
constexpr size_t kPass = size_t{kThreads} * 4;
// Elements per chunk: whole passes, and a multiple of 4, so every float4 of a 16-byte-aligned
// tensor stays aligned.
constexpr size_t kChunk = 8 * kPass;
constexpr size_t kMirrorAlign = 64;  // floats: each mirrored tensor starts 256-byte aligned in its arena

struct TensorDesc {
  float* slots[kMaxSlots];
  unsigned long long n;
  unsigned int group;
};

struct ChunkDesc {
  unsigned int tensor;
  unsigned long long begin;
};

// One group's per-step values, uploaded before each launch.
struct GroupArgs {
  float s[kMaxScalars];
  uint32_t flags;
};

struct StepArgs {
  uint32_t chunks;
  const TensorDesc* tensors;
  const ChunkDesc* chunk_table;
  const GroupArgs* groups;
};

__device__ __forceinline__ float& lane(float4& v, int k) { return k == 0 ? v.x : k == 1 ? v.y : k == 2 ? v.z : v.w; }

// One element through the rule, as driver.h does it: an absent slot reads as 0 and is not written.
template <class Rule>
__device__ __forceinline__ void update_one(const float* s, uint32_t flags, float* const* slots, size_t i) {
  float x[Rule::kSlots];
#pragma unroll
  for (int j = 0; j < Rule::kSlots; ++j) x[j] = slots[j] ? slots[j][i] : 0.0f;
  Rule::template update<cuda::VecScalar>(s, flags, x);
#pragma unroll
  for (int j = 0; j < Rule::kSlots; ++j)
    if (((Rule::kWrites >> j) & 1u) && slots[j]) slots[j][i] = x[j];
}

// One pass: each thread loads a float4 of every slot (absent: 0), runs the rule on each lane and
// stores the written slots; the tensor's last (< 4) elements go one by one through the same rule.
template <class Rule>
__device__ __forceinline__ void step_pass(const float* s, uint32_t flags, float* const* slots, size_t pass,
                                          size_t end) {
  const size_t i = pass + size_t{threadIdx.x} * 4;
  if (i + 4 <= end) {
    float4 x[Rule::kSlots];
#pragma unroll
    for (int j = 0; j < Rule::kSlots; ++j)
      x[j] = slots[j] ? __ldcs(reinterpret_cast<const float4*>(slots[j] + i)) : make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      float e[Rule::kSlots];
#pragma unroll
      for (int j = 0; j < Rule::kSlots; ++j) e[j] = lane(x[j], k);
      Rule::template update<cuda::VecScalar>(s, flags, e);
#pragma unroll
      for (int j = 0; j < Rule::kSlots; ++j) lane(x[j], k) = e[j];
    }
#pragma unroll
    for (int j = 0; j < Rule::kSlots; ++j)
      if (((Rule::kWrites >> j) & 1u) && slots[j]) __stcs(reinterpret_cast<float4*>(slots[j] + i), x[j]);
  } else {
    for (size_t k = i; k < end; ++k) update_one<Rule>(s, flags, slots, k);
  }
}

template <class Rule>
__global__ void __launch_bounds__(kThreads) multi_tensor_step(const StepArgs a) {
  for (uint32_t c = blockIdx.x; c < a.chunks; c += gridDim.x) {
    const ChunkDesc chunk = a.chunk_table[c];
    const TensorDesc& t = a.tensors[chunk.tensor];
    const GroupArgs& g = a.groups[t.group];
    float s[Rule::kScalars];
#pragma unroll
    for (int j = 0; j < Rule::kScalars; ++j) s[j] = g.s[j];
    const uint32_t flags = g.flags;
    float* slots[Rule::kSlots];
#pragma unroll
    for (int j = 0; j < Rule::kSlots; ++j) slots[j] = t.slots[j];
    const size_t end = min(static_cast<size_t>(chunk.begin + kChunk), static_cast<size_t>(t.n));
    for (size_t pass = chunk.begin; pass < end; pass += kPass) step_pass<Rule>(s, flags, slots, pass, end);
  }
}

using Launcher = cudaError_t (*)(const StepArgs&, unsigned grid, cudaStream_t stream);

template <class Rule>
cudaError_t launch(const StepArgs& a, unsigned grid, cudaStream_t stream) {
  multi_tensor_step<Rule><<<grid, kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

// Every rule of the list, with no per-rule CUDA code.
#define ADAM_CUDA_LAUNCHER(name, Rule) &launch<cuda::Rule>,
const Launcher kLaunchers[kRuleCount] = {ADAM_RULE_LIST(ADAM_CUDA_LAUNCHER)};
#undef ADAM_CUDA_LAUNCHER

}  // namespace

class DevicePlan {
 public:
  RuleId rule = kRuleCount;
  uint32_t groups = 0;
  cudaStream_t stream = nullptr;
  TensorDesc* tensors = nullptr;  // device tables
  ChunkDesc* chunk_table = nullptr;
  GroupArgs* d_groups = nullptr;  // each step's group values: device table and pinned staging
  GroupArgs* h_groups = nullptr;
  uint32_t chunks = 0;
  unsigned grid = 0;
  // Mirror mode: device arenas for the mirrored params and grads, and pinned host staging.
  std::vector<size_t> lengths, mirror_offset;
  std::vector<bool> mirrored;
  size_t mirror_total = 0;
  float *d_param = nullptr, *d_grad = nullptr, *h_param = nullptr, *h_grad = nullptr;

  ~DevicePlan() {
    if (stream) cudaStreamSynchronize(stream);
    cudaFree(tensors);
    cudaFree(chunk_table);
    cudaFree(d_groups);
    cudaFreeHost(h_groups);
    cudaFree(d_param);
    cudaFree(d_grad);
    cudaFreeHost(h_param);
    cudaFreeHost(h_grad);
    if (stream) cudaStreamDestroy(stream);
  }

  // Stages the groups' values and queues their upload; returns the launch's arguments.
  std::string Upload(const float* scalars, const uint32_t* flags, StepArgs* a) {
    for (uint32_t g = 0; g < groups; ++g) {
      std::copy(scalars + size_t{g} * kMaxScalars, scalars + size_t{g + 1} * kMaxScalars, h_groups[g].s);
      h_groups[g].flags = flags[g];
    }
    ADAM_CUDA_TRY(cudaMemcpyAsync(d_groups, h_groups, groups * sizeof(GroupArgs), cudaMemcpyHostToDevice, stream));
    *a = {chunks, tensors, chunk_table, d_groups};
    return "";
  }
};

std::string plan_create(RuleId rule, uint32_t groups, const std::vector<PlanTensor>& tensors,
                        const std::vector<HostPair>& host, DevicePlan** out) {
  *out = nullptr;
  if (rule >= kRuleCount || groups == 0 || host.size() != tensors.size()) return "plan_create: bad rule, groups or hosts";
  auto plan = std::make_unique<DevicePlan>();
  plan->rule = rule;
  plan->groups = groups;
  const uint32_t slots = kRuleLayouts[rule].slots;
  const size_t count = tensors.size();
  plan->lengths.resize(count);
  plan->mirror_offset.assign(count, 0);
  plan->mirrored.assign(count, false);
  for (size_t t = 0; t < count; ++t) {
    if (tensors[t].group >= groups) return "plan_create: tensor " + std::to_string(t) + " has no group";
    plan->lengths[t] = tensors[t].n;
    if (!tensors[t].mirror) continue;
    plan->mirrored[t] = true;
    plan->mirror_offset[t] = plan->mirror_total;
    plan->mirror_total += (tensors[t].n + kMirrorAlign - 1) / kMirrorAlign * kMirrorAlign;
  }
  ADAM_CUDA_TRY(cudaStreamCreateWithFlags(&plan->stream, cudaStreamDefault));
  ADAM_CUDA_TRY(cudaMalloc(&plan->d_groups, groups * sizeof(GroupArgs)));
  ADAM_CUDA_TRY(cudaHostAlloc(reinterpret_cast<void**>(&plan->h_groups), groups * sizeof(GroupArgs), cudaHostAllocDefault));
  std::memset(plan->h_groups, 0, groups * sizeof(GroupArgs));
  if (plan->mirror_total > 0) {
    const size_t bytes = plan->mirror_total * sizeof(float);
    std::string e = alloc(plan->mirror_total, &plan->d_param);
    if (e.empty()) e = alloc(plan->mirror_total, &plan->d_grad);
    if (!e.empty()) return e;
    ADAM_CUDA_TRY(cudaHostAlloc(reinterpret_cast<void**>(&plan->h_param), bytes, cudaHostAllocDefault));
    ADAM_CUDA_TRY(cudaHostAlloc(reinterpret_cast<void**>(&plan->h_grad), bytes, cudaHostAllocDefault));
    std::memset(plan->h_param, 0, bytes);
    std::memset(plan->h_grad, 0, bytes);
    for (size_t t = 0; t < count; ++t)
      if (plan->mirrored[t] && tensors[t].n > 0)
        std::memcpy(plan->h_param + plan->mirror_offset[t], host[t].data, tensors[t].n * sizeof(float));
    ADAM_CUDA_TRY(cudaMemcpy(plan->d_param, plan->h_param, bytes, cudaMemcpyHostToDevice));
  }

  std::vector<TensorDesc> descs(count);
  for (size_t t = 0; t < count; ++t) {
    TensorDesc& d = descs[t];
    std::memset(&d, 0, sizeof(d));
    d.n = tensors[t].n;
    d.group = tensors[t].group;
    for (uint32_t k = 0; k < slots; ++k) d.slots[k] = tensors[t].slots[k];
    if (plan->mirrored[t]) {
      d.slots[0] = plan->d_param + plan->mirror_offset[t];
      d.slots[1] = plan->d_grad + plan->mirror_offset[t];
    }
    for (uint32_t k = 0; k < slots; ++k)
      if (reinterpret_cast<uintptr_t>(d.slots[k]) % 16 != 0)
        return "plan_create: tensor " + std::to_string(t) + " slot " + std::to_string(k) + " is not 16-byte aligned";
  }
  const Chunking cut = chunk_tensors(plan->lengths, kChunk);
  if (cut.chunks.size() > UINT32_MAX) return "plan_create: too many elements for one plan";
  std::vector<ChunkDesc> chunk_list;
  chunk_list.reserve(cut.chunks.size());
  for (const Chunk& c : cut.chunks)
    chunk_list.push_back({static_cast<unsigned>(c.tensor), static_cast<unsigned long long>(c.begin)});
  plan->chunks = static_cast<uint32_t>(chunk_list.size());
  plan->grid = static_cast<unsigned>(std::min<size_t>(chunk_list.size(), size_t{1} << 30));
  if (count > 0) {
    ADAM_CUDA_TRY(cudaMalloc(&plan->tensors, count * sizeof(TensorDesc)));
    ADAM_CUDA_TRY(cudaMemcpy(plan->tensors, descs.data(), count * sizeof(TensorDesc), cudaMemcpyHostToDevice));
  }
  if (plan->chunks > 0) {
    ADAM_CUDA_TRY(cudaMalloc(&plan->chunk_table, chunk_list.size() * sizeof(ChunkDesc)));
    ADAM_CUDA_TRY(cudaMemcpy(plan->chunk_table, chunk_list.data(), chunk_list.size() * sizeof(ChunkDesc),
                             cudaMemcpyHostToDevice));
  }
  *out = plan.release();
  return "";
}

std::string plan_step(DevicePlan* plan, const float* scalars, const uint32_t* flags, const std::vector<HostPair>& host) {
  StepArgs a;
  std::string e = plan->Upload(scalars, flags, &a);
  if (!e.empty()) return e;
  const size_t bytes = plan->mirror_total * sizeof(float);
  if (bytes > 0) {
    for (size_t t = 0; t < plan->lengths.size(); ++t)
      if (plan->mirrored[t] && plan->lengths[t] > 0)
        std::memcpy(plan->h_grad + plan->mirror_offset[t], host[t].grad, plan->lengths[t] * sizeof(float));
    ADAM_CUDA_TRY(cudaMemcpyAsync(plan->d_grad, plan->h_grad, bytes, cudaMemcpyHostToDevice, plan->stream));
  }
  if (plan->chunks > 0) ADAM_CUDA_TRY(kLaunchers[plan->rule](a, plan->grid, plan->stream));
  if (bytes > 0)
    ADAM_CUDA_TRY(cudaMemcpyAsync(plan->h_param, plan->d_param, bytes, cudaMemcpyDeviceToHost, plan->stream));
  ADAM_CUDA_TRY(cudaStreamSynchronize(plan->stream));
  if (bytes > 0)
    for (size_t t = 0; t < plan->lengths.size(); ++t)
      if (plan->mirrored[t] && plan->lengths[t] > 0)
        std::memcpy(host[t].data, plan->h_param + plan->mirror_offset[t], plan->lengths[t] * sizeof(float));
  return "";
}

std::string plan_time(DevicePlan* plan, const float* scalars, const uint32_t* flags, int iters, double* ms) {
  StepArgs a;
  std::string e = plan->Upload(scalars, flags, &a);
  if (!e.empty()) return e;
  Events ev;
  ADAM_CUDA_TRY(ev.create());
  if (plan->chunks > 0) ADAM_CUDA_TRY(kLaunchers[plan->rule](a, plan->grid, plan->stream));  // warm-up
  ADAM_CUDA_TRY(cudaEventRecord(ev.start, plan->stream));
  for (int i = 0; i < iters && plan->chunks > 0; ++i) ADAM_CUDA_TRY(kLaunchers[plan->rule](a, plan->grid, plan->stream));
  ADAM_CUDA_TRY(cudaEventRecord(ev.stop, plan->stream));
  return ev.elapsed(ms);
}

void plan_destroy(DevicePlan* plan) { delete plan; }

}  // namespace gpu
}  // namespace adam
