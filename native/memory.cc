#include "memory.h"

#include <sys/mman.h>

#include <cmath>
#include <cstdint>

namespace adam {

std::atomic<int>& StepsInFlight() {
  static std::atomic<int> count{0};
  return count;
}

namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kPage = 4096;
constexpr double kMaxElements = 4294967296.0;  // 2^32 floats (16 GiB) per array

// Marks the ArrayBuffers allocFloat32 made: freeFloat32 releases only those.
constexpr napi_type_tag kOwnBuffer = {0x6164616d2d6e6174ULL, 0x697665466c743332ULL};

Napi::Value PlainFloat32Array(Napi::Env env, double n) {
  Napi::Function ctor = env.Global().Get("Float32Array").As<Napi::Function>();
  return ctor.New({Napi::Number::New(env, n)});
}

// A zeroed ArrayBuffer of `bytes` from V8's allocator (calloc: large sizes are fresh mappings,
// committed on first touch), or an empty value when it cannot be had. Built through the JavaScript
// constructor: a failed allocation there is a RangeError, where napi_create_arraybuffer would end
// the process.
Napi::ArrayBuffer NewBuffer(Napi::Env env, double bytes) {
  napi_value ctor = nullptr, size = nullptr, global = nullptr, result = nullptr;
  if (napi_get_global(env, &global) != napi_ok || napi_get_named_property(env, global, "ArrayBuffer", &ctor) != napi_ok ||
      napi_create_double(env, bytes, &size) != napi_ok || napi_new_instance(env, ctor, 1, &size, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return Napi::ArrayBuffer();
  }
  bool is_buffer = false;
  napi_is_arraybuffer(env, result, &is_buffer);
  if (!is_buffer) return Napi::ArrayBuffer();
  Napi::ArrayBuffer buffer(env, result);
  if (buffer.Data() == nullptr || static_cast<double>(buffer.ByteLength()) != bytes) return Napi::ArrayBuffer();
  return buffer;
}

}  // namespace

// allocFloat32(n) -> Float32Array of n zeros, a view at an aligned offset into a buffer one
// alignment larger. Sizes are checked before anything is allocated.
Napi::Value AllocFloat32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "allocFloat32(n): n must be a number");
  double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 0) || n > kMaxElements || std::floor(n) != n)
    throw Napi::RangeError::New(env, "allocFloat32(n): n must be an integer in [0, 2^32]");
  size_t length = static_cast<size_t>(n);
  size_t bytes = length * sizeof(float);
  if (bytes == 0) return Napi::Float32Array::New(env, 0);

  size_t alignment = bytes < kHugePage ? 64 : kHugePage;
  Napi::ArrayBuffer buffer = NewBuffer(env, static_cast<double>(bytes + alignment));
  if (buffer.IsEmpty()) return PlainFloat32Array(env, n);
  uintptr_t start = reinterpret_cast<uintptr_t>(buffer.Data());
  uintptr_t aligned = (start + alignment - 1) / alignment * alignment;
  // A hint on the whole huge pages of the view: failure only costs speed.
  if (alignment == kHugePage) madvise(reinterpret_cast<void*>(aligned), bytes / kHugePage * kHugePage, MADV_HUGEPAGE);
  if (napi_type_tag_object(env, buffer, &kOwnBuffer) != napi_ok) return PlainFloat32Array(env, n);
  return Napi::Float32Array::New(env, length, buffer, aligned - start);
}

// freeFloat32(array) -> whether memory was released. For an array from allocFloat32: gives its
// pages back (MADV_DONTNEED) and detaches its buffer (every view then reads as empty, and a plan
// re-checking it throws), which frees it. Detaching frees the memory at once, so nothing is done
// while any step runs off the JavaScript thread (it might be writing there): the array is then
// left to the garbage collector.
Napi::Value FreeFloat32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, "freeFloat32(array): array must be a Float32Array");
  Napi::ArrayBuffer buffer = info[0].As<Napi::TypedArray>().ArrayBuffer();
  bool own = false;
  if (napi_check_object_type_tag(env, buffer, &kOwnBuffer, &own) != napi_ok || !own) return Napi::Boolean::New(env, false);
  void* data = buffer.Data();
  size_t size = buffer.ByteLength();
  if (data == nullptr || StepsInFlight().load() != 0) return Napi::Boolean::New(env, false);
  // Whole pages inside the buffer only: the allocator's bookkeeping around it stays intact.
  uintptr_t start = reinterpret_cast<uintptr_t>(data);
  uintptr_t first = (start + kPage - 1) / kPage * kPage;
  uintptr_t last = (start + size) / kPage * kPage;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  if (napi_detach_arraybuffer(env, buffer) != napi_ok) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, true);
}

}  // namespace adam
