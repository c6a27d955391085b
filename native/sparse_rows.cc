// stepRows: one rule over the touched rows of one row-sparse tensor, on the thread pool. lib/
// coalesces (ascending, distinct rows) and validates; this file re-checks everything the row
// kernels rely on (lengths, row range and order, detached and overlapping arrays) and throws.
#include "sparse_rows.h"

#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "parallel.h"
#include "plan_common.h"
#include "tracked_arrays.h"

namespace adam {
namespace {

struct RowsJob {
  RowKernelFn kernel;
  const float* scalars;
  uint32_t flags;
  float* const* slots;
  const int32_t* rows;
  size_t rows_count, rows_per_job, row_size;
  static void Run(void* ctx, size_t j) {
    const auto* self = static_cast<const RowsJob*>(ctx);
    const size_t begin = j * self->rows_per_job;
    const size_t end = std::min(self->rows_count, begin + self->rows_per_job);
    self->kernel(self->scalars, self->flags, self->slots, self->rows, begin, end, self->row_size);
  }
};

// stepRows(rule, isa, threads, slots, rows, rowSize, scalars, flags): slots as a plan's tensor
// (param, coalesced grad, state...; null for an absent slot), rows an Int32Array of strictly
// ascending row numbers, the grad holding rows.length*rowSize values.
Napi::Value StepRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string who = "stepRows";
  if (info.Length() != 8 || !info[3].IsArray())
    throw Napi::TypeError::New(env, who + "(rule, isa, threads, slots, rows, rowSize, scalars, flags): expected 8 arguments, slots an Array");
  const RuleId rule = RequireRule(env, info[0], who);
  const RowKernelFn kernel = isa_kernels(RequireIsa(env, info[1], who)).rows[rule];
  const unsigned threads = ThreadCount(env, info[2], who);
  const RuleLayout& layout = kRuleLayouts[rule];
  Napi::Array list = info[3].As<Napi::Array>();
  if (list.Length() != layout.slots)
    throw Napi::RangeError::New(env, who + ": slots must hold rule " + layout.name + "'s " + std::to_string(layout.slots) + " slots");
  const uint32_t row_size = ToIndex(env, info[5], UINT32_MAX, who + ": rowSize");
  if (row_size == 0) throw Napi::RangeError::New(env, who + ": rowSize must be positive");
  const int32_t* rows_data = static_cast<const int32_t*>(
      info[4].IsTypedArray() ? TypedData(env, info[4], napi_int32_array, info[4].As<Napi::TypedArray>().ElementLength()) : nullptr);
  if (!rows_data) throw Napi::TypeError::New(env, who + ": rows must be an Int32Array");
  // A copy: the kernels write the float arrays, which might share memory with the rows.
  const std::vector<int32_t> rows(rows_data, rows_data + info[4].As<Napi::TypedArray>().ElementLength());
  const float* scalars = static_cast<const float*>(TypedData(env, info[6], napi_float32_array, layout.scalars));
  if (!scalars) throw Napi::TypeError::New(env, who + ": scalars must be a Float32Array of " + std::to_string(layout.scalars));
  const uint32_t flags = static_cast<uint32_t>(ToIndex(env, info[7], UINT32_MAX, who + ": flags"));

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
    const size_t want = k == 1 ? rows.size() * row_size : (k == 0 ? n : length);
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
  if (rows.empty()) return env.Undefined();
  // Jobs of whole rows, about a chunk's elements each: fixed by the row count and size only.
  RowsJob job{kernel, scalars, flags, slots, rows.data(), rows.size(), std::max<size_t>(1, kChunkElements / row_size), row_size};
  parallel_for(threads, (rows.size() + job.rows_per_job - 1) / job.rows_per_job, &RowsJob::Run, &job);
  return env.Undefined();
}

}  // namespace

void RegisterSparseRows(Napi::Env env, Napi::Object exports) {
  exports["stepRows"] = Napi::Function::New(env, StepRows, "stepRows");
}

}  // namespace adam
