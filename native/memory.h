// Float32Arrays over memory the library allocates itself: 64-byte aligned, and for large arrays
// 2 MiB aligned with transparent huge pages requested (fewer TLB misses when streaming).
#pragma once
#include <napi.h>

namespace adam {
Napi::Value AllocFloat32(const Napi::CallbackInfo& info);
Napi::Value FreeFloat32(const Napi::CallbackInfo& info);
}
