// The addon's gradient utilities (sumSquares, scaleArrays, clampArrays): see grad_ops.cc.
#pragma once
#include <napi.h>

namespace adam {
void RegisterGradOps(Napi::Env env, Napi::Object exports);
}  // namespace adam
