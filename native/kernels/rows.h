// Runs one rule over the touched rows of a row-sparse tensor: each row is a short tensor of
// row_size elements given to the same per-flag loops as a dense tensor (driver.h), so every
// element gets the rule's exact operations, whatever the vector width. Included inside an ISA
// namespace after driver.h.
//
// slots[1] is the coalesced grad: row k of it belongs to rows[k]. The other slots are whole
// tensors, indexed by rows[k]. The flag dispatch runs once per call, not per row.
template <class Rule, class V, uint32_t kKnown, uint32_t kSet>
void rows_fixed(const float* scalars, uint32_t flags, float* const* slots, const int32_t* rows, size_t begin,
                size_t end, size_t row_size) {
  // Touched rows are scattered over the table, where the hardware prefetcher cannot guess the
  // next one: ask for the row kPrefetch ahead (its first 1 KiB of each slot) while this one runs.
  constexpr size_t kPrefetch = 4;
  const size_t lines = std::min<size_t>(16, (row_size * sizeof(float) + 63) / 64);
  float* p[Rule::kSlots];
  for (size_t k = begin; k < end; ++k) {
    if (k + kPrefetch < end) {
      const size_t ahead = static_cast<size_t>(rows[k + kPrefetch]) * row_size;
      for (int j = 0; j < Rule::kSlots; ++j)
        if (j != 1 && slots[j])
          for (size_t l = 0; l < lines; ++l) __builtin_prefetch(reinterpret_cast<const char*>(slots[j] + ahead) + 64 * l, 1);
    }
    const size_t at = static_cast<size_t>(rows[k]) * row_size;
    for (int j = 0; j < Rule::kSlots; ++j) p[j] = slots[j] ? slots[j] + (j == 1 ? k * row_size : at) : nullptr;
    run_fixed<Rule, V, kKnown, kSet>(scalars, flags, p, row_size);
  }
}

template <class Rule, class V, uint32_t kSet, int kBit>
void rows_dispatch(const float* scalars, uint32_t flags, float* const* slots, const int32_t* rows, size_t begin,
                   size_t end, size_t row_size) {
  constexpr uint32_t kKnown = Rule::kFlags;
  if constexpr (kBit == 32) {
    rows_fixed<Rule, V, kKnown, kSet>(scalars, flags, slots, rows, begin, end, row_size);
  } else if constexpr (((kKnown >> kBit) & 1u) == 0) {
    rows_dispatch<Rule, V, kSet, kBit + 1>(scalars, flags, slots, rows, begin, end, row_size);
  } else if ((flags >> kBit) & 1u) {
    rows_dispatch<Rule, V, kSet | (1u << kBit), kBit + 1>(scalars, flags, slots, rows, begin, end, row_size);
  } else {
    rows_dispatch<Rule, V, kSet, kBit + 1>(scalars, flags, slots, rows, begin, end, row_size);
  }
}

template <class Rule, class V = VecMain>
void run_rows(const float* scalars, uint32_t flags, float* const* slots, const int32_t* rows, size_t begin,
              size_t end, size_t row_size) {
  rows_dispatch<Rule, V, 0u, 0>(scalars, flags, slots, rows, begin, end, row_size);
}
