// The N-API layer: thin on purpose. lib/ validates and owns every option; this file unwraps typed
// arrays, re-checks what the kernels rely on (lengths, detached buffers, slot presence) and calls
// the kernel table. It never aborts on input from JavaScript: bad input throws.
#include <napi.h>

#include <array>
#include <string>
#include <vector>

#include "cuda_addon.h"
#include "grad_ops.h"
#include "kernels/dispatch.h"
#include "memory.h"
#include "napi_args.h"
#include "parallel.h"
#include "stream_probe.h"
#include "tracked_arrays.h"

namespace adam {
namespace {

constexpr uint32_t kMaxSlots = 8;
constexpr uint32_t kMaxScalars = 16;
constexpr size_t kChunk = kChunkElements;

const char* const kIsaNames[kIsaCount] = {"sse2", "avx2", "avx512"};

// A step plan: one optimizer's tensors (each with `slots` Float32Arrays: param, grad, state...),
// registered once, so a step for any number of tensors, in any number of parameter groups (each
// with its own scalars and flags), is one native call.
class Plan : public Napi::ObjectWrap<Plan> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Plan",
                       {InstanceMethod<&Plan::Step>("step"), InstanceMethod<&Plan::StepAsync>("stepAsync"),
                        InstanceAccessor<&Plan::Busy>("busy")});
  }

  // new Plan(rule, slots, arrays, groups?): arrays.length == tensors*slots, null for an absent
  // state slot; groups: how many consecutive tensors each parameter group has (default: one group).
  explicit Plan(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Plan>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || info.Length() > 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsArray() ||
        (info.Length() == 4 && !info[3].IsArray()))
      throw Napi::TypeError::New(env, "Plan(rule, slots, arrays, groups?): expected (number, number, Array, Array?)");
    uint32_t rule = info[0].As<Napi::Number>().Uint32Value();
    if (rule >= kRuleCount) throw Napi::RangeError::New(env, "Plan: unknown rule " + std::to_string(rule));
    rule_ = static_cast<RuleId>(rule);
    slots_ = info[1].As<Napi::Number>().Uint32Value();
    if (slots_ != kRuleLayouts[rule_].slots)
      throw Napi::RangeError::New(env, std::string("Plan: rule ") + kRuleLayouts[rule_].name + " has " +
                                           std::to_string(kRuleLayouts[rule_].slots) + " slots");
    Napi::Array arrays = info[2].As<Napi::Array>();
    uint32_t total = arrays.Length();
    if (total % slots_ != 0) throw Napi::RangeError::New(env, "Plan: arrays.length is not a multiple of slots");
    tensors_ = total / slots_;
    lengths_.resize(tensors_);
    ptrs_.assign(total, nullptr);
    AssignGroups(env, info.Length() == 4 ? info[3].As<Napi::Array>() : Napi::Array());
    present_.assign(groups_, (1u << slots_) - 1u);
    for (size_t t = 0; t < tensors_; ++t) {
      uint32_t here = 0;
      for (uint32_t k = 0; k < slots_; ++k) {
        Napi::Value v = arrays[static_cast<uint32_t>(t * slots_ + k)];
        if (v.IsNull() || v.IsUndefined()) continue;
        size_t length = 0;
        float* data = arrays_.Add(env, v, t * slots_ + k, Where(t, k), &length);
        if (here == 0) lengths_[t] = length;
        else if (length != lengths_[t]) throw Napi::RangeError::New(env, Where(t, k) + " has a different length");
        here |= 1u << k;
        ptrs_[t * slots_ + k] = data;
      }
      present_[group_[t]] &= here;
    }
    for (size_t t = 0; t < tensors_; ++t)
      for (size_t begin = 0; begin < lengths_[t]; begin += kChunk)
        chunks_.push_back({t, begin, std::min(lengths_[t], begin + kChunk)});
    // Jobs: runs of consecutive chunks of at least kChunk elements in all (small tensors group).
    size_t first = 0, elements = 0;
    for (size_t c = 0; c < chunks_.size(); ++c) {
      elements += chunks_[c].end - chunks_[c].begin;
      if (elements >= kChunk || c + 1 == chunks_.size()) {
        jobs_.push_back({first, c + 1});
        first = c + 1;
        elements = 0;
      }
    }
  }

 private:
  struct Chunk {
    size_t tensor, begin, end;
  };
  struct Job {
    size_t first, last;  // chunk range [first, last)
  };

  // Which group each tensor belongs to; the groups' sizes must add up to the tensor count.
  void AssignGroups(Napi::Env env, Napi::Array sizes) {
    group_.assign(tensors_, 0);
    groups_ = sizes.IsEmpty() ? 1 : sizes.Length();
    if (groups_ == 0) throw Napi::RangeError::New(env, "Plan: groups is empty");
    if (!sizes.IsEmpty()) {
      size_t t = 0;
      for (uint32_t g = 0; g < groups_; ++g) {
        Napi::Value v = sizes[g];
        double n = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
        if (!(n >= 0) || n != static_cast<double>(static_cast<size_t>(n)) || t + static_cast<size_t>(n) > tensors_)
          throw Napi::RangeError::New(env, "Plan: groups[" + std::to_string(g) + "] is not a tensor count that fits");
        for (size_t end = t + static_cast<size_t>(n); t < end; ++t) group_[t] = g;
      }
      if (t != tensors_) throw Napi::RangeError::New(env, "Plan: the groups' sizes do not add up to the tensor count");
    }
    scalars_.assign(static_cast<size_t>(groups_) * kMaxScalars, 0.0f);
    flags_.assign(groups_, 0);
  }

  std::string Where(size_t t, uint32_t k) const {
    return "tensor " + std::to_string(t) + " slot " + std::to_string(k);
  }

  // Checks the call and copies the scalars; shared by step and stepAsync.
  void Prepare(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (busy_) throw Napi::Error::New(env, "a step is already in flight on this optimizer");
    if (info.Length() != 4 || !info[0].IsNumber() || !info[1].IsTypedArray() ||
        !(info[2].IsNumber() || info[2].IsTypedArray()) || !info[3].IsNumber())
      throw Napi::TypeError::New(env,
                                 "step(isa, scalars, flags, threads): expected (number, Float32Array, number or "
                                 "Uint32Array, number)");
    Isa isa = RequireIsa(env, info[0], "step");
    const uint32_t per_group = kRuleLayouts[rule_].scalars;
    Napi::TypedArray scalars = info[1].As<Napi::TypedArray>();
    if (scalars.TypedArrayType() != napi_float32_array || scalars.ElementLength() != size_t{per_group} * groups_)
      throw Napi::TypeError::New(env, std::string("step: rule ") + kRuleLayouts[rule_].name + " takes " +
                                          std::to_string(per_group) + " float32 scalars per group (" +
                                          std::to_string(groups_) + " groups)");
    // Flags: one number (a plan of one group), or one per group in a Uint32Array.
    std::vector<uint32_t>& flags = pending_flags_;
    flags.assign(groups_, 0);
    if (info[2].IsNumber()) {
      if (groups_ != 1) throw Napi::TypeError::New(env, "step: a plan of several groups takes a Uint32Array of flags");
      flags[0] = info[2].As<Napi::Number>().Uint32Value();
    } else {
      Napi::TypedArray f = info[2].As<Napi::TypedArray>();
      if (f.TypedArrayType() != napi_uint32_array || f.ElementLength() != groups_)
        throw Napi::TypeError::New(env, "step: flags must be a Uint32Array of one entry per group");
      const uint32_t* data = f.As<Napi::Uint32Array>().Data();
      std::copy(data, data + groups_, flags.begin());
    }
    for (uint32_t g = 0; g < groups_; ++g) {
      uint32_t required = required_slots(rule_, flags[g]);
      if ((present_[g] & required) != required)
        throw Napi::Error::New(env, "step: a state slot the options of group " + std::to_string(g) +
                                        " need was not given to the plan");
    }
    const float* s = scalars.As<Napi::Float32Array>().Data();
    arrays_.Check(env, ptrs_.data());  // a detached or shrunk buffer throws, never a stale write
    // Everything checked: now take the call's values.
    threads_ = ThreadCount(info[3]);
    for (uint32_t g = 0; g < groups_; ++g) std::copy(s + g * per_group, s + (g + 1) * per_group, &scalars_[g * kMaxScalars]);
    flags_.swap(flags);
    kernel_ = kernel_table(isa).rules[rule_];
  }

  static void RunJob(void* ctx, size_t j) {
    const Plan* self = static_cast<const Plan*>(ctx);
    float* slots[kMaxSlots];
    for (size_t c = self->jobs_[j].first; c < self->jobs_[j].last; ++c) {
      const Chunk& chunk = self->chunks_[c];
      float* const* base = &self->ptrs_[chunk.tensor * self->slots_];
      for (uint32_t k = 0; k < self->slots_; ++k) slots[k] = base[k] ? base[k] + chunk.begin : nullptr;
      const uint32_t g = self->group_[chunk.tensor];
      self->kernel_(&self->scalars_[g * kMaxScalars], self->flags_[g], slots, chunk.end - chunk.begin);
    }
  }

  void Run() { parallel_for(threads_, jobs_.size(), &Plan::RunJob, this); }

  Napi::Value Step(const Napi::CallbackInfo& info) {
    Prepare(info);
    Run();
    return info.Env().Undefined();
  }

  class StepWorker : public Napi::AsyncWorker {
   public:
    StepWorker(Napi::Env env, Plan* plan)
        : Napi::AsyncWorker(env, "adam-native:step"), plan_(plan), deferred_(Napi::Promise::Deferred::New(env)) {
      self_ = Napi::Persistent(plan->Value());  // keeps the plan, and through it every array, alive
    }
    Napi::Promise Promise() { return deferred_.Promise(); }
    void Execute() override { plan_->Run(); }
    void OnOK() override {
      plan_->busy_ = false;
      deferred_.Resolve(Env().Undefined());
    }
    void OnError(const Napi::Error& e) override {
      plan_->busy_ = false;
      deferred_.Reject(e.Value());
    }

   private:
    Plan* plan_;
    Napi::Promise::Deferred deferred_;
    Napi::ObjectReference self_;
  };

  Napi::Value StepAsync(const Napi::CallbackInfo& info) {
    Prepare(info);
    auto* worker = new StepWorker(info.Env(), this);
    busy_ = true;
    worker->Queue();
    return worker->Promise();
  }

  Napi::Value Busy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), busy_); }

  RuleId rule_ = kRuleCount;
  uint32_t slots_ = 0, groups_ = 1;
  unsigned threads_ = 1;
  size_t tensors_ = 0;
  std::vector<uint32_t> group_;     // per tensor: its group
  std::vector<uint32_t> present_;   // per group: the slots every tensor of it has
  std::vector<uint32_t> flags_;     // per group, for the step being run
  std::vector<uint32_t> pending_flags_;  // the call's flags while they are checked (swapped in)
  TrackedArrays arrays_;  // keeps every array alive and re-validates them before each step
  std::vector<size_t> lengths_;
  std::vector<float*> ptrs_;
  std::vector<Chunk> chunks_;
  std::vector<Job> jobs_;
  std::vector<float> scalars_;  // kMaxScalars per group
  KernelFn kernel_ = nullptr;
  bool busy_ = false;
};

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array isas = Napi::Array::New(env);
  uint32_t n = 0;
  for (uint32_t i = 0; i < kIsaCount; ++i)
    if (isa_supported(static_cast<Isa>(i))) isas[n++] = kIsaNames[i];
  out["supported"] = isas;
  out["best"] = kIsaNames[best_isa()];
  out["threads"] = hardware_threads();
  return out;
}

Napi::Value Layouts(Napi::Env env) {
  Napi::Object rules = Napi::Object::New(env);
  for (uint32_t r = 0; r < kRuleCount; ++r) {
    Napi::Object layout = Napi::Object::New(env);
    layout["id"] = r;
    layout["slots"] = kRuleLayouts[r].slots;
    layout["scalars"] = kRuleLayouts[r].scalars;
    rules[kRuleLayouts[r].name] = layout;
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
  exports["Plan"] = Plan::Define(env);
  exports["cpuInfo"] = Napi::Function::New(env, CpuInfo, "cpuInfo");
  exports["rules"] = Layouts(env);
  exports["flags"] = Flags(env);
  exports["isas"] = Napi::Array::New(env);
  Napi::Array isas = exports.Get("isas").As<Napi::Array>();
  for (uint32_t i = 0; i < kIsaCount; ++i) isas[i] = kIsaNames[i];
  exports["allocFloat32"] = Napi::Function::New(env, AllocFloat32, "allocFloat32");
  exports["freeFloat32"] = Napi::Function::New(env, FreeFloat32, "freeFloat32");
  exports["streamProbe"] = Napi::Function::New(env, StreamProbe, "streamProbe");
  RegisterGradOps(env, exports);
  exports["cuda"] = CudaExports(env);
  return exports;
}

}  // namespace
}  // namespace adam

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return adam::Init(env, exports); }

NODE_API_MODULE(adam_native, InitModule)
