#include "memory.h"

#include <sys/mman.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace adam {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr double kMaxElements = 4294967296.0;  // 2^32 floats (16 GiB) per array

struct Block {
  size_t bytes;
};

void Release(Napi::Env env, void* data, Block* block) {
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(block->bytes));
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
  Block* block = new Block{capacity};
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
  }
  return Napi::Float32Array::New(env, length, buffer, 0);
}

}  // namespace adam
