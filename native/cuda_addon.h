// The addon's `cuda` export (device info, device buffers, step plans); see cuda_addon.cc.
#pragma once
#include <napi.h>

namespace adam {
Napi::Object CudaExports(Napi::Env env);
}
