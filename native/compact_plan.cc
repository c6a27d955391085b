// CompactPlan: CpuPlan's job (addon.cc) for tensors whose slots are kept in compact storage. Each
// array comes with its storage (kernel_api.h Storage) and, for 8-bit codes, its absmax array; the
// N-API layer checks every type and length the kernels rely on, then a step is one native call.
#include "compact_plan.h"

#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/sr_hash.h"
#include "plan_common.h"

namespace adam {
namespace {

static_assert(kChunkElements % kCompactBlock == 0, "chunks must hold whole compact blocks");

class CompactPlan : public HostPlan<CompactPlan> {
 public:
  // new CompactPlan(rule, arrays, storages, absmax, groups, isa, threads[, half]): arrays as
  // CpuPlan's; storages a Uint8Array with each array's Storage; absmax per array a Float32Array of
  // one value per block (8-bit codes) or null; `half` as ReadHalfParams (compact_plan.h) reads it,
  // for half-precision parameters: stochastic rounding is keyed by (seed, step, index).
  explicit CompactPlan(const Napi::CallbackInfo& info) : HostPlan(info) {
    Napi::Env env = info.Env();
    if ((info.Length() != 7 && info.Length() != 8) || !info[1].IsArray() || !info[3].IsArray())
      throw Napi::TypeError::New(env,
                                 "CompactPlan(rule, arrays, storages, absmax, groups, isa, threads[, half]): expected 7 "
                                 "or 8 arguments, arrays and absmax Arrays");
    Napi::Array arrays = info[1].As<Napi::Array>();
    absmax_ = info[3].As<Napi::Array>();
    const uint32_t total = arrays.Length();
    kernel_ = isa_kernels(ReadRule(env, info[0], info[5], info[6], total, "CompactPlan")).compact[rule_];
    storages_ = ReadStorages(env, info[2], absmax_, total, "CompactPlan");
    stores_.assign(total, SlotStore{nullptr, nullptr, kStoreF32, nullptr});
    const std::vector<size_t> lengths = ReadTensors(env, arrays, total, info[4], "CompactPlan");
    absmax_ = Napi::Array();
    if (info.Length() == 8 && !info[7].IsNull() && !info[7].IsUndefined()) ReadHalf(env, info[7], lengths);
    Finish(env, lengths);
  }

 private:
  friend HostPlan;

  size_t AddSlot(Napi::Env env, uint32_t at, uint32_t k, Napi::Value value, const std::string& where) {
    SlotStore& store = stores_[at];
    const uint32_t s = storages_[at];
    CheckStorage(env, s, k, where);
    size_t length = 0;
    store.storage = s;
    store.data = AddCompactArray(env, arrays_, value, s, where, &length);
    return length;
  }

  // 8-bit codes: their absmax array, one value per block.
  void SlotAdded(Napi::Env env, uint32_t at, const std::string& where, size_t length) {
    SlotStore& store = stores_[at];
    if (store.storage >= kStoreQ8Signed) store.absmax = AddAbsmax(env, arrays_, absmax_[at], where, length);
  }

  // `half`, checked against the storages already read; halves_ is sized once, so the stores'
  // pointers into it stay valid.
  void ReadHalf(Napi::Env env, Napi::Value value, const std::vector<size_t>& lengths) {
    const size_t tensors = lengths.size();
    std::vector<HalfTensor> read(tensors);
    for (size_t t = 0; t < tensors; ++t)
      read[t] = HalfTensor{stores_[t * slots_].storage, stores_[t * slots_ + 1].storage, lengths[t]};
    std::vector<HalfEntry> entries;
    seed_ = ReadHalfParams(env, value, read, arrays_, "CompactPlan", "", &entries);
    halves_.assign(tensors, HalfParam{nullptr, kStoreF32, 0});
    index_.assign(tensors, 0);
    for (size_t t = 0; t < tensors; ++t) {
      if (!entries[t].given) continue;
      halves_[t].mirror = entries[t].mirror;
      halves_[t].mirror_storage = entries[t].mirror ? entries[t].mirror_storage : kStoreF32;
      index_[t] = entries[t].index;
      stores_[t * slots_].half = &halves_[t];
      sr_ = sr_ || entries[t].mirror == nullptr;
    }
  }

  // step(scalars, flags[, step]): the step number keys stochastic rounding.
  void CheckCall(const Napi::CallbackInfo& info, const char* who) {
    Napi::Env env = info.Env();
    if (info.Length() != 2 && info.Length() != 3)
      throw Napi::TypeError::New(env, std::string(who) + "(scalars, flags[, step]): expected (Float32Array, Uint32Array[, number])");
    if (sr_ && (info.Length() != 3 || !info[2].IsNumber()))
      throw Napi::TypeError::New(env, std::string(who) + ": step (a number) is required: stochastic rounding is keyed by it");
  }

  void TakeCall(const Napi::CallbackInfo& info) {
    if (!sr_) return;
    const uint32_t step = info[2].As<Napi::Number>().Uint32Value();
    for (size_t t = 0; t < halves_.size(); ++t) halves_[t].key = sr_key(seed_, step, index_[t]);
  }

  static void RunJob(void* ctx, size_t j) {
    const CompactPlan* self = static_cast<const CompactPlan*>(ctx);
    const Chunking& c = self->chunking_;
    for (size_t i = c.job_starts[j]; i < c.job_starts[j + 1]; ++i) {
      const Chunk& chunk = c.chunks[i];
      const uint32_t g = self->group_[chunk.tensor];
      self->kernel_(self->values_.scalars(g), self->values_.flags(g), &self->stores_[chunk.tensor * self->slots_],
                    chunk.begin, chunk.end - chunk.begin);
    }
  }

  CompactKernelFn kernel_ = nullptr;
  std::vector<uint8_t> storages_;  // the constructor's storages and absmax while it reads the arrays
  Napi::Array absmax_;             // (a handle of that call)
  std::vector<SlotStore> stores_;  // per tensor and slot
  std::vector<HalfParam> halves_;  // per tensor, when `half` was given
  std::vector<uint32_t> index_;
  uint32_t seed_ = 0;
  bool sr_ = false;
};

Napi::Value MapValues(Napi::Env env, bool is_signed) {
  const Quant8Map& map = quant8_map(is_signed);
  Napi::Float32Array out = Napi::Float32Array::New(env, 256);
  for (size_t i = 0; i < 256; ++i) out[i] = map.values[i];
  return out;
}

}  // namespace

std::vector<uint8_t> ReadStorages(Napi::Env env, Napi::Value storages, Napi::Array absmax, uint32_t total,
                                  const char* who) {
  const uint8_t* data = static_cast<const uint8_t*>(TypedData(env, storages, napi_uint8_array, total));
  if (!data) throw Napi::TypeError::New(env, std::string(who) + ": storages must be a Uint8Array of arrays.length entries");
  std::vector<uint8_t> copy(data, data + total);
  if (absmax.Length() != total) throw Napi::RangeError::New(env, std::string(who) + ": absmax must have arrays.length entries");
  return copy;
}

void CheckStorage(Napi::Env env, uint32_t storage, uint32_t k, const std::string& where) {
  if (storage >= kStoreCount || (k < 2 && storage >= kStoreQ8Signed))
    throw Napi::RangeError::New(env, where + ": storage " + std::to_string(storage) + " is not one this slot can have");
}

void* AddCompactArray(Napi::Env env, TrackedArrays& arrays, Napi::Value value, uint32_t storage,
                      const std::string& where, size_t* length) {
  if (storage == kStoreF32) return arrays.Add(env, value, where, length);
  if (storage <= kStoreF16) return arrays.AddTyped(env, value, napi_uint16_array, 2, "Uint16Array", where, length);
  return arrays.AddTyped(env, value, napi_uint8_array, 1, "Uint8Array", where, length);
}

float* AddAbsmax(Napi::Env env, TrackedArrays& arrays, Napi::Value value, const std::string& where, size_t length) {
  size_t blocks = 0;
  float* absmax = arrays.Add(env, value, where + " absmax", &blocks);
  if (blocks != (length + kCompactBlock - 1) / kCompactBlock)
    throw Napi::RangeError::New(env, where + " absmax has length " + std::to_string(blocks) + ", not one per block of " +
                                         std::to_string(kCompactBlock) + " elements");
  return absmax;
}

uint32_t ReadHalfParams(Napi::Env env, Napi::Value value, const std::vector<HalfTensor>& tensors, TrackedArrays& arrays,
                        const char* who, const std::string& prefix, std::vector<HalfEntry>* entries) {
  const size_t count = tensors.size();
  if (!value.IsObject()) throw Napi::TypeError::New(env, std::string(who) + ": half must be an object {seed, params}");
  Napi::Object half = value.As<Napi::Object>();
  Napi::Value seed = half.Get("seed"), params = half.Get("params");
  if (!seed.IsNumber() || !params.IsArray() || params.As<Napi::Array>().Length() != count)
    throw Napi::TypeError::New(env, std::string(who) + ": half must be {seed: number, params: Array of one entry per tensor}");
  const uint32_t seed_value = seed.As<Napi::Number>().Uint32Value();
  Napi::Array list = params.As<Napi::Array>();
  entries->assign(count, HalfEntry{});
  for (size_t t = 0; t < count; ++t) {
    Napi::Value v = list[static_cast<uint32_t>(t)];
    if (v.IsNull() || v.IsUndefined()) continue;
    const std::string where = prefix + "tensor " + std::to_string(t) + " half";
    if (!v.IsObject()) throw Napi::TypeError::New(env, where + " must be null or {index, mirror}");
    Napi::Object o = v.As<Napi::Object>();
    Napi::Value index = o.Get("index"), mirror = o.Get("mirror");
    if (!index.IsNumber()) throw Napi::TypeError::New(env, where + ".index must be a number");
    const HalfTensor& tensor = tensors[t];
    HalfEntry& e = (*entries)[t];
    e.given = true;
    e.index = index.As<Napi::Number>().Uint32Value();
    if (mirror.IsNull() || mirror.IsUndefined()) {
      if (tensor.param_storage != kStoreBf16 && tensor.param_storage != kStoreF16)
        throw Napi::RangeError::New(env, where + ": without a mirror the param slot must be bf16 or fp16");
    } else {
      if (tensor.param_storage != kStoreF32)
        throw Napi::RangeError::New(env, where + ": with a mirror the param slot must be the float32 master");
      if (tensor.grad_storage != kStoreBf16 && tensor.grad_storage != kStoreF16)
        throw Napi::RangeError::New(env, where + ": with a mirror the grad must be bf16 or fp16 (the mirror's storage)");
      size_t length = 0;
      e.mirror = arrays.AddTyped(env, mirror, napi_uint16_array, 2, "Uint16Array", where + " mirror", &length);
      e.mirror_storage = tensor.grad_storage;
      if (length != tensor.length) throw Napi::RangeError::New(env, where + " mirror has a different length");
    }
  }
  return seed_value;
}

void RegisterCompactPlan(Napi::Env env, Napi::Object exports) {
  exports["CompactPlan"] = CompactPlan::Define(env, "CompactPlan");
  Napi::Object maps = Napi::Object::New(env);
  maps["signed"] = MapValues(env, true);
  maps["unsigned"] = MapValues(env, false);
  exports["quant8Maps"] = maps;
}

}  // namespace adam
