// Runs one rule over one tensor with the unit's vector type: full vectors, then one masked vector
// (AVX2/AVX-512) or scalar elements (SSE2) for the tail. Same rule, same bits, in every lane.
// Included inside an ISA namespace after the vec_*.h headers and rules.h.

template <class Rule, class V, class... MaskArg>
inline void update_block(const typename V::F* s, uint32_t flags, float* const* slots, size_t i,
                         MaskArg... k) {
  typename V::F x[Rule::kSlots];
#pragma GCC unroll 8
  for (int j = 0; j < Rule::kSlots; ++j) x[j] = slots[j] ? V::load(slots[j] + i, k...) : V::set1(0.0f);
  Rule::template update<V>(s, flags, x);
#pragma GCC unroll 8
  for (int j = 0; j < Rule::kSlots; ++j)
    if (((Rule::kWrites >> j) & 1u) && slots[j]) V::store(slots[j] + i, x[j], k...);
}

template <class Rule, class V = VecMain>
void run_rule(const float* scalars, uint32_t flags, float* const* slots, size_t n) {
  typename V::F s[Rule::kScalars];
  for (int j = 0; j < Rule::kScalars; ++j) s[j] = V::set1(scalars[j]);
  size_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) update_block<Rule, V>(s, flags, slots, i);
  if (i == n) return;
  if constexpr (V::kMasked) {
    update_block<Rule, V>(s, flags, slots, i, V::mask(n - i));
  } else {
    for (; i < n; ++i) update_block<Rule, VecScalar>(scalars, flags, slots, i);
  }
}
