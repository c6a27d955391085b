// The bench's yardstick: the memory traffic of an Adam step with none of its arithmetic.
#pragma once
#include <napi.h>

namespace adam {
Napi::Function StreamProbeClass(Napi::Env env);
}
