// The N-API layer: thin on purpose. lib/ validates and owns every option; this file unwraps typed
// arrays, re-checks what the kernels rely on (lengths, detached, resizable and overlapping buffers,
// slot presence) and calls the kernel table. It never aborts on input from JavaScript: bad input
// throws.
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "compact_plan.h"
#include "crc32c.h"
#include "cuda_addon.h"
#include "grad_ops.h"
#include "kernels/dispatch.h"
#include "memory.h"
#include "parallel.h"
#include "plan_common.h"
#include "sparse_rows.h"
#include "stream_probe.h"
#include "tracked_arrays.h"

namespace adam {
namespace {

constexpr size_t kFloatsPerLine = 16;   // 64-byte cache lines
constexpr size_t kPrefetchHead = 1024;  // elements of a jumped-to array fetched ahead: 4 KiB, a page
constexpr uintptr_t kStreamGap = 256;   // bytes skipped that still count as one stream

// One optimizer's tensors on the CPU (each with its rule's slots: param, grad, state...),
// registered once with the ISA and thread count, so a step for every tensor of every parameter
// group (each group with its own scalars and flags) is one native call.
class CpuPlan : public Napi::ObjectWrap<CpuPlan> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "CpuPlan",
                       {InstanceMethod<&CpuPlan::Step>("step"), InstanceMethod<&CpuPlan::StepAsync>("stepAsync"),
                        InstanceAccessor<&CpuPlan::Busy>("busy")});
  }

  // new CpuPlan(rule, arrays, groups, isa, threads): arrays holds the rule's slots per tensor
  // (null for an absent state slot); groups how many consecutive tensors each group has.
  explicit CpuPlan(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CpuPlan>(info) {
    Napi::Env env = info.Env();
    const char* who = "CpuPlan";
    if (info.Length() != 5 || !info[1].IsArray())
      throw Napi::TypeError::New(env, "CpuPlan(rule, arrays, groups, isa, threads): expected 5 arguments, arrays an Array");
    rule_ = RequireRule(env, info[0], who);
    kernel_ = isa_kernels(RequireIsa(env, info[3], who)).rules[rule_];
    threads_ = ThreadCount(env, info[4], who);
    slots_ = kRuleLayouts[rule_].slots;
    Napi::Array arrays = info[1].As<Napi::Array>();
    const uint32_t total = arrays.Length();
    if (total % slots_ != 0)
      throw Napi::RangeError::New(env, std::string("CpuPlan: arrays.length is not a multiple of rule ") +
                                           kRuleLayouts[rule_].name + "'s " + std::to_string(slots_) + " slots");
    const size_t tensors = total / slots_;
    uint32_t groups = 1;
    group_ = GroupOfTensors(env, info[2], tensors, who, &groups);
    present_.assign(groups, (1u << slots_) - 1u);
    std::vector<size_t> lengths(tensors, 0);
    ptrs_.assign(total, nullptr);
    for (size_t t = 0; t < tensors; ++t) {
      uint32_t here = 0;
      for (uint32_t k = 0; k < slots_; ++k) {
        Napi::Value v = arrays[static_cast<uint32_t>(t * slots_ + k)];
        if (v.IsNull() || v.IsUndefined()) continue;
        size_t length = 0;
        ptrs_[t * slots_ + k] = arrays_.Add(env, v, Where(t, k), &length);
        if (here == 0) lengths[t] = length;
        else if (length != lengths[t]) throw Napi::RangeError::New(env, Where(t, k) + " has a different length");
        here |= 1u << k;
      }
      if ((here & 3u) != 3u) throw Napi::TypeError::New(env, "CpuPlan: tensor " + std::to_string(t) + " needs a param and a grad");
      present_[group_[t]] &= here;
    }
    arrays_.CheckOverlap(env);
    chunking_ = chunk_tensors(lengths);
    values_.Init(rule_, groups);
  }

  // The plan's part of AsyncStep (plan_common.h).
  BusyFlag busy_;
  void RunStep() { parallel_for(threads_, chunking_.jobs(), &CpuPlan::RunJob, this); }
  void StepSettled() { arrays_.Hold(false); }

 private:
  std::string Where(size_t t, uint32_t k) const {
    return "tensor " + std::to_string(t) + " slot " + std::to_string(k) + " (" + kRuleLayouts[rule_].slot_names[k] + ")";
  }

  // step(scalars, flags): checks the call and the arrays, then takes the call's values.
  void Prepare(const Napi::CallbackInfo& info, const char* who) {
    Napi::Env env = info.Env();
    busy_.ThrowIfBusy(env);
    if (info.Length() != 2)
      throw Napi::TypeError::New(env, std::string(who) + "(scalars, flags): expected (Float32Array, Uint32Array)");
    arrays_.Check(env);  // a detached buffer throws, never a stale write
    values_.Read(env, info[0], info[1], present_, who);
  }

  static void RunJob(void* ctx, size_t j) {
    const CpuPlan* self = static_cast<const CpuPlan*>(ctx);
    const Chunking& c = self->chunking_;
    float* slots[kMaxSlots];
    const size_t last = c.job_starts[j + 1];
    for (size_t i = c.job_starts[j]; i < last; ++i) {
      const Chunk& chunk = c.chunks[i];
      float* const* base = &self->ptrs_[chunk.tensor * self->slots_];
      for (uint32_t k = 0; k < self->slots_; ++k) slots[k] = base[k] ? base[k] + chunk.begin : nullptr;
      const size_t n = chunk.end - chunk.begin;
      if (i + 1 < last) self->PrefetchJumps(c.chunks[i + 1], slots, n);
      const uint32_t g = self->group_[chunk.tensor];
      self->kernel_(self->values_.scalars(g), self->values_.flags(g), slots, n);
    }
  }

  // The hardware prefetcher follows each array's stream from chunk to chunk. Where the next
  // chunk's array does not continue this chunk's (separately allocated tensors), its first lines
  // are fetched while this chunk runs. Contiguous streams (one tensor, views of one buffer, the
  // state arenas) get no software prefetch: there it only competed with the hardware's.
  void PrefetchJumps(const Chunk& next, float* const* current, size_t n) const {
    float* const* base = &ptrs_[next.tensor * slots_];
    const size_t head = std::min<size_t>(next.end - next.begin, kPrefetchHead);
    for (uint32_t k = 0; k < slots_; ++k) {
      if (!base[k]) continue;
      const float* start = base[k] + next.begin;
      if (current[k]) {  // continues within a few lines (the arenas' 64-byte padding): the stream goes on
        const uintptr_t end = reinterpret_cast<uintptr_t>(current[k] + n), at = reinterpret_cast<uintptr_t>(start);
        if (at >= end && at - end <= kStreamGap) continue;
      }
      for (size_t e = 0; e < head; e += kFloatsPerLine) __builtin_prefetch(start + e, 0, 3);
    }
  }

  Napi::Value Step(const Napi::CallbackInfo& info) {
    Prepare(info, "step");
    RunStep();
    return info.Env().Undefined();
  }

  Napi::Value StepAsync(const Napi::CallbackInfo& info) {
    Prepare(info, "stepAsync");
    arrays_.Hold(true);
    try {
      return AsyncStep<CpuPlan>::Start(info.Env(), this, Value(), "adam-native:step");
    } catch (...) {
      arrays_.Hold(false);
      throw;
    }
  }

  Napi::Value Busy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), busy_.busy()); }

  RuleId rule_ = kRuleCount;
  uint32_t slots_ = 0;
  unsigned threads_ = 1;
  KernelFn kernel_ = nullptr;
  std::vector<uint32_t> group_;    // per tensor: its group
  std::vector<uint32_t> present_;  // per group: the slots every tensor of it has
  TrackedArrays arrays_;           // re-checks every array before each step; holds them during a stepAsync
  std::vector<float*> ptrs_;       // per tensor and slot
  Chunking chunking_;
  StepValues values_;
};

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array isas = Napi::Array::New(env);
  uint32_t n = 0;
  for (uint32_t i = 0; i < kIsaCount; ++i)
    if (isa_supported(static_cast<Isa>(i))) isas[n++] = isa_name(static_cast<Isa>(i));
  out["supported"] = isas;
  out["best"] = isa_name(best_isa());
  out["threads"] = hardware_threads();
  return out;
}

Napi::Array Names(Napi::Env env, const char* const* names, uint32_t count) {
  Napi::Array out = Napi::Array::New(env, count);
  for (uint32_t i = 0; i < count; ++i) out[i] = names[i];
  return out;
}

Napi::Value Layouts(Napi::Env env) {
  Napi::Object rules = Napi::Object::New(env);
  for (uint32_t r = 0; r < kRuleCount; ++r) {
    const RuleLayout& l = kRuleLayouts[r];
    Napi::Object layout = Napi::Object::New(env);
    layout["id"] = r;
    layout["slots"] = Names(env, l.slot_names, l.slots);
    layout["scalars"] = Names(env, l.scalar_names, l.scalars);
    rules[l.name] = layout;
  }
  return rules;
}

Napi::Value Flags(Napi::Env env) {
  Napi::Object flags = Napi::Object::New(env);
#define ADAM_FLAG_ENTRY(name, bit) flags[#name] = static_cast<uint32_t>(bit);
  ADAM_FLAG_LIST(ADAM_FLAG_ENTRY)
#undef ADAM_FLAG_ENTRY
  return flags;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitTrackedArrays(env);
  exports["Plan"] = CpuPlan::Define(env);
  exports["cpuInfo"] = Napi::Function::New(env, CpuInfo, "cpuInfo");
  exports["rules"] = Layouts(env);
  exports["flags"] = Flags(env);
  Napi::Array isas = Napi::Array::New(env, kIsaCount);
  for (uint32_t i = 0; i < kIsaCount; ++i) isas[i] = isa_name(static_cast<Isa>(i));
  exports["isas"] = isas;
  exports["allocFloat32"] = Napi::Function::New(env, AllocFloat32, "allocFloat32");
  exports["freeFloat32"] = Napi::Function::New(env, FreeFloat32, "freeFloat32");
  exports["overlappingPair"] = Napi::Function::New(env, OverlappingPair, "overlappingPair");
  exports["streamProbe"] = Napi::Function::New(env, StreamProbe, "streamProbe");
  exports["crc32c"] = Napi::Function::New(env, Crc32cBinding, "crc32c");
  RegisterGradOps(env, exports);
  RegisterSparseRows(env, exports);
  RegisterCompactPlan(env, exports);
  exports["cuda"] = CudaExports(env);
  return exports;
}

}  // namespace
}  // namespace adam

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return adam::Init(env, exports); }

NODE_API_MODULE(adam_native, InitModule)
