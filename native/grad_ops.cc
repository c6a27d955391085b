// N-API entries for the gradient utilities: unwrap the arrays, cut them with THE chunker
// (parallel.h) into fixed jobs on the thread pool, and (for the norm) add the per-block sums in
// block order, so the result does not depend on the thread count. lib/ validates; this file
// re-checks what it relies on and throws.
#include "grad_ops.h"

#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "parallel.h"
#include "plan_common.h"

namespace adam {
namespace {

// (isa, threads, arrays, ...): the common arguments, checked; the arrays' data and lengths.
struct Call {
  const GradKernels* kernels = nullptr;
  unsigned threads = 1;
  std::vector<float*> data;
  std::vector<size_t> lengths;
};

Call Unwrap(const Napi::CallbackInfo& info, const char* name, size_t args) {
  Napi::Env env = info.Env();
  if (info.Length() != args || !info[2].IsArray())
    throw Napi::TypeError::New(env, std::string(name) + ": expected (isa, threads, arrays" + (args == 4 ? ", number)" : ")"));
  Call call;
  call.kernels = &isa_kernels(RequireIsa(env, info[0], name)).grad;
  call.threads = ThreadCount(env, info[1], name);
  Napi::Array arrays = info[2].As<Napi::Array>();
  for (uint32_t i = 0; i < arrays.Length(); ++i) {
    Napi::Value v = arrays[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(env, std::string(name) + ": arrays[" + std::to_string(i) + "] is not a Float32Array");
    Napi::Float32Array a = v.As<Napi::Float32Array>();
    call.lengths.push_back(a.ElementLength());
    call.data.push_back(a.ElementLength() > 0 ? a.Data() : nullptr);
    if (a.ElementLength() > 0 && a.Data() == nullptr)
      throw Napi::Error::New(env, std::string(name) + ": arrays[" + std::to_string(i) + "] is detached");
  }
  return call;
}

struct NormJob {
  const GradKernels* kernels;
  const Call* call;
  const Chunking* blocks;
  std::vector<double>* sums;
  static void Run(void* ctx, size_t j) {
    auto* self = static_cast<NormJob*>(ctx);
    const Chunking& c = *self->blocks;
    for (size_t b = c.job_starts[j]; b < c.job_starts[j + 1]; ++b) {
      const Chunk& s = c.chunks[b];
      (*self->sums)[b] = self->kernels->block_sum_squares(self->call->data[s.tensor] + s.begin, s.end - s.begin);
    }
  }
};

// sumSquares(isa, threads, arrays): the float64 sum of squares of every element, in the order of
// grad_api.h. NaN or Inf when an element is (a float32 square cannot overflow float64).
Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  Call call = Unwrap(info, "sumSquares", 3);
  Chunking blocks = chunk_tensors(call.lengths, kNormBlock);
  std::vector<double> sums(blocks.chunks.size());
  NormJob job{call.kernels, &call, &blocks, &sums};
  parallel_for(call.threads, blocks.jobs(), &NormJob::Run, &job);
  double total = 0.0;
  for (double s : sums) total += s;
  return Napi::Number::New(info.Env(), total);
}

struct MapJob {
  void (*fn)(float*, size_t, float);
  const Call* call;
  const Chunking* spans;
  float value;
  static void Run(void* ctx, size_t j) {
    auto* self = static_cast<MapJob*>(ctx);
    const Chunking& c = *self->spans;
    for (size_t i = c.job_starts[j]; i < c.job_starts[j + 1]; ++i) {
      const Chunk& s = c.chunks[i];
      self->fn(self->call->data[s.tensor] + s.begin, s.end - s.begin, self->value);
    }
  }
};

Napi::Value MapArrays(const Napi::CallbackInfo& info, const char* name, bool clamp) {
  Call call = Unwrap(info, name, 4);
  const float value = ToFloat32(info.Env(), info[3], std::string(name) + ": the last argument");
  Chunking spans = chunk_tensors(call.lengths);
  MapJob job{clamp ? call.kernels->clamp : call.kernels->scale, &call, &spans, value};
  parallel_for(call.threads, spans.jobs(), &MapJob::Run, &job);
  return info.Env().Undefined();
}

// scaleArrays(isa, threads, arrays, factor): x = x*factor (factor rounded to float32).
Napi::Value ScaleArrays(const Napi::CallbackInfo& info) { return MapArrays(info, "scaleArrays", false); }
// clampArrays(isa, threads, arrays, limit): x = min(limit, max(-limit, x)).
Napi::Value ClampArrays(const Napi::CallbackInfo& info) { return MapArrays(info, "clampArrays", true); }

}  // namespace

void RegisterGradOps(Napi::Env env, Napi::Object exports) {
  exports["sumSquares"] = Napi::Function::New(env, SumSquares, "sumSquares");
  exports["scaleArrays"] = Napi::Function::New(env, ScaleArrays, "scaleArrays");
  exports["clampArrays"] = Napi::Function::New(env, ClampArrays, "clampArrays");
}

}  // namespace adam
