// stepRows: one rule over the touched rows of one row-sparse tensor, on the thread pool. lib/
// plans the coalescing (rows ascending and distinct, each with the positions of its grad rows in
// order of appearance) and validates; each job sums its rows' grads in that order into a scratch
// block (the bits of lib/sparse.ts gatherRows), then runs the row kernel on the block. This file
// re-checks everything it relies on (lengths, ranges, order, detached and overlapping arrays).
#include "sparse_rows.h"

#include <cstring>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "parallel.h"
#include "plan_common.h"
#include "tracked_arrays.h"

namespace adam {
namespace {

// Elements per job of rows: four chunks, so a step of a few thousand rows is one job (waking
// the pool costs more than it saves there). Fixed by the row count and size only.
constexpr size_t kRowJobElements = 4 * kChunkElements;

// Floats of summed grad a job holds at once: 16 KiB of stack, so no thread-local state (which
// would need a newer glibc than the portable build allows) and no allocation per step.
constexpr size_t kScratchFloats = 4096;

struct RowsJob {
  RowKernelFn kernel;
  const float* scalars;
  uint32_t flags;
  const float* const* slots;  // slots[1]: the grad as given
  const int32_t* rows;
  const uint32_t* order;
  const uint32_t* starts;
  size_t rows_count, rows_per_job, row_size, slot_count;
  float* long_rows;  // rows longer than kScratchFloats: one row of scratch per job, else nullptr
  static void Run(void* ctx, size_t j) {
    const auto* self = static_cast<const RowsJob*>(ctx);
    const size_t begin = j * self->rows_per_job;
    const size_t end = std::min(self->rows_count, begin + self->rows_per_job);
    const size_t n = self->row_size;
    // The summed grads of a block of rows, on the stack (a longer row: the call's scratch).
    float stack[kScratchFloats];
    float* scratch = self->long_rows ? self->long_rows + j * n : stack;
    const size_t block = self->long_rows ? 1 : kScratchFloats / n;
    const float* grad = self->slots[1];
    float* slots[kMaxSlots];
    for (size_t k = 0; k < self->slot_count; ++k) slots[k] = const_cast<float*>(self->slots[k]);
    slots[1] = scratch;
    for (size_t b = begin; b < end; b += block) {
      const size_t stop = std::min(end, b + block);
      for (size_t u = b; u < stop; ++u) {
        float* out = scratch + (u - b) * n;
        std::memcpy(out, grad + size_t{self->order[self->starts[u]]} * n, n * sizeof(float));
        for (uint32_t k = self->starts[u] + 1; k < self->starts[u + 1]; ++k) {
          const float* g = grad + size_t{self->order[k]} * n;
          for (size_t i = 0; i < n; ++i) out[i] += g[i];
        }
      }
      self->kernel(self->scalars, self->flags, slots, self->rows + b, 0, stop - b, n);
    }
  }
};

// A typed array of this type (any length): its data and length, or a TypeError naming `what`.
template <class T>
const T* TypedArg(Napi::Env env, Napi::Value v, napi_typedarray_type type, const std::string& what, size_t* length) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(env, what);
  *length = v.As<Napi::TypedArray>().ElementLength();
  const T* data = static_cast<const T*>(TypedData(env, v, type, *length));
  if (!data) throw Napi::TypeError::New(env, what);
  return data;
}

// stepRows(rule, isa, threads, slots, rows, order, starts, rowSize, scalars, flags): slots as a
// plan's tensor (param, grad as given, state...; null for an absent slot), rows an Int32Array of
// strictly ascending row numbers; row u's grad is the sum, in order, of the grad rows
// order[starts[u]] .. order[starts[u+1]-1].
Napi::Value StepRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string who = "stepRows";
  if (info.Length() != 10 || !info[3].IsArray())
    throw Napi::TypeError::New(env, who + "(rule, isa, threads, slots, rows, order, starts, rowSize, scalars, flags): expected 10 arguments, slots an Array");
  const RuleId rule = RequireRule(env, info[0], who);
  const RowKernelFn kernel = isa_kernels(RequireIsa(env, info[1], who)).rows[rule];
  const unsigned threads = ThreadCount(env, info[2], who);
  const RuleLayout& layout = kRuleLayouts[rule];
  Napi::Array list = info[3].As<Napi::Array>();
  if (list.Length() != layout.slots)
    throw Napi::RangeError::New(env, who + ": slots must hold rule " + layout.name + "'s " + std::to_string(layout.slots) + " slots");
  const uint32_t row_size = ToIndex(env, info[7], UINT32_MAX, who + ": rowSize");
  if (row_size == 0) throw Napi::RangeError::New(env, who + ": rowSize must be positive");
  size_t n_rows = 0, n_order = 0, n_starts = 0;
  const int32_t* rows_data = TypedArg<int32_t>(env, info[4], napi_int32_array, who + ": rows must be an Int32Array", &n_rows);
  const uint32_t* order_data = TypedArg<uint32_t>(env, info[5], napi_uint32_array, who + ": order must be a Uint32Array", &n_order);
  const uint32_t* starts_data = TypedArg<uint32_t>(env, info[6], napi_uint32_array, who + ": starts must be a Uint32Array", &n_starts);
  // Copies: the kernels write the float arrays, which might share memory with these.
  const std::vector<int32_t> rows(rows_data, rows_data + n_rows);
  const std::vector<uint32_t> order(order_data, order_data + n_order);
  const std::vector<uint32_t> starts(starts_data, starts_data + n_starts);
  const float* scalars = static_cast<const float*>(TypedData(env, info[8], napi_float32_array, layout.scalars));
  if (!scalars) throw Napi::TypeError::New(env, who + ": scalars must be a Float32Array of " + std::to_string(layout.scalars));
  const uint32_t flags = static_cast<uint32_t>(ToIndex(env, info[9], UINT32_MAX, who + ": flags"));

  TrackedArrays arrays;
  float* slots[kMaxSlots] = {};
  size_t length = 0;
  uint32_t present = 0;
  for (uint32_t k = 0; k < layout.slots; ++k) {
    Napi::Value v = list[k];
    if (v.IsNull() || v.IsUndefined()) continue;
    size_t n = 0;
    const std::string where = who + ": slot " + std::to_string(k) + " (" + layout.slot_names[k] + ")";
    slots[k] = arrays.Add(env, v, where, &n);
    const size_t want = k == 1 ? order.size() * row_size : (k == 0 ? n : length);
    if (k == 0) length = n;
    if (n != want) throw Napi::RangeError::New(env, where + " has length " + std::to_string(n) + ", expected " + std::to_string(want));
    present |= 1u << k;
  }
  const uint32_t required = required_slots(rule, flags);
  if ((present & required) != required || (present & 3u) != 3u)
    throw Napi::Error::New(env, who + ": a slot the flags need was not given");
  if (length % row_size != 0) throw Napi::RangeError::New(env, who + ": rowSize does not divide the param's length");
  arrays.CheckOverlap(env);
  const size_t row_count = length / row_size;
  for (size_t k = 0; k < rows.size(); ++k) {
    if (rows[k] < 0 || static_cast<size_t>(rows[k]) >= row_count)
      throw Napi::RangeError::New(env, who + ": rows[" + std::to_string(k) + "] = " + std::to_string(rows[k]) +
                                           " is outside [0, " + std::to_string(row_count) + ")");
    if (k > 0 && rows[k] <= rows[k - 1])
      throw Napi::RangeError::New(env, who + ": rows must be strictly ascending (coalesced); rows[" + std::to_string(k) + "] is not");
  }
  // Every run of the plan non-empty and inside order; every position inside the grad.
  if (starts.size() != rows.size() + 1 || starts[0] != 0 || starts.back() != order.size())
    throw Napi::RangeError::New(env, who + ": starts must hold rows.length + 1 offsets, from 0 to order.length");
  for (size_t u = 0; u < rows.size(); ++u)
    if (starts[u + 1] <= starts[u]) throw Napi::RangeError::New(env, who + ": starts must be strictly ascending");
  for (size_t k = 0; k < order.size(); ++k)
    if (order[k] >= order.size())
      throw Napi::RangeError::New(env, who + ": order[" + std::to_string(k) + "] is outside the grad's " + std::to_string(order.size()) + " rows");
  if (rows.empty()) return env.Undefined();
  const size_t rows_per_job = std::max<size_t>(1, kRowJobElements / row_size);
  const size_t jobs = (rows.size() + rows_per_job - 1) / rows_per_job;
  std::vector<float> long_rows(row_size > kScratchFloats ? jobs * row_size : 0);
  RowsJob job{kernel,        scalars,        flags,       slots,        rows.data(),
              order.data(),  starts.data(),  rows.size(), rows_per_job, row_size,
              layout.slots,  long_rows.empty() ? nullptr : long_rows.data()};
  parallel_for(threads, jobs, &RowsJob::Run, &job);
  return env.Undefined();
}

}  // namespace

void RegisterSparseRows(Napi::Env env, Napi::Object exports) {
  exports["stepRows"] = Napi::Function::New(env, StepRows, "stepRows");
}

}  // namespace adam
