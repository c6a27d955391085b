// The CPU plan for optimizers with compact storage (kernels/compact.h): registers CompactPlan and
// the 8-bit maps (for lib's check that its maps are the same) on the addon's exports.
#pragma once
#include <napi.h>

namespace adam {
void RegisterCompactPlan(Napi::Env env, Napi::Object exports);
}
