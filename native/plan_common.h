// What the plans (CpuPlan in addon.cc, CompactPlan in compact_plan.cc, CudaPlan in cuda_addon.cc)
// and the gradient entries share: reading numbers from JavaScript (range checked before any cast),
// the rule and group arguments, the per-step scalars and flags, the busy flag, the async step
// worker; and HostPlan, the part of the CPU plans that does not depend on how slots are stored.
#pragma once
#include <napi.h>

#include <cfloat>
#include <cmath>
#include <exception>
#include <string>
#include <vector>

#include "jump_prefetch.h"
#include "kernels/dispatch.h"
#include "memory.h"
#include "parallel.h"
#include "tracked_arrays.h"

namespace adam {

// An integer in [0, limit), as a number from JavaScript: TypeError/RangeError naming `what`.
inline uint32_t ToIndex(Napi::Env env, Napi::Value value, uint32_t limit, const std::string& what) {
  if (!value.IsNumber()) throw Napi::TypeError::New(env, what + " must be a number");
  const double x = value.As<Napi::Number>().DoubleValue();
  if (!(x >= 0 && x < limit) || x != std::floor(x))
    throw Napi::RangeError::New(env, what + " must be an integer in [0, " + std::to_string(limit) + ")");
  return static_cast<uint32_t>(x);
}

// A number rounded to float32; finite numbers past float32's range are a RangeError (the cast
// itself would be undefined behaviour).
inline float ToFloat32(Napi::Env env, Napi::Value value, const std::string& what) {
  if (!value.IsNumber()) throw Napi::TypeError::New(env, what + " must be a number");
  const double x = value.As<Napi::Number>().DoubleValue();
  if (std::isfinite(x) && std::fabs(x) > static_cast<double>(FLT_MAX))
    throw Napi::RangeError::New(env, what + " is outside the float32 range");
  return static_cast<float>(x);
}

// A rule id from `rules`.
inline RuleId RequireRule(Napi::Env env, Napi::Value value, const std::string& who) {
  return static_cast<RuleId>(ToIndex(env, value, kRuleCount, who + ": rule"));
}

// An index into `isas` that this CPU can run; otherwise a RangeError naming `who`.
inline Isa RequireIsa(Napi::Env env, Napi::Value value, const std::string& who) {
  Isa isa = static_cast<Isa>(ToIndex(env, value, kIsaCount, who + ": isa"));
  if (!isa_supported(isa)) throw Napi::RangeError::New(env, who + ": this CPU cannot run isa " + isa_name(isa));
  return isa;
}

// Threads for the pool: an integer in [1, 1024], or 0 for every hardware thread.
inline unsigned ThreadCount(Napi::Env env, Napi::Value value, const std::string& who) {
  const uint32_t threads = ToIndex(env, value, 1025, who + ": threads");
  return threads == 0 ? hardware_threads() : threads;
}

// Parameter groups: how many consecutive tensors each group has (undefined: one group of all).
// Returns each tensor's group; `groups` receives the group count.
inline std::vector<uint32_t> GroupOfTensors(Napi::Env env, Napi::Value sizes, size_t tensors, const std::string& who,
                                            uint32_t* groups) {
  std::vector<uint32_t> group(tensors, 0);
  if (sizes.IsUndefined()) {
    *groups = 1;
    return group;
  }
  if (!sizes.IsArray()) throw Napi::TypeError::New(env, who + ": groups must be an Array of tensor counts");
  Napi::Array list = sizes.As<Napi::Array>();
  *groups = list.Length();
  if (*groups == 0) throw Napi::RangeError::New(env, who + ": groups is empty");
  size_t t = 0;
  for (uint32_t g = 0; g < *groups; ++g) {
    const size_t left = tensors - t;
    const uint32_t n = ToIndex(env, list[g], left >= UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(left) + 1,
                               who + ": groups[" + std::to_string(g) + "] (tensors left: " + std::to_string(left) + ")");
    for (size_t end = t + n; t < end; ++t) group[t] = g;
  }
  if (t != tensors) throw Napi::RangeError::New(env, who + ": the groups' sizes do not add up to the tensor count");
  return group;
}

// The data of `value` when it is a typed array of this type and length (a detached one has length
// 0), else nullptr; one N-API call.
inline const void* TypedData(Napi::Env env, Napi::Value value, napi_typedarray_type want, size_t length) {
  static const char kEmpty[1] = {};
  napi_typedarray_type type;
  size_t n = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, value, &type, &n, &data, nullptr, nullptr) != napi_ok) return nullptr;
  if (type != want || n != length) return nullptr;
  return n == 0 ? kEmpty : data;
}

// The rule's slots per tensor, checked to divide `length`, the count of the argument `what`.
inline uint32_t SlotsDividing(Napi::Env env, RuleId rule, uint32_t length, const std::string& who, const char* what) {
  const uint32_t slots = kRuleLayouts[rule].slots;
  if (length % slots != 0)
    throw Napi::RangeError::New(env, who + ": " + what + ".length is not a multiple of rule " + kRuleLayouts[rule].name +
                                         "'s " + std::to_string(slots) + " slots");
  return slots;
}

// "tensor t slot k (name)": a slot in messages.
inline std::string SlotWhere(RuleId rule, size_t t, uint32_t k) {
  return "tensor " + std::to_string(t) + " slot " + std::to_string(k) + " (" + kRuleLayouts[rule].slot_names[k] + ")";
}

// One step's per-group scalars (kMaxScalars apart) and flags, read from (scalars: Float32Array,
// flags: Uint32Array) and checked whole before they replace the previous step's.
class StepValues {
 public:
  void Init(RuleId rule, uint32_t groups) {
    rule_ = rule;
    scalars_.assign(size_t{groups} * kMaxScalars, 0.0f);
    flags_.assign(groups, 0);
  }

  // present[g]: the slots every tensor of group g has. Throws before changing anything. One N-API
  // call per argument: this runs on every step.
  void Read(Napi::Env env, Napi::Value scalars, Napi::Value flags, const std::vector<uint32_t>& present,
            const std::string& who) {
    const RuleLayout& layout = kRuleLayouts[rule_];
    const size_t groups = flags_.size();
    const float* s = static_cast<const float*>(TypedData(env, scalars, napi_float32_array, size_t{layout.scalars} * groups));
    if (!s)
      throw Napi::TypeError::New(env, who + ": scalars must be a Float32Array of " + std::to_string(layout.scalars) +
                                          " per group (rule " + layout.name + ", " + std::to_string(groups) +
                                          " groups)");
    const uint32_t* f = static_cast<const uint32_t*>(TypedData(env, flags, napi_uint32_array, groups));
    if (!f) throw Napi::TypeError::New(env, who + ": flags must be a Uint32Array of one entry per group");
    for (size_t g = 0; g < groups; ++g) {
      const uint32_t required = required_slots(rule_, f[g]);
      if ((present[g] & required) != required)
        throw Napi::Error::New(env, who + ": a state slot the options of group " + std::to_string(g) +
                                        " need was not given to the plan");
    }
    for (size_t g = 0; g < groups; ++g) {
      std::copy(s + g * layout.scalars, s + (g + 1) * layout.scalars, &scalars_[g * kMaxScalars]);
      flags_[g] = f[g];
    }
  }

  const float* scalars(size_t group) const { return &scalars_[group * kMaxScalars]; }
  uint32_t flags(size_t group) const { return flags_[group]; }
  const std::vector<float>& all_scalars() const { return scalars_; }
  const std::vector<uint32_t>& all_flags() const { return flags_; }

 private:
  RuleId rule_ = kRuleCount;
  std::vector<float> scalars_;
  std::vector<uint32_t> flags_;
};

// The busy flag of a plan: set when a stepAsync starts, cleared when it settles, checked by every
// call that would touch the plan's memory meanwhile.
class BusyFlag {
 public:
  void ThrowIfBusy(Napi::Env env) const {
    if (busy_) throw Napi::Error::New(env, "a step is already in flight on this optimizer");
  }
  bool busy() const { return busy_; }
  void set(bool busy) { busy_ = busy; }

 private:
  bool busy_ = false;
};

// Runs plan->RunStep() on a libuv worker thread and settles a promise with the result. The plan
// (an ObjectWrap) stays alive through a reference to `owner` until the step has settled. Plan
// provides: BusyFlag busy_; void RunStep() (worker thread; may throw std::exception);
// void StepSettled() (JavaScript thread; must not throw).
//
// Built on the raw N-API calls so that no C++ exception can escape to std::terminate: when the
// environment is being torn down (a worker thread ending mid-step), settling the promise fails,
// and that failure is ignored rather than thrown.
template <class Plan>
class AsyncStep {
 public:
  static Napi::Value Start(Napi::Env env, Plan* plan, Napi::Object owner, const char* name) {
    auto* self = new AsyncStep(plan);
    napi_value promise = nullptr, resource_name = nullptr;
    napi_status status = napi_create_promise(env, &self->deferred_, &promise);
    if (status == napi_ok) status = napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
    if (status == napi_ok) status = napi_create_reference(env, owner, 1, &self->owner_);
    if (status == napi_ok)
      status = napi_create_async_work(env, nullptr, resource_name, &AsyncStep::Execute, &AsyncStep::Complete, self,
                                      &self->work_);
    if (status == napi_ok) {
      StepsInFlight().fetch_add(1);
      status = napi_queue_async_work(env, self->work_);
      if (status != napi_ok) StepsInFlight().fetch_sub(1);
    }
    if (status != napi_ok) {
      if (self->work_) napi_delete_async_work(env, self->work_);
      if (self->owner_) napi_delete_reference(env, self->owner_);
      if (self->deferred_) {
        napi_value undefined;
        napi_get_undefined(env, &undefined);
        napi_reject_deferred(env, self->deferred_, undefined);
      }
      delete self;
      throw Napi::Error::New(env, std::string(name) + ": could not start the async step");
    }
    plan->busy_.set(true);
    return Napi::Value(env, promise);
  }

  // Start, with `arrays` held strongly until the step settles (Plan::StepSettled releases them).
  static Napi::Value StartHolding(Napi::Env env, Plan* plan, Napi::Object owner, TrackedArrays& arrays,
                                  const char* name) {
    arrays.Hold(true);
    try {
      return Start(env, plan, owner, name);
    } catch (...) {
      arrays.Hold(false);
      throw;
    }
  }

 private:
  explicit AsyncStep(Plan* plan) : plan_(plan) {}

  static void Execute(napi_env, void* data) {
    auto* self = static_cast<AsyncStep*>(data);
    try {
      self->plan_->RunStep();
    } catch (const std::exception& e) {
      self->error_ = e.what();
      if (self->error_.empty()) self->error_ = "the async step failed";
    } catch (...) {
      self->error_ = "the async step failed";
    }
  }

  // Statuses are ignored on purpose: during teardown nothing can be delivered, and nothing may throw.
  static void Complete(napi_env env, napi_status status, void* data) {
    auto* self = static_cast<AsyncStep*>(data);
    StepsInFlight().fetch_sub(1);  // counted until settled: Execute has returned, or never ran
    self->plan_->busy_.set(false);
    self->plan_->StepSettled();
    if (status == napi_cancelled && self->error_.empty()) self->error_ = "the async step was cancelled";
    napi_value value = nullptr;
    if (self->error_.empty()) {
      if (napi_get_undefined(env, &value) == napi_ok) napi_resolve_deferred(env, self->deferred_, value);
    } else {
      napi_value message = nullptr;
      if (napi_create_string_utf8(env, self->error_.c_str(), self->error_.size(), &message) == napi_ok &&
          napi_create_error(env, nullptr, message, &value) == napi_ok)
        napi_reject_deferred(env, self->deferred_, value);
    }
    napi_delete_reference(env, self->owner_);
    napi_delete_async_work(env, self->work_);
    delete self;
  }

  Plan* plan_;
  napi_deferred deferred_ = nullptr;
  napi_ref owner_ = nullptr;
  napi_async_work work_ = nullptr;
  std::string error_;
};

// What the CPU plans share (CpuPlan in addon.cc: float32 slots; CompactPlan in compact_plan.cc:
// compact storage): the rule, threads and parameter groups, the tracked arrays and their chunking,
// the step values, and step() / stepAsync() / busy with their checks. A plan supplies its slot
// storage and its job runner:
//   size_t AddSlot(env, at, k, value, where)  registers arrays[at] (slot k) in arrays_, returns its length
//   static void RunJob(void* plan, size_t job)
// and may replace the defaults below: SlotAdded (after the slot's length matched its tensor's),
// CheckCall and TakeCall (the step call's own arguments, before and after the shared checks).
template <class Plan>
class HostPlan : public Napi::ObjectWrap<Plan> {
  using Wrap = Napi::ObjectWrap<Plan>;

 public:
  static Napi::Function Define(Napi::Env env, const char* name) {
    using Method = typename Wrap::InstanceMethodCallback;  // this base's members as Plan's: the template forms cannot
    return Wrap::DefineClass(env, name,
                             {Wrap::InstanceMethod("step", static_cast<Method>(&HostPlan::Step)),
                              Wrap::InstanceMethod("stepAsync", static_cast<Method>(&HostPlan::StepAsync)),
                              Wrap::InstanceAccessor("busy", static_cast<Method>(&HostPlan::Busy), nullptr)});
  }

  // The plan's part of AsyncStep (above).
  BusyFlag busy_;
  void RunStep() { parallel_for(threads_, chunking_.jobs(), &Plan::RunJob, static_cast<Plan*>(this)); }
  void StepSettled() { arrays_.Hold(false); }

 protected:
  explicit HostPlan(const Napi::CallbackInfo& info) : Wrap(info) {}

  // The rule, isa and threads arguments, and the arrays' count checked against the rule's slots.
  // Returns the isa: the plan picks its kernel from that ISA's table.
  Isa ReadRule(Napi::Env env, Napi::Value rule, Napi::Value isa, Napi::Value threads, uint32_t arrays, const char* who) {
    rule_ = RequireRule(env, rule, who);
    const Isa picked = RequireIsa(env, isa, who);
    threads_ = ThreadCount(env, threads, who);
    slots_ = SlotsDividing(env, rule_, arrays, who, "arrays");
    return picked;
  }

  // The rule's slots per tensor (null for an absent state slot) and the groups argument (how many
  // consecutive tensors each group has). `total`: the arrays' count that ReadRule checked and the
  // plan sized its slots for (a getter may have changed arrays.length since). Returns each
  // tensor's length.
  std::vector<size_t> ReadTensors(Napi::Env env, Napi::Array arrays, uint32_t total, Napi::Value groups_value, const char* who) {
    Plan* plan = static_cast<Plan*>(this);
    const size_t tensors = total / slots_;
    uint32_t groups = 1;
    group_ = GroupOfTensors(env, groups_value, tensors, who, &groups);
    present_.assign(groups, (1u << slots_) - 1u);
    std::vector<size_t> lengths(tensors, 0);
    for (size_t t = 0; t < tensors; ++t) {
      uint32_t here = 0;
      for (uint32_t k = 0; k < slots_; ++k) {
        const uint32_t at = static_cast<uint32_t>(t * slots_ + k);
        Napi::Value v = arrays[at];
        if (v.IsNull() || v.IsUndefined()) continue;
        const std::string where = Where(t, k);
        const size_t length = plan->AddSlot(env, at, k, v, where);
        if (here == 0) lengths[t] = length;
        else if (length != lengths[t]) throw Napi::RangeError::New(env, where + " has a different length");
        plan->SlotAdded(env, at, where, length);
        here |= 1u << k;
      }
      if ((here & 3u) != 3u)
        throw Napi::TypeError::New(env, std::string(who) + ": tensor " + std::to_string(t) + " needs a param and a grad");
      present_[group_[t]] &= here;
    }
    values_.Init(rule_, groups);
    return lengths;
  }

  // After the last array is registered.
  void Finish(Napi::Env env, const std::vector<size_t>& lengths) {
    arrays_.CheckOverlap(env);
    chunking_ = chunk_tensors(lengths);
  }

  std::string Where(size_t t, uint32_t k) const { return SlotWhere(rule_, t, k); }

  void SlotAdded(Napi::Env, uint32_t, const std::string&, size_t) {}
  void CheckCall(const Napi::CallbackInfo& info, const char* who) {
    if (info.Length() != 2)
      throw Napi::TypeError::New(info.Env(), std::string(who) + "(scalars, flags): expected (Float32Array, Uint32Array)");
  }
  void TakeCall(const Napi::CallbackInfo&) {}

  RuleId rule_ = kRuleCount;
  uint32_t slots_ = 0;
  unsigned threads_ = 1;
  std::vector<uint32_t> group_;    // per tensor: its group
  std::vector<uint32_t> present_;  // per group: the slots every tensor of it has
  TrackedArrays arrays_;           // re-checks every array before each step; holds them during a stepAsync
  Chunking chunking_;
  StepValues values_;

 private:
  // step(scalars, flags, ...): checks the call and the arrays, then takes the call's values.
  // Nothing changes before the last check.
  void Prepare(const Napi::CallbackInfo& info, const char* who) {
    Napi::Env env = info.Env();
    Plan* plan = static_cast<Plan*>(this);
    busy_.ThrowIfBusy(env);
    plan->CheckCall(info, who);
    arrays_.Check(env);  // a detached buffer throws, never a stale write
    values_.Read(env, info[0], info[1], present_, who);
    plan->TakeCall(info);
  }

  Napi::Value Step(const Napi::CallbackInfo& info) {
    Prepare(info, "step");
    RunStep();
    return info.Env().Undefined();
  }

  Napi::Value StepAsync(const Napi::CallbackInfo& info) {
    Prepare(info, "stepAsync");
    return AsyncStep<HostPlan>::StartHolding(info.Env(), this, this->Value(), arrays_, "adam-native:step");
  }

  Napi::Value Busy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), busy_.busy()); }
};

// The HostPlans whose slots are float32 arrays (CpuPlan; StreamProbe, the bench's roof): the slot
// pointers per tensor, and the job runner. It hands each chunk's slots to
// Plan::RunChunk(tensor, slots, n), having prefetched where the next chunk's streams jump.
template <class Plan>
class Float32Plan : public HostPlan<Plan> {
 protected:
  using HostPlan<Plan>::HostPlan;
  friend HostPlan<Plan>;

  size_t AddSlot(Napi::Env env, uint32_t at, uint32_t, Napi::Value value, const std::string& where) {
    size_t length = 0;
    ptrs_[at] = this->arrays_.Add(env, value, where, &length);
    return length;
  }

  static void RunJob(void* ctx, size_t j) {
    const Plan* self = static_cast<const Plan*>(ctx);
    const Chunking& c = self->chunking_;
    float* slots[kMaxSlots];
    float* next_slots[kMaxSlots];
    const size_t last = c.job_starts[j + 1];
    for (size_t i = c.job_starts[j]; i < last; ++i) {
      const Chunk& chunk = c.chunks[i];
      self->SlotsAt(chunk, slots);
      const size_t n = chunk.end - chunk.begin;
      if (i + 1 < last) {
        const Chunk& next = c.chunks[i + 1];
        self->SlotsAt(next, next_slots);
        PrefetchJumps(next_slots, next.end - next.begin, slots, n, self->slots_);
      }
      self->RunChunk(chunk.tensor, slots, n);
    }
  }

  // Each slot of `chunk`'s tensor at the chunk's first element (nullptr for an absent slot).
  void SlotsAt(const Chunk& chunk, float** out) const {
    float* const* base = &ptrs_[chunk.tensor * this->slots_];
    for (uint32_t k = 0; k < this->slots_; ++k) out[k] = base[k] ? base[k] + chunk.begin : nullptr;
  }

  std::vector<float*> ptrs_;  // per tensor and slot
};

}  // namespace adam
