#include "memory.h"

#include <sys/mman.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace adam {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr double kMaxElements = 4294967296.0;  // 2^32 floats (16 GiB) per array

struct Block {
  size_t bytes;
  bool released;  // freeFloat32 already gave the pages back and the bytes to V8's count
};

// Data pointer -> block of every live allocation: freeFloat32 touches only memory made here.
// Finalizers of different environments (worker threads) may run on different threads.
std::mutex registry_mutex;
std::unordered_map<void*, Block*> registry;

void Release(Napi::Env env, void* data, Block* block) {
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry.erase(data);
  }
  if (!block->released) Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(block->bytes));
  std::free(data);
  delete block;
}

}  // namespace

// allocFloat32(n) -> Float32Array of n zeros.
Napi::Value AllocFloat32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "allocFloat32(n): n must be a number");
  double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 0) || n > kMaxElements || std::floor(n) != n)
    throw Napi::RangeError::New(env, "allocFloat32(n): n must be an integer in [0, 2^32]");
  size_t length = static_cast<size_t>(n);
  size_t bytes = length * sizeof(float);
  bool huge = bytes >= kHugePage;
  size_t align = huge ? kHugePage : 64;
  size_t capacity = bytes == 0 ? align : (bytes + align - 1) / align * align;
  void* data = nullptr;
  if (posix_memalign(&data, align, capacity) != 0 || data == nullptr)
    throw Napi::Error::New(env, "allocFloat32: out of memory allocating " + std::to_string(bytes) + " bytes");
  if (huge) madvise(data, capacity, MADV_HUGEPAGE);  // a hint: failure only costs speed
  std::memset(data, 0, capacity);
  Napi::ArrayBuffer buffer;
  napi_value raw;
  Block* block = new Block{capacity, false};
  napi_status status = napi_create_external_arraybuffer(
      env, data, bytes, [](napi_env e, void* d, void* hint) { Release(Napi::Env(e), d, static_cast<Block*>(hint)); },
      block, &raw);
  if (status != napi_ok) {  // runtimes that forbid external buffers: fall back to V8's own memory
    std::free(data);
    delete block;
    buffer = Napi::ArrayBuffer::New(env, bytes);
  } else {
    buffer = Napi::ArrayBuffer(env, raw);
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(capacity));
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry[data] = block;
  }
  return Napi::Float32Array::New(env, length, buffer, 0);
}

// freeFloat32(array) -> whether memory was released. For an array from allocFloat32: detaches its
// buffer (every view then reads as empty, and a plan re-checking it throws) and gives its pages back
// (MADV_DONTNEED). The address range stays reserved until the finalizer frees it, so a step still
// running on another thread writes only into memory that is still ours: never a use-after-free.
Napi::Value FreeFloat32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, "freeFloat32(array): array must be a Float32Array");
  Napi::ArrayBuffer buffer = info[0].As<Napi::TypedArray>().ArrayBuffer();
  void* data = buffer.Data();
  Block* block = nullptr;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    auto found = registry.find(data);
    if (found != registry.end() && !found->second->released) block = found->second;
  }
  if (block == nullptr || data == nullptr) return Napi::Boolean::New(env, false);
  if (napi_detach_arraybuffer(env, buffer) != napi_ok) return Napi::Boolean::New(env, false);
  // Whole pages inside the block only: the block itself is page aligned from 2 MiB up.
  uintptr_t start = reinterpret_cast<uintptr_t>(data);
  uintptr_t page = 4096;
  uintptr_t first = (start + page - 1) / page * page;
  uintptr_t last = (start + block->bytes) / page * page;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  block->released = true;
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(block->bytes));
  return Napi::Boolean::New(env, true);
}

}  // namespace adam
