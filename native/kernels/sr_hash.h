// The counter-based hash of stochastic rounding (stochastic.h), host+device: the CPU kernels, the
// CUDA kernels and the plans (which make each tensor's key once per step) share it.
// lib/compact/stochastic.ts mirrors it.
// The hash, counter-based so every backend, ISA and thread count draws the same bits:
//   mix(x)  = murmur3's 32-bit finaliser: x ^= x >> 16; x *= 0x85ebca6b; x ^= x >> 13;
//             x *= 0xc2b2ae35; x ^= x >> 16 (all mod 2^32)
//   key     = mix(mix(mix(seed) ^ step) ^ param)      once per tensor and step
//   h       = mix(key ^ element)                       per element (element index mod 2^32)
#pragma once
#include <cstdint>

#ifndef ADAM_HD
#define ADAM_HD  // __host__ __device__ in the CUDA units (native/cuda), which define it first
#endif

namespace adam {

ADAM_HD inline uint32_t sr_mix(uint32_t x) {
  x ^= x >> 16;
  x *= 0x85ebca6bu;
  x ^= x >> 13;
  x *= 0xc2b2ae35u;
  x ^= x >> 16;
  return x;
}
ADAM_HD inline uint32_t sr_key(uint32_t seed, uint32_t step, uint32_t param) { return sr_mix(sr_mix(sr_mix(seed) ^ step) ^ param); }

}  // namespace adam
