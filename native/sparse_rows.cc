// stepRows: one rule over the touched rows of one row-sparse tensor, on the thread pool.
// coalesceRows plans the coalescing (rows ascending and distinct, each with the positions of its
// grad rows in order of appearance: the plan of lib/sparse.ts coalescePlan) into the caller's
// buffers; stepRows runs a rule on each row, its grad the given row where a row appears once and
// else the sum of its rows in that order (the bits of lib/sparse.ts gatherRows). stepRows
// re-checks everything it relies on (lengths, ranges, order, overlapping arrays).
#include "sparse_rows.h"

#include <cstring>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "parallel.h"
#include "plan_common.h"

namespace adam {
namespace {

// Elements per job of rows: four chunks, so a step of a few thousand rows is one job (waking
// the pool costs more than it saves there). Fixed by the row count and size only.
constexpr size_t kRowJobElements = 4 * kChunkElements;

// Rows per call of the row kernel (their grad pointers are on the stack), and floats of summed
// duplicate grads a job holds at once (16 KiB of stack): no thread-local state (which would need
// a newer glibc than the portable build allows) and no allocation per step.
constexpr size_t kBlockRows = 256;
constexpr size_t kScratchFloats = 4096;

struct RowsJob {
  RowKernelFn kernel;
  const float* scalars;
  uint32_t flags;
  float* const* slots;
  const float* grad;  // as given: row k for the k-th index
  const int32_t* rows;
  const uint32_t* order;
  const uint32_t* starts;
  size_t rows_count, rows_per_job, row_size;
  float* long_rows;  // rows longer than kScratchFloats: one row of scratch per job, else nullptr

  // Row u's grad: the given row when u appears once, else its rows summed in order into `out`.
  const float* GradOf(size_t u, float* out) const {
    const size_t n = row_size;
    const float* first = grad + size_t{order[starts[u]]} * n;
    if (starts[u + 1] - starts[u] == 1) return first;
    const float* second = grad + size_t{order[starts[u] + 1]} * n;
    for (size_t i = 0; i < n; ++i) out[i] = first[i] + second[i];
    for (uint32_t k = starts[u] + 2; k < starts[u + 1]; ++k) {
      const float* g = grad + size_t{order[k]} * n;
      for (size_t i = 0; i < n; ++i) out[i] += g[i];
    }
    return out;
  }

  // The grad rows a summed row u reads (the row kernel prefetches the others itself).
  void PrefetchSums(size_t u) const {
    if (starts[u + 1] - starts[u] == 1) return;
    const size_t lines = std::min<size_t>(16, (row_size * sizeof(float) + 63) / 64);
    for (uint32_t k = starts[u]; k < starts[u + 1]; ++k) {
      const char* g = reinterpret_cast<const char*>(grad + size_t{order[k]} * row_size);
      for (size_t l = 0; l < lines; ++l) __builtin_prefetch(g + 64 * l, 0);
    }
  }

  static void Run(void* ctx, size_t j) {
    const auto* self = static_cast<const RowsJob*>(ctx);
    const size_t n = self->row_size;
    const size_t begin = j * self->rows_per_job;
    const size_t end = std::min(self->rows_count, begin + self->rows_per_job);
    float stack[kScratchFloats];
    float* scratch = self->long_rows ? self->long_rows + j * n : stack;
    const size_t capacity = self->long_rows ? n : kScratchFloats;
    const float* grads[kBlockRows];
    // Sums read scattered grad rows: ask for them kSumAhead rows before they are added.
    constexpr size_t kSumAhead = 16;
    for (size_t u = begin; u < std::min(end, begin + kSumAhead); ++u) self->PrefetchSums(u);
    for (size_t b = begin; b < end;) {
      // A block: up to kBlockRows rows, fewer when the scratch fills with duplicates' sums.
      size_t count = 0, used = 0;
      for (; b + count < end && count < kBlockRows; ++count) {
        const size_t u = b + count;
        const bool summed = self->starts[u + 1] - self->starts[u] > 1;
        if (summed && used + n > capacity) break;
        if (u + kSumAhead < end) self->PrefetchSums(u + kSumAhead);
        grads[count] = self->GradOf(u, scratch + used);
        if (summed) used += n;
      }
      self->kernel(self->scalars, self->flags, self->slots, self->rows + b, grads, count, n);
      b += count;
    }
  }
};

// A typed array of this type (any length): its data and length, or a TypeError naming `what`.
template <class T>
T* TypedArg(Napi::Env env, Napi::Value v, napi_typedarray_type type, const char* what, size_t* length) {
  napi_typedarray_type got;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, v, &got, length, &data, nullptr, nullptr) != napi_ok || got != type)
    throw Napi::TypeError::New(env, what);
  return static_cast<T*>(data);
}

// A typed array's memory, for the overlap checks.
struct Span {
  const void* begin;
  const void* end;
  template <class T>
  Span(const T* data, size_t n) : begin(data), end(data + n) {}
  bool Overlaps(const Span& o) const { return begin != end && o.begin != o.end && begin < o.end && o.begin < end; }
};

// stepRows(rule, isa, threads, slots, rows, order, starts, rowSize, scalars, flags): slots as a
// plan's tensor (param, grad as given, state...; null for an absent slot), rows an Int32Array of
// strictly ascending row numbers; row u's grad is the sum, in order, of the grad rows
// order[starts[u]] .. order[starts[u+1]-1]. Synchronous: no array can change during the call.
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
  const int32_t* rows = TypedArg<int32_t>(env, info[4], napi_int32_array, "stepRows: rows must be an Int32Array", &n_rows);
  const uint32_t* order = TypedArg<uint32_t>(env, info[5], napi_uint32_array, "stepRows: order must be a Uint32Array", &n_order);
  const uint32_t* starts = TypedArg<uint32_t>(env, info[6], napi_uint32_array, "stepRows: starts must be a Uint32Array", &n_starts);
  const float* scalars = static_cast<const float*>(TypedData(env, info[8], napi_float32_array, layout.scalars));
  if (!scalars) throw Napi::TypeError::New(env, who + ": scalars must be a Float32Array of " + std::to_string(layout.scalars));
  const uint32_t flags = static_cast<uint32_t>(ToIndex(env, info[9], UINT32_MAX, who + ": flags"));

  float* slots[kMaxSlots] = {};
  size_t lengths[kMaxSlots] = {};
  size_t length = 0;
  uint32_t present = 0;
  auto where = [&](uint32_t k) { return who + ": slot " + std::to_string(k) + " (" + layout.slot_names[k] + ")"; };
  for (uint32_t k = 0; k < layout.slots; ++k) {
    Napi::Value v = list[k];
    if (v.IsNull() || v.IsUndefined()) continue;
    size_t& n = lengths[k];
    napi_typedarray_type type;
    void* data = nullptr;
    if (napi_get_typedarray_info(env, v, &type, &n, &data, nullptr, nullptr) != napi_ok || type != napi_float32_array)
      throw Napi::TypeError::New(env, where(k) + " is not a Float32Array");
    slots[k] = static_cast<float*>(data);
    const size_t want = k == 1 ? n_order * row_size : (k == 0 ? n : length);
    if (k == 0) length = n;
    if (n != want) throw Napi::RangeError::New(env, where(k) + " has length " + std::to_string(n) + ", expected " + std::to_string(want));
    present |= 1u << k;
  }
  const uint32_t required = required_slots(rule, flags);
  if ((present & required) != required || (present & 3u) != 3u)
    throw Napi::Error::New(env, who + ": a slot the flags need was not given");
  if (length % row_size != 0) throw Napi::RangeError::New(env, who + ": rowSize does not divide the param's length");
  // What the kernels write (every slot but the grad) shares memory with nothing they read.
  const Span plan[] = {Span(rows, n_rows), Span(order, n_order), Span(starts, n_starts)};
  for (uint32_t k = 0; k < layout.slots; ++k) {
    if (k == 1 || !slots[k]) continue;
    const Span written(slots[k], lengths[k]);
    for (uint32_t o = 0; o < layout.slots; ++o)
      if (o != k && slots[o] && (o < k || o == 1) && written.Overlaps(Span(slots[o], lengths[o])))
        throw Napi::Error::New(env, where(std::min(k, o)) + " and " + where(std::max(k, o)) +
                                        " share memory: every array of an optimizer needs its own");
    for (const Span& s : plan)
      if (written.Overlaps(s))
        throw Napi::Error::New(env, where(k) + " shares memory with rows, order or starts");
  }
  const size_t row_count = length / row_size;
  for (size_t k = 0; k < n_rows; ++k) {
    if (rows[k] < 0 || static_cast<size_t>(rows[k]) >= row_count)
      throw Napi::RangeError::New(env, who + ": rows[" + std::to_string(k) + "] = " + std::to_string(rows[k]) +
                                           " is outside [0, " + std::to_string(row_count) + ")");
    if (k > 0 && rows[k] <= rows[k - 1])
      throw Napi::RangeError::New(env, who + ": rows must be strictly ascending (coalesced); rows[" + std::to_string(k) + "] is not");
  }
  // Every run of the plan non-empty and inside order; every position inside the grad.
  if (n_starts != n_rows + 1 || starts[0] != 0 || starts[n_rows] != n_order)
    throw Napi::RangeError::New(env, who + ": starts must hold rows.length + 1 offsets, from 0 to order.length");
  for (size_t u = 0; u < n_rows; ++u)
    if (starts[u + 1] <= starts[u]) throw Napi::RangeError::New(env, who + ": starts must be strictly ascending");
  for (size_t k = 0; k < n_order; ++k)
    if (order[k] >= n_order)
      throw Napi::RangeError::New(env, who + ": order[" + std::to_string(k) + "] is outside the grad's " + std::to_string(n_order) + " rows");
  if (n_rows == 0) return env.Undefined();
  const size_t rows_per_job = std::max<size_t>(1, kRowJobElements / row_size);
  const size_t jobs = (n_rows + rows_per_job - 1) / rows_per_job;
  std::vector<float> long_rows(row_size > kScratchFloats ? jobs * row_size : 0);
  RowsJob job{kernel, scalars,  flags,        slots,    slots[1],
              rows,   order,    starts,       n_rows,   rows_per_job,
              row_size, long_rows.empty() ? nullptr : long_rows.data()};
  parallel_for(threads, jobs, &RowsJob::Run, &job);
  return env.Undefined();
}

// Positions 0..n-1 of `indices` sorted by (row, position) into `order`: a least-significant-digit
// radix sort, a byte a pass (stable, so a row's duplicates keep their order of appearance);
// passes whose byte is the same for every index are skipped (a table of 2^20 rows needs three).
// `counts`: the histograms of the four bytes, counted by the caller. `spare`: n more places.
void SortPositions(const int32_t* indices, size_t n, const uint32_t (*counts)[256], uint32_t* order, uint32_t* spare) {
  int digits[4], passes = 0;
  for (int d = 0; d < 4; ++d)
    if (counts[d][static_cast<uint32_t>(indices[0]) >> (8 * d) & 255u] != n) digits[passes++] = d;
  if (passes == 0) {
    for (size_t k = 0; k < n; ++k) order[k] = static_cast<uint32_t>(k);
    return;
  }
  // Ping-pong so that the last pass writes `order`; the first reads the positions 0..n-1 as given.
  uint32_t* to = passes % 2 ? order : spare;
  const uint32_t* from = nullptr;
  for (int p = 0; p < passes; ++p) {
    const int shift = 8 * digits[p];
    uint32_t at[256];
    uint32_t sum = 0;
    for (int b = 0; b < 256; ++b) at[b] = sum, sum += counts[digits[p]][b];
    if (p == 0) {
      for (size_t k = 0; k < n; ++k) to[at[static_cast<uint32_t>(indices[k]) >> shift & 255u]++] = static_cast<uint32_t>(k);
    } else {
      for (size_t k = 0; k < n; ++k) {
        const uint32_t pos = from[k];
        to[at[static_cast<uint32_t>(indices[pos]) >> shift & 255u]++] = pos;
      }
    }
    from = to;
    to = to == order ? spare : order;
  }
}

// coalesceRows(indices, rowCount, rows, order, starts): the coalescing plan of `indices` (row
// numbers of a table of rowCount rows) written into the caller's buffers, which may be longer
// than needed: order[0..n) the positions sorted by (row, position), rows[0..u) the distinct rows
// ascending and starts[0..u] where each row's run in order begins (starts[u] = n). Returns u, or
// -1 - k for the first k whose indices[k] is outside [0, rowCount), having written nothing
// meaningful. One pass checks the rows and counts the sort's digits.
Napi::Value CoalesceRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 5)
    throw Napi::TypeError::New(env, "coalesceRows(indices, rowCount, rows, order, starts): expected 5 arguments");
  size_t n = 0, n_rows = 0, n_order = 0, n_starts = 0;
  const int32_t* indices = TypedArg<int32_t>(env, info[0], napi_int32_array, "coalesceRows: indices must be an Int32Array", &n);
  const uint32_t row_count = ToIndex(env, info[1], 0x80000001u, "coalesceRows: rowCount");  // up to 2^31
  int32_t* rows = TypedArg<int32_t>(env, info[2], napi_int32_array, "coalesceRows: rows must be an Int32Array", &n_rows);
  uint32_t* order = TypedArg<uint32_t>(env, info[3], napi_uint32_array, "coalesceRows: order must be a Uint32Array", &n_order);
  uint32_t* starts = TypedArg<uint32_t>(env, info[4], napi_uint32_array, "coalesceRows: starts must be a Uint32Array", &n_starts);
  if (n > UINT32_MAX - 1) throw Napi::RangeError::New(env, "coalesceRows: more than 2^32 - 2 indices");
  if (n_rows < n || n_order < n || n_starts < n + 1)
    throw Napi::RangeError::New(env, "coalesceRows: rows and order need indices.length places, starts one more");
  const Span spans[] = {Span(indices, n), Span(rows, n_rows), Span(order, n_order), Span(starts, n_starts)};
  for (int a = 0; a < 4; ++a)
    for (int b = a + 1; b < 4; ++b)
      if (spans[a].Overlaps(spans[b])) throw Napi::Error::New(env, "coalesceRows: indices, rows, order and starts must not share memory");
  uint32_t counts[4][256] = {};
  bool ascending = true;
  for (size_t k = 0; k < n; ++k) {
    const int32_t r = indices[k];
    if (r < 0 || static_cast<uint32_t>(r) >= row_count) return Napi::Number::New(env, -1.0 - static_cast<double>(k));
    const uint32_t key = static_cast<uint32_t>(r);
    ++counts[0][key & 255u], ++counts[1][key >> 8 & 255u], ++counts[2][key >> 16 & 255u], ++counts[3][key >> 24];
    if (k > 0 && r < indices[k - 1]) ascending = false;
  }
  if (n == 0) {
    starts[0] = 0;
    return Napi::Number::New(env, 0);
  }
  if (ascending) {
    for (size_t k = 0; k < n; ++k) order[k] = static_cast<uint32_t>(k);
  } else {
    SortPositions(indices, n, counts, order, starts);  // starts: spare until the runs are written
  }
  size_t u = 0;
  for (size_t k = 0; k < n; ++k) {
    const int32_t row = indices[order[k]];
    if (k == 0 || row != rows[u - 1]) {
      rows[u] = row;
      starts[u++] = static_cast<uint32_t>(k);
    }
  }
  starts[u] = static_cast<uint32_t>(n);
  return Napi::Number::New(env, static_cast<double>(u));
}

}  // namespace

void RegisterSparseRows(Napi::Env env, Napi::Object exports) {
  exports["stepRows"] = Napi::Function::New(env, StepRows, "stepRows");
  exports["coalesceRows"] = Napi::Function::New(env, CoalesceRows, "coalesceRows");
}

}  // namespace adam
