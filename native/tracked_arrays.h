// The Float32Arrays of a plan, registered once and re-validated before every step.
//
// Registration refuses what the kernels cannot rely on: a view of a resizable ArrayBuffer or a
// growable SharedArrayBuffer (asked through the intrinsic `resizable`/`growable` getters, on the
// buffer N-API finds behind the array, so no property on the array can spoof it), and two arrays
// whose memory overlaps by address (also two SharedArrayBuffers over the same memory).
//
// After that a view's address and length can change only when its ArrayBuffer is detached (a
// fixed-length SharedArrayBuffer never changes). So Check() asks each distinct ArrayBuffer once
// per step whether it was detached, not each array: the optimizer's state in a few shared arenas
// costs a few look-ups, and separately allocated tensors one per separate param and grad buffer
// (about 30-50 ns each here, 85-100 before Check prefetched the references: mostly cache misses
// on the reference and the buffer object).
#pragma once
#include <napi.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace adam {

// The intrinsic getters, fetched once per environment when the addon loads (InitTrackedArrays).
void InitTrackedArrays(Napi::Env env);

class TrackedArrays {
 public:
  // Registers `value` and returns its data and length. Throws TypeError, naming it `where`, when
  // it is not a Float32Array or lies on a resizable/growable buffer; Error when it is detached.
  float* Add(Napi::Env env, Napi::Value value, const std::string& where, size_t* length);

  // The same for a typed array of `type` (elements of `bytes` each): compact storage.
  void* AddTyped(Napi::Env env, Napi::Value value, napi_typedarray_type type, size_t bytes, const char* type_name,
                 const std::string& where, size_t* length);

  // After the last Add: throws Error naming both arrays when two of them share memory.
  void CheckOverlap(Napi::Env env) const;

  // Throws Error naming an array of a buffer that was detached, or collected, since registration.
  void Check(Napi::Env env);

  // ArrayBuffers are held weakly, so that a plan dropped with its optimizer keeps no memory alive
  // until its own (deferred) finalizer runs; Check() before each step finds one collected. While
  // a step runs off the JavaScript thread they are held strongly: Hold(true) after Check(), on the
  // same call, and Hold(false) when the step has settled.
  void Hold(bool hold);

 private:
  struct View {
    const char* begin;
    const char* end;
    std::string where;
  };
  struct Buffer {
    Napi::ObjectReference buffer;
    size_t first_view;  // for the message
  };

  std::vector<View> views_;       // non-empty views, for the overlap check
  std::vector<Buffer> buffers_;   // distinct ArrayBuffers (weak), checked every step
  std::vector<Napi::ObjectReference> shared_;  // SharedArrayBuffers: kept alive, never change
  std::unordered_multimap<void*, size_t> by_data_;  // buffer data pointer -> buffers_ index
};

// overlappingPair(arrays): [i, j] (i < j), two of the Float32Arrays whose memory overlaps by
// address, or null. lib/ asks it about views of distinct SharedArrayBuffer objects, which JavaScript
// cannot tell apart from clones of one another (structuredClone shares the memory).
Napi::Value OverlappingPair(const Napi::CallbackInfo& info);

}  // namespace adam
