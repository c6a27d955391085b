// What the CPU plans share (CpuPlan in addon.cc: float32 slots; CompactPlan in compact_plan.cc:
// compact storage): the rule, threads and parameter groups, the tracked arrays and their chunking,
// the step values, and step() / stepAsync() / busy with their checks. A plan supplies its slot
// storage and its job runner:
//   size_t AddSlot(env, at, k, value, where)  registers arrays[at] (slot k) in arrays_, returns its length
//   static void RunJob(void* plan, size_t job)
// and may replace the defaults below: SlotAdded (after the slot's length matched its tensor's),
// CheckCall and TakeCall (the step call's own arguments, before and after the shared checks).
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "parallel.h"
#include "plan_common.h"
#include "tracked_arrays.h"

namespace adam {

template <class Plan>
class HostPlan : public Napi::ObjectWrap<Plan> {
  using Wrap = Napi::ObjectWrap<Plan>;

 public:
  static Napi::Function Define(Napi::Env env, const char* name) {
    using Method = typename Wrap::InstanceMethodCallback;  // these members, as Plan's (no template form takes a base's)
    return Wrap::DefineClass(env, name,
                             {Wrap::InstanceMethod("step", static_cast<Method>(&HostPlan::Step)),
                              Wrap::InstanceMethod("stepAsync", static_cast<Method>(&HostPlan::StepAsync)),
                              Wrap::InstanceAccessor("busy", static_cast<Method>(&HostPlan::Busy), nullptr)});
  }

  // The plan's part of AsyncStep (plan_common.h).
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
    slots_ = kRuleLayouts[rule_].slots;
    if (arrays % slots_ != 0)
      throw Napi::RangeError::New(env, std::string(who) + ": arrays.length is not a multiple of rule " + kRuleLayouts[rule_].name +
                                           "'s " + std::to_string(slots_) + " slots");
    return picked;
  }

  // The rule's slots per tensor (null for an absent state slot) and the groups argument (how many
  // consecutive tensors each group has). Returns each tensor's length.
  std::vector<size_t> ReadTensors(Napi::Env env, Napi::Array arrays, Napi::Value groups_value, const char* who) {
    Plan* plan = static_cast<Plan*>(this);
    const size_t tensors = arrays.Length() / slots_;
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

  std::string Where(size_t t, uint32_t k) const {
    return "tensor " + std::to_string(t) + " slot " + std::to_string(k) + " (" + kRuleLayouts[rule_].slot_names[k] + ")";
  }

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
    arrays_.Hold(true);
    try {
      return AsyncStep<HostPlan>::Start(info.Env(), this, this->Value(), "adam-native:step");
    } catch (...) {
      arrays_.Hold(false);
      throw;
    }
  }

  Napi::Value Busy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), busy_.busy()); }
};

}  // namespace adam
