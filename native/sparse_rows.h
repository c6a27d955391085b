#pragma once
#include <napi.h>

namespace adam {
// Adds stepRows (sparse_rows.cc) to the addon's exports.
void RegisterSparseRows(Napi::Env env, Napi::Object exports);
}  // namespace adam
