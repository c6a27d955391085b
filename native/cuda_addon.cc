// The `cuda` object of the addon: device discovery, device buffers and step plans, over the plain
// C++ surface of native/cuda/gpu.h. Identical in builds with and without CUDA (gpu_stub.cc then
// answers every call with the reason). Like addon.cc it re-checks what it relies on and throws;
// lib/ validates first and gives the friendlier messages.
#include "cuda_addon.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "compact_plan.h"
#include "cuda/gpu.h"
#include "kernels/dispatch.h"
#include "plan_common.h"
#include "tracked_arrays.h"

namespace adam {
namespace {

// Marks objects made by DeviceBuffer's constructor, so a look-alike object is refused.
constexpr napi_type_tag kDeviceBufferTag = {0x6164616d2d6e6174ULL, 0x6976652d63756461ULL};
constexpr double kMaxElements = 4294967296.0;  // 2^32 floats (16 GiB) per tensor

void ThrowIf(Napi::Env env, const std::string& error) {
  if (!error.empty()) throw Napi::Error::New(env, error);
}

bool HasTag(Napi::Env env, Napi::Value v) {
  if (!v.IsObject()) return false;
  bool tagged = false;
  return napi_check_object_type_tag(env, v, &kDeviceBufferTag, &tagged) == napi_ok && tagged;
}

// The data and length of a Float32Array, or nullptr if `v` is not one.
float* Float32Data(Napi::Env env, Napi::Value v, size_t* length) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) return nullptr;
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value buffer;
  size_t offset = 0;
  NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, v, &type, length, &data, &buffer, &offset), nullptr);
  static float empty = 0;
  return data ? static_cast<float*>(data) : &empty;  // a zero-length array may have no storage
}

// n floats of device memory, zeroed at creation; freed by free() or when collected.
class DeviceBuffer : public Napi::ObjectWrap<DeviceBuffer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DeviceBuffer",
                       {InstanceAccessor<&DeviceBuffer::Length>("length"), InstanceAccessor<&DeviceBuffer::Ptr>("ptr"),
                        InstanceAccessor<&DeviceBuffer::Freed>("freed"),
                        InstanceMethod<&DeviceBuffer::Download>("download"),
                        InstanceMethod<&DeviceBuffer::CopyFrom>("copyFrom"), InstanceMethod<&DeviceBuffer::Zero>("zero"),
                        InstanceMethod<&DeviceBuffer::Free>("free")});
  }

  explicit DeviceBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBuffer>(info) {
    Napi::Env env = info.Env();
    if (info.Length() != 1 || !info[0].IsNumber())
      throw Napi::TypeError::New(env, "DeviceBuffer(length): length must be a number");
    double n = info[0].As<Napi::Number>().DoubleValue();
    if (!(n >= 0 && n <= kMaxElements) || n != std::floor(n))
      throw Napi::RangeError::New(env, "DeviceBuffer(length): length must be an integer in [0, 2^32]");
    ThrowIf(env, gpu::alloc(static_cast<size_t>(n), &data_));
    length_ = static_cast<size_t>(n);
    NAPI_THROW_IF_FAILED_VOID(env, napi_type_tag_object(env, info.This(), &kDeviceBufferTag));
  }

  ~DeviceBuffer() override { gpu::release(data_); }

  // The DeviceBuffer behind `v`, or nullptr when `v` is not one made by this addon.
  static DeviceBuffer* From(Napi::Env env, Napi::Value v) {
    return HasTag(env, v) ? Unwrap(v.As<Napi::Object>()) : nullptr;
  }

  float* data() const { return data_; }
  size_t length() const { return length_; }
  bool freed() const { return freed_; }
  void pin() { ++pins_; }
  void unpin() { --pins_; }

 private:
  void CheckUsable(Napi::Env env, const char* what) const {
    if (freed_) throw Napi::Error::New(env, std::string("DeviceTensor.") + what + ": the tensor was freed");
    if (pins_ > 0)
      throw Napi::Error::New(env, std::string("DeviceTensor.") + what + ": a stepAsync using this tensor is in flight");
  }

  Napi::Value Length(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(length_)); }
  Napi::Value Ptr(const Napi::CallbackInfo& info) {
    return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(data_)));
  }
  Napi::Value Freed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), freed_); }

  // download(into: Float32Array of the same length)
  Napi::Value Download(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckUsable(env, "download");
    size_t n = 0;
    float* into = info.Length() == 1 ? Float32Data(env, info[0], &n) : nullptr;
    if (!into) throw Napi::TypeError::New(env, "DeviceTensor.download: into must be a Float32Array");
    if (n != length_) throw Napi::RangeError::New(env, "DeviceTensor.download: into has another length");
    ThrowIf(env, gpu::download(into, data_, n));
    return info[0];
  }

  // copyFrom(src: Float32Array | DeviceBuffer of the same length)
  Napi::Value CopyFrom(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckUsable(env, "copyFrom");
    if (info.Length() != 1) throw Napi::TypeError::New(env, "DeviceTensor.copyFrom: expected one source");
    size_t n = 0;
    if (const float* host = Float32Data(env, info[0], &n)) {
      if (n != length_) throw Napi::RangeError::New(env, "DeviceTensor.copyFrom: the source has another length");
      ThrowIf(env, gpu::upload(data_, host, n));
      return env.Undefined();
    }
    DeviceBuffer* src = From(env, info[0]);
    if (!src) throw Napi::TypeError::New(env, "DeviceTensor.copyFrom: the source must be a Float32Array or a DeviceTensor");
    src->CheckUsable(env, "copyFrom (source)");
    if (src->length_ != length_) throw Napi::RangeError::New(env, "DeviceTensor.copyFrom: the source has another length");
    if (src != this) ThrowIf(env, gpu::copy(data_, src->data_, length_));
    return env.Undefined();
  }

  Napi::Value Zero(const Napi::CallbackInfo& info) {
    CheckUsable(info.Env(), "zero");
    ThrowIf(info.Env(), gpu::zero(data_, length_));
    return info.Env().Undefined();
  }

  Napi::Value Free(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (freed_) return env.Undefined();  // freeing twice is harmless
    if (pins_ > 0) throw Napi::Error::New(env, "DeviceTensor.free: a stepAsync using this tensor is in flight");
    ThrowIf(env, gpu::release(data_));
    data_ = nullptr;
    freed_ = true;
    return env.Undefined();
  }

  float* data_ = nullptr;
  size_t length_ = 0;
  bool freed_ = false;
  int pins_ = 0;
};

// The DeviceBuffers of a plan's items (nullptr for host arrays and absent slots): each buffer at
// most once, refused at a step once freed, pinned while a stepAsync runs. Messages name an item
// as `who`: tensor t slot k.
class PlanBuffers {
 public:
  void Init(size_t items, RuleId rule, const char* who) {
    buffers_.assign(items, nullptr);
    rule_ = rule;
    who_ = who;
  }

  void Add(Napi::Env env, size_t i, DeviceBuffer* b) {
    for (size_t j = 0; j < i; ++j)
      if (buffers_[j] == b) throw Napi::Error::New(env, Where(i) + " is the same DeviceTensor as " + Where(j));
    buffers_[i] = b;
  }

  void ThrowIfFreed(Napi::Env env) const {
    for (size_t i = 0; i < buffers_.size(); ++i)
      if (buffers_[i] && buffers_[i]->freed()) throw Napi::Error::New(env, Where(i) + " was freed");
  }

  void Pin(bool pin) {
    for (DeviceBuffer* b : buffers_)
      if (b) pin ? b->pin() : b->unpin();
  }

 private:
  std::string Where(size_t i) const {
    const uint32_t slots = kRuleLayouts[rule_].slots;
    return std::string(who_) + ": " + SlotWhere(rule_, i / slots, static_cast<uint32_t>(i % slots));
  }

  std::vector<DeviceBuffer*> buffers_;
  RuleId rule_ = kRuleCount;
  const char* who_ = "";
};

// One optimizer's tensors on the device, in parameter groups: a step for all of them is one
// launch. Per tensor the rule's slots (param, grad, state...): param and grad as DeviceBuffers, or
// as Float32Arrays for host-mirror mode; state slots as DeviceBuffers or null (an absent slot).
class CudaPlan : public Napi::ObjectWrap<CudaPlan> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "CudaPlan",
                       {InstanceMethod<&CudaPlan::Step>("step"), InstanceMethod<&CudaPlan::StepAsync>("stepAsync"),
                        InstanceMethod<&CudaPlan::TimeSteps>("timeSteps"), InstanceMethod<&CudaPlan::Release>("release"),
                        InstanceAccessor<&CudaPlan::Busy>("busy")});
  }

  // new CudaPlan(rule, items, groups)
  explicit CudaPlan(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CudaPlan>(info) {
    Napi::Env env = info.Env();
    const char* who = "cuda.Plan";
    if (info.Length() != 3 || !info[1].IsArray())
      throw Napi::TypeError::New(env, "cuda.Plan(rule, items, groups): expected 3 arguments, items an Array");
    rule_ = RequireRule(env, info[0], who);
    Napi::Array items = info[1].As<Napi::Array>();
    slots_ = SlotsDividing(env, rule_, items.Length(), who, "items");
    const size_t count = items.Length() / slots_;
    uint32_t groups = 1;
    std::vector<uint32_t> group = GroupOfTensors(env, info[2], count, who, &groups);
    tensors_.resize(count);
    host_.resize(count);
    refs_.resize(items.Length());
    buffers_.Init(items.Length(), rule_, who);
    present_.assign(groups, (1u << slots_) - 1u);
    for (size_t t = 0; t < count; ++t) {
      uint32_t here = 0;
      bool have_length = false;
      tensors_[t].group = group[t];
      for (uint32_t k = 0; k < slots_; ++k) {
        const size_t i = t * slots_ + k;
        Napi::Value v = items[static_cast<uint32_t>(i)];
        if (v.IsNull() || v.IsUndefined()) continue;
        size_t n = 0;
        if (k < 2 && v.IsTypedArray()) {
          if (k == 1 && !tensors_[t].mirror) throw Napi::TypeError::New(env, Where(t, k) + ": param and grad must both be on the host or both on the device");
          float* data = host_arrays_.Add(env, v, Where(t, k), &n);
          if (k == 0) host_[t].data = data;
          else host_[t].grad = data;
          tensors_[t].mirror = true;
        } else {
          DeviceBuffer* b = DeviceBuffer::From(env, v);
          if (!b) throw Napi::TypeError::New(env, Where(t, k) + " is not a DeviceTensor");
          if (b->freed()) throw Napi::Error::New(env, Where(t, k) + " was freed");
          if (k == 1 && tensors_[t].mirror) throw Napi::TypeError::New(env, Where(t, k) + ": param and grad must both be on the host or both on the device");
          buffers_.Add(env, i, b);
          tensors_[t].slots[k] = b->data();
          n = b->length();
        }
        if (have_length && n != tensors_[t].n) throw Napi::RangeError::New(env, Where(t, k) + " has a different length");
        tensors_[t].n = n;
        have_length = true;
        here |= 1u << k;
        refs_[i] = Napi::Persistent(v.As<Napi::Object>());
      }
      if ((here & 3u) != 3u) throw Napi::TypeError::New(env, "cuda.Plan: tensor " + std::to_string(t) + " needs a param and a grad");
      present_[group[t]] &= here;
    }
    host_arrays_.CheckOverlap(env);
    values_.Init(rule_, groups);
    gpu::DevicePlan* plan = nullptr;
    ThrowIf(env, gpu::plan_create(rule_, groups, tensors_, host_, &plan));
    plan_ = plan;
  }

  ~CudaPlan() override { gpu::plan_destroy(plan_); }

  // The plan's part of AsyncStep (plan_common.h).
  BusyFlag busy_;
  void RunStep() {
    std::string e = gpu::plan_step(plan_, values_.all_scalars().data(), values_.all_flags().data(), host_);
    if (!e.empty()) throw std::runtime_error(e);
  }
  void StepSettled() {
    buffers_.Pin(false);
    host_arrays_.Hold(false);
  }

 private:
  std::string Where(size_t t, uint32_t k) const {
    return "cuda.Plan: " + SlotWhere(rule_, t, k);
  }

  void Prepare(const Napi::CallbackInfo& info, size_t extra, const char* who) {
    Napi::Env env = info.Env();
    if (!plan_) throw Napi::Error::New(env, "cuda.Plan: released");
    busy_.ThrowIfBusy(env);
    if (info.Length() != 2 + extra)
      throw Napi::TypeError::New(env, std::string("cuda.Plan.") + who + "(scalars, flags): expected (Float32Array, Uint32Array)");
    buffers_.ThrowIfFreed(env);
    host_arrays_.Check(env);  // a detached host array throws instead of being written
    values_.Read(env, info[0], info[1], present_, std::string("cuda.Plan.") + who);
  }

  Napi::Value Step(const Napi::CallbackInfo& info) {
    Prepare(info, 0, "step");
    RunStep();
    return info.Env().Undefined();
  }

  Napi::Value StepAsync(const Napi::CallbackInfo& info) {
    Prepare(info, 0, "stepAsync");
    Napi::Value promise = AsyncStep<CudaPlan>::StartHolding(info.Env(), this, Value(), host_arrays_, "adam-native:cuda-step");
    buffers_.Pin(true);
    return promise;
  }

  // timeSteps(scalars, flags, iters) -> milliseconds for `iters` launches (bench only).
  Napi::Value TimeSteps(const Napi::CallbackInfo& info) {
    Prepare(info, 1, "timeSteps");
    const int iters = static_cast<int>(ToIndex(info.Env(), info[2], 1u << 20, "cuda.Plan.timeSteps: iters"));
    double ms = 0;
    ThrowIf(info.Env(), gpu::plan_time(plan_, values_.all_scalars().data(), values_.all_flags().data(), iters, &ms));
    return Napi::Number::New(info.Env(), ms);
  }

  // Frees the plan's device tables and mirror buffers now rather than at collection.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    if (busy_.busy()) throw Napi::Error::New(info.Env(), "cuda.Plan.release: a step is in flight");
    gpu::plan_destroy(plan_);
    plan_ = nullptr;
    return info.Env().Undefined();
  }

  Napi::Value Busy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), busy_.busy()); }

  RuleId rule_ = kRuleCount;
  uint32_t slots_ = 0;
  std::vector<uint32_t> present_;  // per group: the slots every tensor of it has
  std::vector<gpu::PlanTensor> tensors_;
  std::vector<gpu::HostPair> host_;
  TrackedArrays host_arrays_;  // the mirrored params and grads: re-checked every step, held during a stepAsync
  std::vector<Napi::ObjectReference> refs_;
  PlanBuffers buffers_;
  StepValues values_;
  gpu::DevicePlan* plan_ = nullptr;
};

// One optimizer's tensors with compact storage (kernels/compact.h) on the device: CompactPlan's
// arguments (compact_plan.cc), where a float32 slot may also be a DeviceBuffer. Host arrays are
// mirrored on the device (gpu.h compact_plan_create), so lib keeps reading them. In mode 'host'
// the device kernel's block code runs on the CPU instead (gpu.h compact_step_host), in any build:
// the tests' view of the device arithmetic without a GPU.
class CudaCompactPlan : public Napi::ObjectWrap<CudaCompactPlan> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "CudaCompactPlan",
                       {InstanceMethod<&CudaCompactPlan::Step>("step"), InstanceMethod<&CudaCompactPlan::StepAsync>("stepAsync"),
                        InstanceMethod<&CudaCompactPlan::Release>("release"), InstanceAccessor<&CudaCompactPlan::Busy>("busy")});
  }

  // new cuda.CompactPlan(rule, arrays, storages, absmax, groups, half, mode): as CompactPlan's first five
  // and `half` (null when no parameter is half precision); mode 'device' or 'host'.
  explicit CudaCompactPlan(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CudaCompactPlan>(info) {
    Napi::Env env = info.Env();
    const char* who = "cuda.CompactPlan";
    if (info.Length() != 7 || !info[1].IsArray() || !info[3].IsArray() || !info[6].IsString())
      throw Napi::TypeError::New(env, "cuda.CompactPlan(rule, arrays, storages, absmax, groups, half, mode): expected 7 "
                                      "arguments, arrays and absmax Arrays, mode a string");
    const std::string mode = info[6].As<Napi::String>().Utf8Value();
    if (mode != "device" && mode != "host") throw Napi::RangeError::New(env, "cuda.CompactPlan: mode must be 'device' or 'host'");
    on_host_ = mode == "host";
    rule_ = RequireRule(env, info[0], who);
    Napi::Array arrays = info[1].As<Napi::Array>();
    Napi::Array absmax = info[3].As<Napi::Array>();
    const uint32_t total = arrays.Length();
    slots_ = SlotsDividing(env, rule_, total, who, "arrays");
    const std::vector<uint8_t> storage = ReadStorages(env, info[2], absmax, total, who);
    const size_t count = total / slots_;
    uint32_t groups = 1;
    std::vector<uint32_t> group = GroupOfTensors(env, info[4], count, who, &groups);
    present_.assign(groups, (1u << slots_) - 1u);
    tensors_.assign(count, gpu::CompactTensor{});
    host_slots_.assign(count, 0);
    buffers_.Init(total, rule_, who);
    refs_.resize(total);
    for (size_t t = 0; t < count; ++t) {
      gpu::CompactTensor& d = tensors_[t];
      d.group = group[t];
      uint32_t here = 0;
      for (uint32_t k = 0; k < slots_; ++k) {
        const uint32_t at = static_cast<uint32_t>(t * slots_ + k);
        Napi::Value v = arrays[at];
        if (v.IsNull() || v.IsUndefined()) continue;
        const std::string where = Where(t, k);
        const uint32_t s = storage[at];
        CheckStorage(env, s, k, where);
        d.storage[k] = s;
        size_t length = 0;
        if (DeviceBuffer* b = DeviceBuffer::From(env, v)) {
          if (on_host_) throw Napi::TypeError::New(env, where + " is a DeviceTensor; mode 'host' takes host arrays only");
          if (s != kStoreF32) throw Napi::TypeError::New(env, where + " is a DeviceTensor, so its storage must be 0 (float32)");
          if (b->freed()) throw Napi::Error::New(env, where + " was freed");
          buffers_.Add(env, at, b);
          refs_[at] = Napi::Persistent(v.As<Napi::Object>());  // the device memory stays alive with the plan
          d.data[k] = b->data();
          length = b->length();
        } else {
          d.data[k] = AddCompactArray(env, arrays_, v, s, where, &length);
          host_slots_[t] |= 1u << k;
        }
        if (here == 0) d.n = length;
        else if (length != d.n) throw Napi::RangeError::New(env, where + " has a different length");
        if (s >= kStoreQ8Signed) d.absmax[k] = AddAbsmax(env, arrays_, absmax[at], where, length);
        here |= 1u << k;
      }
      if ((here & 3u) != 3u) throw Napi::TypeError::New(env, "cuda.CompactPlan: tensor " + std::to_string(t) + " needs a param and a grad");
      present_[group[t]] &= here;
    }
    if (!info[5].IsNull() && !info[5].IsUndefined()) ReadHalf(env, info[5]);
    arrays_.CheckOverlap(env);
    values_.Init(rule_, groups);
    if (!on_host_) {
      gpu::CompactDevicePlan* plan = nullptr;
      ThrowIf(env, gpu::compact_plan_create(rule_, groups, tensors_, host_slots_, seed_, &plan));
      plan_ = plan;
    }
  }

  ~CudaCompactPlan() override { gpu::compact_plan_destroy(plan_); }

  // The plan's part of AsyncStep (plan_common.h).
  BusyFlag busy_;
  void RunStep() {
    if (on_host_) {
      gpu::compact_step_host(rule_, tensors_, values_.all_scalars().data(), values_.all_flags().data(), seed_, step_);
      return;
    }
    std::string e = gpu::compact_plan_step(plan_, values_.all_scalars().data(), values_.all_flags().data(), step_);
    if (!e.empty()) throw std::runtime_error(e);
  }
  void StepSettled() {
    buffers_.Pin(false);
    arrays_.Hold(false);
  }

 private:
  std::string Where(size_t t, uint32_t k) const {
    return "cuda.CompactPlan: " + SlotWhere(rule_, t, k);
  }

  // `half`: as CompactPlan's (ReadHalfParams, compact_plan.h).
  void ReadHalf(Napi::Env env, Napi::Value value) {
    const size_t count = tensors_.size();
    std::vector<HalfTensor> read(count);
    for (size_t t = 0; t < count; ++t)
      read[t] = HalfTensor{tensors_[t].storage[0], tensors_[t].storage[1], static_cast<size_t>(tensors_[t].n)};
    std::vector<HalfEntry> entries;
    seed_ = ReadHalfParams(env, value, read, arrays_, "cuda.CompactPlan", "cuda.CompactPlan: ", &entries);
    for (size_t t = 0; t < count; ++t) {
      if (!entries[t].given) continue;
      gpu::CompactTensor& d = tensors_[t];
      d.index = entries[t].index;
      if (entries[t].mirror) {
        d.mirror = entries[t].mirror;
        d.mirror_storage = entries[t].mirror_storage;
      } else {
        d.sr = 1;
        sr_ = true;
      }
    }
  }

  void Prepare(const Napi::CallbackInfo& info, const char* who) {
    Napi::Env env = info.Env();
    const std::string name = std::string("cuda.CompactPlan.") + who;
    if (released_) throw Napi::Error::New(env, "cuda.CompactPlan: released");
    busy_.ThrowIfBusy(env);
    if (info.Length() != 2 && info.Length() != 3)
      throw Napi::TypeError::New(env, name + "(scalars, flags[, step]): expected (Float32Array, Uint32Array[, number])");
    if (sr_ && (info.Length() != 3 || !info[2].IsNumber()))
      throw Napi::TypeError::New(env, name + ": step (a number) is required: stochastic rounding is keyed by it");
    buffers_.ThrowIfFreed(env);
    arrays_.Check(env);
    values_.Read(env, info[0], info[1], present_, name);
    if (sr_) step_ = info[2].As<Napi::Number>().Uint32Value();
  }

  Napi::Value Step(const Napi::CallbackInfo& info) {
    Prepare(info, "step");
    RunStep();
    return info.Env().Undefined();
  }

  Napi::Value StepAsync(const Napi::CallbackInfo& info) {
    Prepare(info, "stepAsync");
    Napi::Value promise =
        AsyncStep<CudaCompactPlan>::StartHolding(info.Env(), this, Value(), arrays_, "adam-native:cuda-compact-step");
    buffers_.Pin(true);
    return promise;
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    if (busy_.busy()) throw Napi::Error::New(info.Env(), "cuda.CompactPlan.release: a step is in flight");
    gpu::compact_plan_destroy(plan_);
    plan_ = nullptr;
    released_ = true;
    return info.Env().Undefined();
  }

  Napi::Value Busy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), busy_.busy()); }

  RuleId rule_ = kRuleCount;
  uint32_t slots_ = 0;
  bool on_host_ = false;
  bool released_ = false;
  std::vector<uint32_t> present_;  // per group: the slots every tensor of it has
  std::vector<gpu::CompactTensor> tensors_;  // host pointers (a device plan keeps its own copy)
  std::vector<uint32_t> host_slots_;
  TrackedArrays arrays_;  // every host array: re-checked every step, held during a stepAsync
  std::vector<Napi::ObjectReference> refs_;  // the DeviceBuffers (host arrays are held weakly, as CompactPlan's)
  PlanBuffers buffers_;
  StepValues values_;
  uint32_t seed_ = 0, step_ = 0;
  bool sr_ = false;
  gpu::CompactDevicePlan* plan_ = nullptr;
};

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  gpu::Info q = gpu::query();
  Napi::Object out = Napi::Object::New(env);
  out["compiled"] = q.compiled;
  out["deviceCount"] = q.device_count;
  Napi::Array devices = Napi::Array::New(env);
  for (uint32_t d = 0; d < q.devices.size(); ++d) {
    Napi::Object dev = Napi::Object::New(env);
    dev["name"] = q.devices[d].name;
    dev["memory"] = static_cast<double>(q.devices[d].memory);
    dev["computeCapability"] = std::to_string(q.devices[d].major) + "." + std::to_string(q.devices[d].minor);
    devices[d] = dev;
  }
  out["devices"] = devices;
  out["error"] = q.error.empty() ? env.Null() : Napi::String::New(env, q.error);
  return out;
}

// timeCopy(dst, src, iters) -> milliseconds for `iters` device-to-device copies (bench only).
Napi::Value TimeCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer* dst = info.Length() == 3 ? DeviceBuffer::From(env, info[0]) : nullptr;
  DeviceBuffer* src = info.Length() == 3 ? DeviceBuffer::From(env, info[1]) : nullptr;
  if (!dst || !src) throw Napi::TypeError::New(env, "timeCopy(dst, src, iters): expected (DeviceTensor, DeviceTensor, number)");
  if (dst->freed() || src->freed() || dst->length() != src->length())
    throw Napi::RangeError::New(env, "timeCopy: freed tensors or different lengths");
  const int iters = static_cast<int>(ToIndex(env, info[2], 1u << 20, "timeCopy: iters"));
  double ms = 0;
  ThrowIf(env, gpu::time_copy(dst->data(), src->data(), src->length(), iters, &ms));
  return Napi::Number::New(env, ms);
}

}  // namespace

Napi::Object CudaExports(Napi::Env env) {
  Napi::Object cuda = Napi::Object::New(env);
  cuda["info"] = Napi::Function::New(env, Info, "info");
  cuda["DeviceBuffer"] = DeviceBuffer::Define(env);
  cuda["Plan"] = CudaPlan::Define(env);
  cuda["CompactPlan"] = CudaCompactPlan::Define(env);
  cuda["timeCopy"] = Napi::Function::New(env, TimeCopy, "timeCopy");
  return cuda;
}

}  // namespace adam
