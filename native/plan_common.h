// What the CPU plan (addon.cc), the CUDA plan (cuda_addon.cc) and the gradient entries share:
// reading numbers from JavaScript (range checked before any cast), the rule and group arguments,
// the per-step scalars and flags, the busy flag, and the async step worker.
#pragma once
#include <napi.h>

#include <cfloat>
#include <cmath>
#include <exception>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "memory.h"
#include "parallel.h"

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

}  // namespace adam
