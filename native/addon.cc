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

// One optimizer's tensors on the CPU (each with its rule's slots: param, grad, state...),
// registered once with the ISA and thread count, so a step for every tensor of every parameter
// group (each group with its own scalars and flags) is one native call.
class CpuPlan : public Float32Plan<CpuPlan> {
 public:
  // new CpuPlan(rule, arrays, groups, isa, threads): arrays holds the rule's slots per tensor
  // (null for an absent state slot); groups how many consecutive tensors each group has.
  explicit CpuPlan(const Napi::CallbackInfo& info) : Float32Plan(info) {
    Napi::Env env = info.Env();
    if (info.Length() != 5 || !info[1].IsArray())
      throw Napi::TypeError::New(env, "CpuPlan(rule, arrays, groups, isa, threads): expected 5 arguments, arrays an Array");
    Napi::Array arrays = info[1].As<Napi::Array>();
    const uint32_t total = arrays.Length();
    kernel_ = isa_kernels(ReadRule(env, info[0], info[3], info[4], total, "CpuPlan")).rules[rule_];
    ptrs_.assign(total, nullptr);
    Finish(env, ReadTensors(env, arrays, total, info[2], "CpuPlan"));
  }

 private:
  friend HostPlan;
  friend Float32Plan;

  void RunChunk(size_t tensor, float* const* slots, size_t n) const {
    const uint32_t g = group_[tensor];
    kernel_(values_.scalars(g), values_.flags(g), slots, n);
  }

  KernelFn kernel_ = nullptr;
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
  exports["Plan"] = CpuPlan::Define(env, "CpuPlan");
  exports["cpuInfo"] = Napi::Function::New(env, CpuInfo, "cpuInfo");
  exports["rules"] = Layouts(env);
  exports["flags"] = Flags(env);
  Napi::Array isas = Napi::Array::New(env, kIsaCount);
  for (uint32_t i = 0; i < kIsaCount; ++i) isas[i] = isa_name(static_cast<Isa>(i));
  exports["isas"] = isas;
  exports["allocFloat32"] = Napi::Function::New(env, AllocFloat32, "allocFloat32");
  exports["freeFloat32"] = Napi::Function::New(env, FreeFloat32, "freeFloat32");
  exports["overlappingPair"] = Napi::Function::New(env, OverlappingPair, "overlappingPair");
  exports["StreamProbe"] = StreamProbeClass(env);
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
