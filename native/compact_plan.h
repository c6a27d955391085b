// The CPU plan for optimizers with compact storage (kernels/compact.h): registers CompactPlan and
// the 8-bit maps (for lib's check that its maps are the same) on the addon's exports. Also the
// reading of compact slots and of `half` that CompactPlan and cuda.CompactPlan (cuda_addon.cc)
// share: `who` names the class in messages, `prefix` starts a tensor's ("" or "cuda.CompactPlan: ").
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tracked_arrays.h"

namespace adam {
void RegisterCompactPlan(Napi::Env env, Napi::Object exports);

// The storages argument (a Uint8Array of one Storage per array), copied before a getter of the
// arrays can detach it, and the absmax Array's length; both must have `total` entries.
std::vector<uint8_t> ReadStorages(Napi::Env env, Napi::Value storages, Napi::Array absmax, uint32_t total,
                                  const char* who);

// Throws unless slot k may have this storage (8-bit codes only in state slots).
void CheckStorage(Napi::Env env, uint32_t storage, uint32_t k, const std::string& where);

// A host array of the storage's element type (Float32Array, Uint16Array or Uint8Array), registered in `arrays`.
void* AddCompactArray(Napi::Env env, TrackedArrays& arrays, Napi::Value value, uint32_t storage,
                      const std::string& where, size_t* length);

// 8-bit codes' absmax: a Float32Array of one value per block of the slot's `length` elements.
float* AddAbsmax(Napi::Env env, TrackedArrays& arrays, Napi::Value value, const std::string& where, size_t length);

// What `half` is checked against, per tensor: the storages of its param and grad slots, its length.
struct HalfTensor {
  uint32_t param_storage;
  uint32_t grad_storage;
  size_t length;
};
// One tensor's entry of `half`: given (params[t] not null), its index in the rounding key, and its
// mirror (registered in `arrays`), or none for stochastic rounding of the half param slot.
struct HalfEntry {
  bool given = false;
  uint32_t index = 0;
  void* mirror = nullptr;
  uint32_t mirror_storage = 0;
};

// `half` (kernels/stochastic.h): { seed, params } with params[t] null (a float32 parameter) or
// { index, mirror }: mirror a Uint16Array written from the float32 master in slot 0 (its storage
// the grad's), or null for stochastic rounding of slot 0's half storage. Returns the seed.
uint32_t ReadHalfParams(Napi::Env env, Napi::Value value, const std::vector<HalfTensor>& tensors, TrackedArrays& arrays,
                        const char* who, const std::string& prefix, std::vector<HalfEntry>* entries);
}  // namespace adam
