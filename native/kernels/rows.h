// Runs one rule over the touched rows of a row-sparse tensor: each row is a short tensor of
// row_size elements given to the same per-flag loops as a dense tensor (driver.h), so every
// element gets the rule's exact operations, whatever the vector width. Included inside an ISA
// namespace after driver.h.
//
// Row k is rows[k] of the whole-tensor slots, its grad the row at grads[k] (the given grad's row,
// or a sum of duplicates). The flag dispatch runs once per call, not per row.
template <class Rule, class V, uint32_t kKnown, uint32_t kSet>
void rows_fixed(const float* scalars, uint32_t flags, float* const* slots, const int32_t* rows,
                const float* const* grads, size_t count, size_t row_size) {
  static_assert(((Rule::kWrites >> 1) & 1u) == 0, "the row kernels read the caller's grad rows in place");
  // Touched rows are scattered over the table, where the hardware prefetcher cannot guess the
  // next one: ask for the row kAhead on (the first 1 KiB of each array) while this one runs, far
  // enough ahead that the misses of several rows overlap.
  constexpr size_t kAhead = 4;
  const size_t lines = std::min<size_t>(16, (row_size * sizeof(float) + 63) / 64);
  auto prefetch = [&](size_t k) {
    const size_t at = static_cast<size_t>(rows[k]) * row_size;
    const char* grad = reinterpret_cast<const char*>(grads[k]);
    for (size_t l = 0; l < lines; ++l) __builtin_prefetch(grad + 64 * l, 0);
    for (int j = 0; j < Rule::kSlots; ++j) {
      if (j == 1 || !slots[j]) continue;
      const char* row = reinterpret_cast<const char*>(slots[j] + at);
      for (size_t l = 0; l < lines; ++l) __builtin_prefetch(row + 64 * l, 1);
    }
  };
  for (size_t k = 0; k < std::min(count, kAhead); ++k) prefetch(k);
  float* p[Rule::kSlots];
  for (size_t k = 0; k < count; ++k) {
    if (k + kAhead < count) prefetch(k + kAhead);
    const size_t at = static_cast<size_t>(rows[k]) * row_size;
    for (int j = 0; j < Rule::kSlots; ++j) p[j] = slots[j] ? slots[j] + at : nullptr;
    p[1] = const_cast<float*>(grads[k]);  // never written (static_assert above)
    run_fixed<Rule, V, kKnown, kSet>(scalars, flags, p, row_size);
  }
}

template <class Rule, class V, uint32_t kSet, int kBit>
void rows_dispatch(const float* scalars, uint32_t flags, float* const* slots, const int32_t* rows,
                   const float* const* grads, size_t count, size_t row_size) {
  constexpr uint32_t kKnown = Rule::kFlags;
  if constexpr (kBit == 32) {
    rows_fixed<Rule, V, kKnown, kSet>(scalars, flags, slots, rows, grads, count, row_size);
  } else if constexpr (((kKnown >> kBit) & 1u) == 0) {
    rows_dispatch<Rule, V, kSet, kBit + 1>(scalars, flags, slots, rows, grads, count, row_size);
  } else if ((flags >> kBit) & 1u) {
    rows_dispatch<Rule, V, kSet | (1u << kBit), kBit + 1>(scalars, flags, slots, rows, grads, count, row_size);
  } else {
    rows_dispatch<Rule, V, kSet, kBit + 1>(scalars, flags, slots, rows, grads, count, row_size);
  }
}

template <class Rule, class V = VecMain>
void run_rows(const float* scalars, uint32_t flags, float* const* slots, const int32_t* rows,
              const float* const* grads, size_t count, size_t row_size) {
  rows_dispatch<Rule, V, 0u, 0>(scalars, flags, slots, rows, grads, count, row_size);
}
