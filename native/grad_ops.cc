// N-API entries for the gradient utilities: unwrap the arrays, split them into fixed jobs on the
// thread pool, and (for the norm) add the per-block sums in block order, so the result does not
// depend on the thread count. lib/ validates; this file re-checks what it relies on and throws.
#include "grad_ops.h"

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/grad_api.h"
#include "napi_args.h"
#include "parallel.h"

namespace adam {
namespace {

constexpr size_t kBlocksPerJob = 16;          // norm: 16K elements per job
constexpr size_t kElementsPerJob = 16384;     // scale, clamp

struct Span {
  float* data;
  size_t begin, end;  // element range of one array
};

const GradKernels& grad_kernels(Isa isa) {
#if defined(__aarch64__)
  static const GradKernels* const tables[kIsaCount] = {&kGradKernels_neon};
#else
  static const GradKernels* const tables[kIsaCount] = {&kGradKernels_sse2, &kGradKernels_avx2, &kGradKernels_avx512};
#endif
  return *tables[isa];
}

// (isa, threads, arrays, ...): checks the common arguments; fills the arrays' data and lengths.
struct Call {
  const GradKernels* kernels = nullptr;
  unsigned threads = 1;
  std::vector<float*> data;
  std::vector<size_t> lengths;
};

Call Unwrap(const Napi::CallbackInfo& info, const char* name, size_t args) {
  Napi::Env env = info.Env();
  if (info.Length() != args || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsArray())
    throw Napi::TypeError::New(env, std::string(name) + ": expected (isa, threads, arrays" + (args == 4 ? ", number)" : ")"));
  Call call;
  call.kernels = &grad_kernels(RequireIsa(env, info[0], name));
  call.threads = ThreadCount(info[1]);
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

std::vector<Span> Split(const Call& call, size_t size) {
  std::vector<Span> spans;
  for (size_t a = 0; a < call.data.size(); ++a)
    for (size_t begin = 0; begin < call.lengths[a]; begin += size)
      spans.push_back({call.data[a], begin, std::min(call.lengths[a], begin + size)});
  return spans;
}

struct NormJob {
  const GradKernels* kernels;
  const std::vector<Span>* blocks;
  std::vector<double>* sums;
  static void Run(void* ctx, size_t j) {
    auto* self = static_cast<NormJob*>(ctx);
    size_t end = std::min(self->blocks->size(), (j + 1) * kBlocksPerJob);
    for (size_t b = j * kBlocksPerJob; b < end; ++b) {
      const Span& s = (*self->blocks)[b];
      (*self->sums)[b] = self->kernels->block_sum_squares(s.data + s.begin, s.end - s.begin);
    }
  }
};

// sumSquares(isa, threads, arrays): the float64 sum of squares of every element, in the order of
// grad_api.h. NaN or Inf when an element is (a float32 square cannot overflow float64).
Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  Call call = Unwrap(info, "sumSquares", 3);
  std::vector<Span> blocks = Split(call, kNormBlock);
  std::vector<double> sums(blocks.size());
  NormJob job{call.kernels, &blocks, &sums};
  parallel_for(call.threads, (blocks.size() + kBlocksPerJob - 1) / kBlocksPerJob, &NormJob::Run, &job);
  double total = 0.0;
  for (double s : sums) total += s;
  return Napi::Number::New(info.Env(), total);
}

struct MapJob {
  void (*fn)(float*, size_t, float);
  const std::vector<Span>* spans;
  float value;
  static void Run(void* ctx, size_t j) {
    auto* self = static_cast<MapJob*>(ctx);
    const Span& s = (*self->spans)[j];
    self->fn(s.data + s.begin, s.end - s.begin, self->value);
  }
};

Napi::Value MapArrays(const Napi::CallbackInfo& info, const char* name, bool clamp) {
  Call call = Unwrap(info, name, 4);
  if (!info[3].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + ": the last argument must be a number");
  std::vector<Span> spans = Split(call, kElementsPerJob);
  MapJob job{clamp ? call.kernels->clamp : call.kernels->scale, &spans, info[3].As<Napi::Number>().FloatValue()};
  parallel_for(call.threads, spans.size(), &MapJob::Run, &job);
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
