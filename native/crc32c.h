// CRC-32C (Castagnoli) for checkpoints, on the CPU's CRC instruction where there is one.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace adam {
// Continues `crc` (0 to start; the value a previous call returned) over n bytes.
uint32_t Crc32c(const uint8_t* data, size_t n, uint32_t crc);
// crc32c(bytes: Uint8Array, crc: number) -> number
Napi::Value Crc32cBinding(const Napi::CallbackInfo& info);
}  // namespace adam
