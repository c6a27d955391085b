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

// Memory handed to V8 as an external ArrayBuffer. From 2 MiB up it is an anonymous mapping:
// zero pages the kernel commits on first touch (no memset), 2 MiB aligned for huge pages.
struct Block {
  void* data;
  size_t capacity;  // bytes owned (and reported to V8)
  bool mapped;      // munmap, else free
  bool creating;    // inside napi_create_external_arraybuffer: a finalizer call then must not free
  bool finalized;   // the finalizer ran while `creating`
  bool released;    // freeFloat32 already gave the pages back and the bytes to V8's count
};

// Data pointer -> block of every live allocation: freeFloat32 touches only memory made here.
// Finalizers of different environments (worker threads) may run on different threads.
std::mutex registry_mutex;
std::unordered_map<void*, Block*> registry;

void FreeBlock(Block* block) {
  if (block->mapped) munmap(block->data, block->capacity);
  else std::free(block->data);
}

void Finalize(napi_env env, void* /*data*/, void* hint) {
  Block* block = static_cast<Block*>(hint);
  if (block->creating) {  // the runtime refused the buffer and finalizes at once; the caller frees
    block->finalized = true;
    return;
  }
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry.erase(block->data);
  }
  if (!block->released) Napi::MemoryManagement::AdjustExternalMemory(Napi::Env(env), -static_cast<int64_t>(block->capacity));
  FreeBlock(block);
  delete block;
}

// Zeroed memory of `bytes` (> 0), or false. Small blocks are 64-byte aligned from malloc.
bool Allocate(size_t bytes, Block* block) {
  if (bytes < kHugePage) {
    size_t capacity = (bytes + 63) / 64 * 64;
    void* data = nullptr;
    if (posix_memalign(&data, 64, capacity) != 0 || data == nullptr) return false;
    std::memset(data, 0, capacity);
    *block = {data, capacity, false, false, false, false};
    return true;
  }
  // Over-map by one huge page, then unmap the unaligned head and the tail beyond the capacity.
  size_t capacity = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  if (capacity > SIZE_MAX - kHugePage) return false;
  void* raw = mmap(nullptr, capacity + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return false;
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) munmap(raw, aligned - start);
  size_t tail = (start + capacity + kHugePage) - (aligned + capacity);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + capacity), tail);
  void* data = reinterpret_cast<void*>(aligned);
  madvise(data, capacity, MADV_HUGEPAGE);  // a hint: failure only costs speed
  *block = {data, capacity, true, false, false, false};
  return true;
}

// A plain `new Float32Array(n)`: V8's own zeroed memory (lazily committed for large sizes); a
// failed allocation is V8's RangeError, thrown to JavaScript.
Napi::Value PlainFloat32Array(Napi::Env env, double n) {
  Napi::Function ctor = env.Global().Get("Float32Array").As<Napi::Function>();
  return ctor.New({Napi::Number::New(env, n)});
}

}  // namespace

// allocFloat32(n) -> Float32Array of n zeros. Sizes are checked before anything is allocated.
Napi::Value AllocFloat32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "allocFloat32(n): n must be a number");
  double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 0) || n > kMaxElements || std::floor(n) != n)
    throw Napi::RangeError::New(env, "allocFloat32(n): n must be an integer in [0, 2^32]");
  size_t length = static_cast<size_t>(n);
  size_t bytes = length * sizeof(float);
  if (bytes == 0) return Napi::Float32Array::New(env, 0);

  Block* block = new Block{};
  if (!Allocate(bytes, block)) {
    delete block;
    return PlainFloat32Array(env, n);
  }
  block->creating = true;
  napi_value raw = nullptr;
  napi_status status = napi_create_external_arraybuffer(env, block->data, bytes, Finalize, block, &raw);
  block->creating = false;
  if (status != napi_ok || block->finalized) {
    // Refused (Node.js limits external buffers to buffer.constants.MAX_LENGTH bytes; some runtimes
    // forbid them): the memory is still ours, whether or not the finalizer already ran.
    bool exception = false;
    napi_is_exception_pending(env, &exception);
    if (exception) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    if (status == napi_ok) {
      // Accepted yet finalized: V8 may still see the buffer, so the memory cannot be freed.
      // Not known to happen; costs a leak, never a use-after-free.
      return PlainFloat32Array(env, n);
    }
    FreeBlock(block);
    delete block;
    return PlainFloat32Array(env, n);
  }
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(block->capacity));
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    registry[block->data] = block;
  }
  return Napi::Float32Array::New(env, length, Napi::ArrayBuffer(env, raw), 0);
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
  // Whole pages inside the block only: mapped blocks are 2 MiB aligned, malloc'd ones 64-byte.
  uintptr_t start = reinterpret_cast<uintptr_t>(data);
  uintptr_t page = 4096;
  uintptr_t first = (start + page - 1) / page * page;
  uintptr_t last = (start + block->capacity) / page * page;
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  block->released = true;
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(block->capacity));
  return Napi::Boolean::New(env, true);
}

}  // namespace adam
