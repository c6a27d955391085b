// Float32Arrays over memory V8 owns (so the garbage collector sees, counts and frees it): 64-byte
// aligned views, and for large arrays 2 MiB aligned with transparent huge pages requested (fewer
// TLB misses when streaming), committed page by page on first touch. Where the runtime refuses the
// buffer (over its ArrayBuffer limit), a plain Float32Array.
#pragma once
#include <napi.h>

#include <atomic>

namespace adam {
Napi::Value AllocFloat32(const Napi::CallbackInfo& info);
Napi::Value FreeFloat32(const Napi::CallbackInfo& info);

// Native steps running off the JavaScript thread, in every environment of the process. While any
// runs, freeFloat32 frees nothing: a detached V8 buffer is freed at once.
std::atomic<int>& StepsInFlight();
}
