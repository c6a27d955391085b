// Arguments every N-API entry that runs CPU kernels takes: the ISA and the thread count.
#pragma once
#include <napi.h>

#include <string>

#include "kernels/dispatch.h"
#include "parallel.h"

namespace adam {

// An index into the kernel tables this CPU can run; otherwise a RangeError naming `who`.
inline Isa RequireIsa(Napi::Env env, Napi::Value value, const std::string& who) {
  uint32_t isa = value.As<Napi::Number>().Uint32Value();
  if (!isa_supported(static_cast<Isa>(isa)))  // also false past kIsaCount
    throw Napi::RangeError::New(env, who + ": this CPU cannot run isa " + std::to_string(isa));
  return static_cast<Isa>(isa);
}

// Threads for the pool: the requested count in [1, 1024], else every hardware thread.
inline unsigned ThreadCount(Napi::Value value) {
  double threads = value.As<Napi::Number>().DoubleValue();
  return threads >= 1 && threads <= 1024 ? static_cast<unsigned>(threads) : hardware_threads();
}

}  // namespace adam
