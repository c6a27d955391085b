// streamProbe(isa, [p, g, m, v], threads): p += g, m += g, v += g over four equal-length
// Float32Arrays, in place. It reads 4 arrays and writes 3, as fp32 Adam does (28 bytes per
// element), split into the same chunks on the same pool, with one add per array instead of Adam's
// arithmetic: the fastest an optimizer step of that shape can go on this machine (its roof).
// The loop is kernels/stream.h, compiled per ISA like the rules. Plain stores on purpose:
// non-temporal stores made this in-place pattern slower here.
#include "stream_probe.h"

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "parallel.h"
#include "plan_common.h"

namespace adam {
namespace {

struct Probe {
  StreamFn fn;
  float* a[4];
  Chunking chunks;
};

void RunJob(void* ctx, size_t job) {
  const Probe* probe = static_cast<const Probe*>(ctx);
  for (size_t c = probe->chunks.job_starts[job]; c < probe->chunks.job_starts[job + 1]; ++c) {
    const size_t begin = probe->chunks.chunks[c].begin, n = probe->chunks.chunks[c].end - begin;
    probe->fn(probe->a[0] + begin, probe->a[1] + begin, probe->a[2] + begin, probe->a[3] + begin, n);
  }
}

}  // namespace

Napi::Value StreamProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[1].IsArray())
    throw Napi::TypeError::New(env, "streamProbe(isa, arrays, threads): expected (number, Array, number)");
  Isa isa = RequireIsa(env, info[0], "streamProbe");
  const unsigned threads = ThreadCount(env, info[2], "streamProbe");
  Napi::Array arrays = info[1].As<Napi::Array>();
  if (arrays.Length() != 4) throw Napi::RangeError::New(env, "streamProbe: arrays must hold 4 Float32Arrays");
  Probe probe{isa_kernels(isa).stream, {}, {}};
  size_t n = 0;
  for (uint32_t k = 0; k < 4; ++k) {
    Napi::Value v = arrays[k];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(env, "streamProbe: arrays[" + std::to_string(k) + "] is not a Float32Array");
    Napi::Float32Array a = v.As<Napi::Float32Array>();
    if (k > 0 && a.ElementLength() != n)
      throw Napi::RangeError::New(env, "streamProbe: arrays[" + std::to_string(k) + "] has another length than arrays[0]");
    n = a.ElementLength();
    probe.a[k] = a.Data();
  }
  probe.chunks = chunk_tensors(std::vector<size_t>{n});
  parallel_for(threads, probe.chunks.jobs(), RunJob, &probe);
  return env.Undefined();
}

}  // namespace adam
