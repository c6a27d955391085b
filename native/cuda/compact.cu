// Compact storage on the GPU: every rule of ADAM_RULE_LIST over bf16/fp16/8-bit slots and
// half-precision parameters, through compact_block.h's host+device functions (the ones
// compact_host.cc runs on the CPU). One CUDA block of 256 threads per 256-element block of a
// tensor, one thread per element: widen and run the rule, the block's absmax by an integer max of
// the bits (exact in any order), then narrow. The 8-bit maps' tables sit in shared memory. Built
// with multi_tensor.cu's flags (--fmad=false, IEEE division and sqrt): the CPU's bits.
//
// Host arrays are mirrored: uploaded when the plan is made, the grads again before each step, and
// every other mirrored array downloaded after it, so lib reads state dicts from the host arrays.
#include <cuda_runtime.h>
#include <math.h>
#include <string.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "gpu.h"

#define ADAM_HD __host__ __device__
#include "../kernels/sr_hash.h"
namespace adam {
namespace cuda_compact {
#include "../kernels/vec_scalar.h"
#include "../kernels/rules.h"
#include "../kernels/convert.h"
#include "../kernels/stochastic.h"
#include "compact_block.h"
}  // namespace cuda_compact
#undef ADAM_HD

namespace gpu {
namespace {

using cuda_compact::Q8Tables;
constexpr int kThreads = 256;
static_assert(kCompactBlock == kThreads, "one thread per element of a compact block");
constexpr size_t kMirrorAlign = 256;  // bytes

struct GroupArgs {
  float s[kMaxScalars];
  uint32_t flags;
};

struct BlockRef {
  uint32_t tensor;
  unsigned long long begin;
};

struct StepArgs {
  uint32_t blocks;
  const BlockRef* block_table;
  const CompactTensor* tensors;
  const GroupArgs* groups;
  const float* maps;  // signed values, unsigned values, signed above, unsigned above: 256 each
  uint32_t zero[2];
  uint32_t seed, step;
};

template <class Rule>
__global__ void __launch_bounds__(kThreads) compact_step(const StepArgs a) {
  using namespace cuda_compact;
  __shared__ float tables[4 * 256];
  __shared__ uint32_t top[kMaxSlots];
  for (int k = threadIdx.x; k < 4 * 256; k += kThreads) tables[k] = a.maps[k];
  const Q8Tables maps = {{tables, tables + 256}, {tables + 512, tables + 768}, {a.zero[0], a.zero[1]}};
  const unsigned lane = threadIdx.x % 32;
  for (uint32_t b = blockIdx.x; b < a.blocks; b += gridDim.x) {
    const BlockRef ref = a.block_table[b];
    const CompactTensor& t = a.tensors[ref.tensor];
    const GroupArgs& g = a.groups[t.group];
    float s[Rule::kScalars];
#pragma unroll
    for (int j = 0; j < Rule::kScalars; ++j) s[j] = g.s[j];
    const uint32_t flags = g.flags;
    const uint32_t q8 = compact_q8_written<Rule>(flags, t);
    if (threadIdx.x < kMaxSlots) top[threadIdx.x] = 0;
    __syncthreads();  // the tables (first pass) and top are set; the previous block's reads are done
    const unsigned long long i = ref.begin + threadIdx.x;
    const bool live = i < t.n;
    float x[Rule::kSlots] = {};
    if (live) compact_update<Rule>(s, flags, t, maps, i, x);
    for (int j = 0; j < Rule::kSlots; ++j) {
      if (!((q8 >> j) & 1u)) continue;  // the same for the whole block
      uint32_t m = live ? q8_abs_bits(x[j]) : 0u;
      for (int d = 16; d >= 1; d >>= 1) m = max(m, __shfl_xor_sync(0xffffffffu, m, d));
      if (lane == 0) atomicMax(&top[j], m);
    }
    __syncthreads();
    const uint32_t key = t.sr ? sr_key(a.seed, a.step, t.index) : 0u;
    if (live) compact_write<Rule>(flags, t, maps, i, x, top, key);
    if (threadIdx.x == 0) compact_store_absmax<Rule>(q8, t, ref.begin, top);
    __syncthreads();  // top is read above before the next block resets it
  }
}

using Launcher = cudaError_t (*)(const StepArgs&, unsigned grid, cudaStream_t stream);

template <class Rule>
cudaError_t launch(const StepArgs& a, unsigned grid, cudaStream_t stream) {
  compact_step<Rule><<<grid, kThreads, 0, stream>>>(a);
  return cudaGetLastError();
}

#define ADAM_CUDA_COMPACT_LAUNCHER(name, Rule) &launch<cuda_compact::Rule>,
const Launcher kLaunchers[kRuleCount] = {ADAM_RULE_LIST(ADAM_CUDA_COMPACT_LAUNCHER)};
#undef ADAM_CUDA_COMPACT_LAUNCHER

size_t element_bytes(uint32_t storage) { return storage == kStoreF32 ? 4 : storage <= kStoreF16 ? 2 : 1; }

}  // namespace

class CompactDevicePlan {
 public:
  struct Mirror {
    void* host;
    size_t offset;  // in the arena
    size_t bytes;
    bool grad;  // uploaded before each step; the others are downloaded after it
  };
  RuleId rule = kRuleCount;
  uint32_t groups = 0;
  uint32_t seed = 0;
  cudaStream_t stream = nullptr;
  CompactTensor* tensors = nullptr;  // device tables
  BlockRef* block_table = nullptr;
  GroupArgs* d_groups = nullptr;
  float* maps = nullptr;
  std::vector<GroupArgs> h_groups;
  uint32_t blocks = 0;
  unsigned grid = 0;
  uint32_t zero[2] = {0, 0};
  std::vector<Mirror> mirrors;
  char* arena = nullptr;

  ~CompactDevicePlan() {
    if (stream) cudaStreamSynchronize(stream);
    cudaFree(tensors);
    cudaFree(block_table);
    cudaFree(d_groups);
    cudaFree(maps);
    cudaFree(arena);
    if (stream) cudaStreamDestroy(stream);
  }

  // Records a host array to mirror and returns its offset in the arena to come.
  size_t AddMirror(void* host, size_t bytes, bool grad, size_t* total) {
    const size_t at = *total;
    mirrors.push_back({host, at, bytes, grad});
    *total += (bytes + kMirrorAlign - 1) / kMirrorAlign * kMirrorAlign;
    return at;
  }
};

std::string compact_plan_create(RuleId rule, uint32_t groups, const std::vector<CompactTensor>& tensors,
                                const std::vector<uint32_t>& host_slots, uint32_t seed, CompactDevicePlan** out) {
  *out = nullptr;
  if (rule >= kRuleCount || groups == 0 || host_slots.size() != tensors.size())
    return "compact_plan_create: bad rule, groups or host slots";
  auto plan = std::make_unique<CompactDevicePlan>();
  plan->rule = rule;
  plan->groups = groups;
  plan->seed = seed;
  plan->h_groups.assign(groups, GroupArgs{});
  const uint32_t slots = kRuleLayouts[rule].slots;
  // Where each mirrored pointer goes: the arena's offsets, patched in once the arena exists.
  std::vector<CompactTensor> descs = tensors;
  struct Patch {
    void** at;
    float** absmax;  // or this one
    size_t offset;
  };
  std::vector<Patch> patches;
  size_t total = 0;
  for (size_t t = 0; t < descs.size(); ++t) {
    CompactTensor& d = descs[t];
    if (d.group >= groups) return "compact_plan_create: tensor " + std::to_string(t) + " has no group";
    const size_t blocks = (d.n + kCompactBlock - 1) / kCompactBlock;
    for (uint32_t k = 0; k < slots; ++k) {
      if (!d.data[k] || !((host_slots[t] >> k) & 1u)) continue;
      patches.push_back({&d.data[k], nullptr, plan->AddMirror(d.data[k], d.n * element_bytes(d.storage[k]), k == 1, &total)});
      if (d.absmax[k])
        patches.push_back({nullptr, &d.absmax[k], plan->AddMirror(d.absmax[k], blocks * sizeof(float), false, &total)});
    }
    if (d.mirror) patches.push_back({&d.mirror, nullptr, plan->AddMirror(d.mirror, d.n * 2, false, &total)});
  }
  ADAM_CUDA_TRY(cudaStreamCreateWithFlags(&plan->stream, cudaStreamDefault));
  ADAM_CUDA_TRY(cudaMalloc(&plan->d_groups, groups * sizeof(GroupArgs)));
  if (total > 0) ADAM_CUDA_TRY(cudaMalloc(&plan->arena, total));
  for (const Patch& p : patches) {
    if (p.at) *p.at = plan->arena + p.offset;
    else *p.absmax = reinterpret_cast<float*>(plan->arena + p.offset);
  }
  for (const CompactDevicePlan::Mirror& m : plan->mirrors)
    if (m.bytes > 0) ADAM_CUDA_TRY(cudaMemcpy(plan->arena + m.offset, m.host, m.bytes, cudaMemcpyHostToDevice));

  // The maps: values then `above`, signed then unsigned (StepArgs::maps).
  const Quant8Map &sign = quant8_map(true), &unsign = quant8_map(false);
  std::vector<float> maps(4 * 256);
  std::copy(sign.values, sign.values + 256, maps.begin());
  std::copy(unsign.values, unsign.values + 256, maps.begin() + 256);
  std::copy(sign.above, sign.above + 256, maps.begin() + 512);
  std::copy(unsign.above, unsign.above + 256, maps.begin() + 768);
  plan->zero[0] = sign.zero;
  plan->zero[1] = unsign.zero;
  ADAM_CUDA_TRY(cudaMalloc(&plan->maps, maps.size() * sizeof(float)));
  ADAM_CUDA_TRY(cudaMemcpy(plan->maps, maps.data(), maps.size() * sizeof(float), cudaMemcpyHostToDevice));

  std::vector<BlockRef> refs;
  for (size_t t = 0; t < descs.size(); ++t)
    for (unsigned long long begin = 0; begin < descs[t].n; begin += kCompactBlock) refs.push_back({static_cast<uint32_t>(t), begin});
  if (refs.size() > UINT32_MAX) return "compact_plan_create: too many elements for one plan";
  plan->blocks = static_cast<uint32_t>(refs.size());
  int device = 0, sms = 1;
  ADAM_CUDA_TRY(cudaGetDevice(&device));
  ADAM_CUDA_TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  // Eight blocks of 256 threads fill an SM; each loops over blocks, loading the maps once.
  plan->grid = static_cast<unsigned>(std::min<size_t>(refs.size(), size_t(sms) * 8));
  if (!descs.empty()) {
    ADAM_CUDA_TRY(cudaMalloc(&plan->tensors, descs.size() * sizeof(CompactTensor)));
    ADAM_CUDA_TRY(cudaMemcpy(plan->tensors, descs.data(), descs.size() * sizeof(CompactTensor), cudaMemcpyHostToDevice));
  }
  if (!refs.empty()) {
    ADAM_CUDA_TRY(cudaMalloc(&plan->block_table, refs.size() * sizeof(BlockRef)));
    ADAM_CUDA_TRY(cudaMemcpy(plan->block_table, refs.data(), refs.size() * sizeof(BlockRef), cudaMemcpyHostToDevice));
  }
  *out = plan.release();
  return "";
}

std::string compact_plan_step(CompactDevicePlan* plan, const float* scalars, const uint32_t* flags, uint32_t step) {
  for (uint32_t g = 0; g < plan->groups; ++g) {
    std::copy(scalars + size_t{g} * kMaxScalars, scalars + size_t{g + 1} * kMaxScalars, plan->h_groups[g].s);
    plan->h_groups[g].flags = flags[g];
  }
  // Pageable copies on the plan's stream: each returns once its source may be reused.
  ADAM_CUDA_TRY(cudaMemcpyAsync(plan->d_groups, plan->h_groups.data(), plan->groups * sizeof(GroupArgs),
                                cudaMemcpyHostToDevice, plan->stream));
  for (const CompactDevicePlan::Mirror& m : plan->mirrors)
    if (m.grad && m.bytes > 0)
      ADAM_CUDA_TRY(cudaMemcpyAsync(plan->arena + m.offset, m.host, m.bytes, cudaMemcpyHostToDevice, plan->stream));
  if (plan->blocks > 0) {
    StepArgs a{plan->blocks, plan->block_table, plan->tensors, plan->d_groups, plan->maps, {plan->zero[0], plan->zero[1]}, plan->seed, step};
    ADAM_CUDA_TRY(kLaunchers[plan->rule](a, plan->grid, plan->stream));
  }
  for (const CompactDevicePlan::Mirror& m : plan->mirrors)
    if (!m.grad && m.bytes > 0)
      ADAM_CUDA_TRY(cudaMemcpyAsync(m.host, plan->arena + m.offset, m.bytes, cudaMemcpyDeviceToHost, plan->stream));
  ADAM_CUDA_TRY(cudaStreamSynchronize(plan->stream));
  return "";
}

void compact_plan_destroy(CompactDevicePlan* plan) { delete plan; }

}  // namespace gpu
}  // namespace adam
