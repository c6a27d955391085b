// CRC-32C, reflected polynomial 0x82F63B78, initial and final xor 0xFFFFFFFF: 8 bytes per CRC
// instruction (SSE4.2 crc32 on x86-64, ARMv8 crc32cx on AArch64), chosen once at run time, so the
// unit keeps the baseline flags and loads on CPUs without it; the bitwise definition elsewhere.
#include "crc32c.h"

#include <cstring>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <arm_acle.h>
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif

namespace adam {
namespace {

using CrcFn = uint32_t (*)(const uint8_t*, size_t, uint32_t);

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);  // unaligned, little-endian on both targets
  return v;
}

// The definition, a bit at a time: for CPUs without the instruction.
uint32_t Portable(const uint8_t* p, size_t n, uint32_t crc) {
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t Hardware(const uint8_t* p, size_t n, uint32_t crc) {
  uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) c = _mm_crc32_u64(c, Load64(p));
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
  return c32;
}

CrcFn Select() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2) ? Hardware : Portable;
}
#elif defined(__aarch64__) && defined(__linux__)
__attribute__((target("+crc"))) uint32_t Hardware(const uint8_t* p, size_t n, uint32_t crc) {
  for (; n >= 8; n -= 8, p += 8) crc = __crc32cd(crc, Load64(p));
  for (; n > 0; --n, ++p) crc = __crc32cb(crc, *p);
  return crc;
}

CrcFn Select() { return getauxval(AT_HWCAP) & HWCAP_CRC32 ? Hardware : Portable; }
#else
CrcFn Select() { return Portable; }
#endif

}  // namespace

uint32_t Crc32c(const uint8_t* data, size_t n, uint32_t crc) {
  static const CrcFn fn = Select();
  return ~fn(data, n, ~crc);
}

Napi::Value Crc32cBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2) throw Napi::TypeError::New(env, "crc32c(bytes, crc): expected 2 arguments");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  if (!info[0].IsTypedArray() ||
      napi_get_typedarray_info(env, info[0], &type, &length, &data, &buffer, nullptr) != napi_ok ||
      type != napi_uint8_array)
    throw Napi::TypeError::New(env, "crc32c: bytes must be a Uint8Array");
  bool detached = false;
  if (napi_is_detached_arraybuffer(env, buffer, &detached) != napi_ok || detached || (length > 0 && data == nullptr))
    throw Napi::TypeError::New(env, "crc32c: bytes is a view of a detached ArrayBuffer");
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "crc32c: crc must be a number");
  const double crc = info[1].As<Napi::Number>().DoubleValue();
  if (!(crc >= 0 && crc <= 4294967295.0) || crc != static_cast<double>(static_cast<uint32_t>(crc)))
    throw Napi::RangeError::New(env, "crc32c: crc must be an integer from 0 to 4294967295, got " +
                                         info[1].ToString().Utf8Value());
  return Napi::Number::New(env, Crc32c(static_cast<const uint8_t*>(data), length, static_cast<uint32_t>(crc)));
}

}  // namespace adam
