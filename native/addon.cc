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
// registered once, so a step for any number of tensors is one native call.
class Plan : public Napi::ObjectWrap<Plan> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Plan",
                       {InstanceMethod<&Plan::Step>("step"), InstanceMethod<&Plan::StepAsync>("stepAsync"),
                        InstanceAccessor<&Plan::Busy>("busy")});
  }

  // new Plan(rule, slots, arrays): arrays.length == tensors*slots, null for an absent state slot.
  explicit Plan(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Plan>(info) {
    Napi::Env env = info.Env();
    if (info.Length() != 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsArray())
      throw Napi::TypeError::New(env, "Plan(rule, slots, arrays): expected (number, number, Array)");
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
    present_ = (1u << slots_) - 1u;
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
      present_ &= here;
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

  std::string Where(size_t t, uint32_t k) const {
    return "tensor " + std::to_string(t) + " slot " + std::to_string(k);
  }

  // Checks the call and copies the scalars; shared by step and stepAsync.
  void Prepare(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (busy_) throw Napi::Error::New(env, "a step is already in flight on this optimizer");
    if (info.Length() != 4 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsNumber() ||
        !info[3].IsNumber())
      throw Napi::TypeError::New(env, "step(isa, scalars, flags, threads): expected (number, Float32Array, number, number)");
    uint32_t isa = info[0].As<Napi::Number>().Uint32Value();
    if (isa >= kIsaCount || !isa_supported(static_cast<Isa>(isa)))
      throw Napi::RangeError::New(env, "step: this CPU cannot run isa " + std::to_string(isa));
    Napi::TypedArray scalars = info[1].As<Napi::TypedArray>();
    if (scalars.TypedArrayType() != napi_float32_array || scalars.ElementLength() != kRuleLayouts[rule_].scalars)
      throw Napi::TypeError::New(env, std::string("step: rule ") + kRuleLayouts[rule_].name + " takes " +
                                          std::to_string(kRuleLayouts[rule_].scalars) + " float32 scalars");
    flags_ = info[2].As<Napi::Number>().Uint32Value();
    uint32_t required = required_slots(rule_, flags_);
    if ((present_ & required) != required)
      throw Napi::Error::New(env, "step: a state slot these options need was not given to the plan");
    double threads = info[3].As<Napi::Number>().DoubleValue();
    threads_ = threads >= 1 && threads <= 1024 ? static_cast<unsigned>(threads) : hardware_threads();
    const float* s = scalars.As<Napi::Float32Array>().Data();
    std::copy(s, s + kRuleLayouts[rule_].scalars, scalars_.begin());
    kernel_ = kernel_table(static_cast<Isa>(isa)).rules[rule_];
    arrays_.Check(env, ptrs_.data());  // a detached or shrunk buffer throws, never a stale write
  }

  static void RunJob(void* ctx, size_t j) {
    const Plan* self = static_cast<const Plan*>(ctx);
    float* slots[kMaxSlots];
    for (size_t c = self->jobs_[j].first; c < self->jobs_[j].last; ++c) {
      const Chunk& chunk = self->chunks_[c];
      float* const* base = &self->ptrs_[chunk.tensor * self->slots_];
      for (uint32_t k = 0; k < self->slots_; ++k) slots[k] = base[k] ? base[k] + chunk.begin : nullptr;
      self->kernel_(self->scalars_.data(), self->flags_, slots, chunk.end - chunk.begin);
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
  uint32_t slots_ = 0, present_ = 0, flags_ = 0;
  unsigned threads_ = 1;
  size_t tensors_ = 0;
  TrackedArrays arrays_;  // keeps every array alive and re-validates them before each step
  std::vector<size_t> lengths_;
  std::vector<float*> ptrs_;
  std::vector<Chunk> chunks_;
  std::vector<Job> jobs_;
  std::array<float, kMaxScalars> scalars_{};
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
  exports["streamProbe"] = Napi::Function::New(env, StreamProbe, "streamProbe");
  RegisterGradOps(env, exports);
  exports["cuda"] = CudaExports(env);
  return exports;
}

}  // namespace
}  // namespace adam

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return adam::Init(env, exports); }

NODE_API_MODULE(adam_native, InitModule)
