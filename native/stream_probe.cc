// new StreamProbe(isa, arrays, threads).run(): p += g, m += g, v += g over tensors given as
// [p, g, m, v] per tensor (each tensor's four of one length), in place. It reads 4 arrays and writes
// 3, as fp32 Adam does (28 bytes per element), with one add per array instead of Adam's arithmetic:
// the fastest an optimizer step of that shape can go on this machine over these arrays (its roof).
// It is a plan as CpuPlan is (slots param, grad, exp_avg, exp_avg_sq of Adam's layout): the same
// registration, per-run checks, chunks, pool and jump prefetches, so a step and its probe differ in
// the arithmetic only. The loop is kernels/stream.h, compiled per ISA like the rules. Plain stores
// on purpose: non-temporal stores made this in-place pattern slower here.
#include "stream_probe.h"

#include <string>

#include "kernels/dispatch.h"
#include "plan_common.h"

namespace adam {
namespace {

constexpr uint32_t kProbeSlots = 4;  // p, g, m, v

class StreamProbePlan : public Float32Plan<StreamProbePlan> {
  using Wrap = Napi::ObjectWrap<StreamProbePlan>;

 public:
  static Napi::Function Define(Napi::Env env) {
    return Wrap::DefineClass(env, "StreamProbe", {Wrap::InstanceMethod("run", &StreamProbePlan::Run)});
  }

  explicit StreamProbePlan(const Napi::CallbackInfo& info) : Float32Plan(info) {
    Napi::Env env = info.Env();
    if (info.Length() != 3 || !info[1].IsArray())
      throw Napi::TypeError::New(env, "StreamProbe(isa, arrays, threads): expected (number, Array, number)");
    fn_ = isa_kernels(RequireIsa(env, info[0], "StreamProbe")).stream;
    threads_ = ThreadCount(env, info[2], "StreamProbe");
    Napi::Array arrays = info[1].As<Napi::Array>();
    const uint32_t total = arrays.Length();
    if (total == 0 || total % kProbeSlots != 0)
      throw Napi::RangeError::New(env, "StreamProbe: arrays must hold 4 Float32Arrays per tensor (p, g, m, v)");
    rule_ = kRule_adam;  // for the slots' names in messages
    slots_ = kProbeSlots;
    ptrs_.assign(total, nullptr);
    const std::vector<size_t> lengths = ReadTensors(env, arrays, total, env.Undefined(), "StreamProbe");
    if (present_[0] != (1u << kProbeSlots) - 1u) throw Napi::TypeError::New(env, "StreamProbe: every tensor needs all 4 arrays");
    Finish(env, lengths);
  }

 private:
  friend HostPlan;
  friend Float32Plan;

  void RunChunk(size_t, float* const* a, size_t n) const { fn_(a[0], a[1], a[2], a[3], n); }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    arrays_.Check(info.Env());  // a detached buffer throws, never a stale write
    RunStep();
    return info.Env().Undefined();
  }

  StreamFn fn_ = nullptr;
};

}  // namespace

Napi::Function StreamProbeClass(Napi::Env env) { return StreamProbePlan::Define(env); }

}  // namespace adam
