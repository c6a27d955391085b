// Runs one rule over one tensor with the unit's vector type: full vectors, then one masked vector
// (AVX2/AVX-512) or scalar elements (SSE2) for the tail. Same rule, same bits, in every lane.
// Included inside an ISA namespace after the vec_*.h headers and rules.h.
//
// The loop is compiled once per combination of the flags a rule declares in kFlags, so the
// option tests of Rule::update and the choice of slots to load and store are constants inside it
// (gcc neither hoists the slot-pointer loads past the may-alias stores of the intrinsics nor
// unswitches the option tests by itself). Flags outside kFlags stay run-time tests.

// Loads exactly the slots in `need` (Rule::required(flags): the caller guarantees each is
// non-null, and the rule reads no other), updates, and stores the needed slots the rule writes.
template <class Rule, class V, class... MaskArg>
inline void update_block(const typename V::F* s, uint32_t flags, uint32_t need, float* const* p, size_t i,
                         MaskArg... k) {
  typename V::F x[Rule::kSlots];
#pragma GCC unroll 8
  for (int j = 0; j < Rule::kSlots; ++j) x[j] = ((need >> j) & 1u) ? V::load(p[j] + i, k...) : V::set1(0.0f);
  Rule::template update<V>(s, flags, x);
#pragma GCC unroll 8
  for (int j = 0; j < Rule::kSlots; ++j)
    if ((Rule::kWrites >> j) & (need >> j) & 1u) V::store(p[j] + i, x[j], k...);
}

// One loop with the flags in kKnown fixed to kSet; the other bits come from `flags` at run time.
template <class Rule, class V, uint32_t kKnown, uint32_t kSet>
void run_fixed(const float* scalars, uint32_t runtime_flags, float* const* slots, size_t n) {
  const uint32_t flags = kSet | (runtime_flags & ~kKnown);
  const uint32_t need = Rule::required(flags);
  float* p[Rule::kSlots];  // local copies: stay in registers across the stores
  for (int j = 0; j < Rule::kSlots; ++j) p[j] = slots[j];
  typename V::F s[Rule::kScalars];
  for (int j = 0; j < Rule::kScalars; ++j) s[j] = V::set1(scalars[j]);
  size_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) update_block<Rule, V>(s, flags, need, p, i);
  if (i == n) return;
  if constexpr (V::kMasked) {
    update_block<Rule, V>(s, flags, need, p, i, V::mask(n - i));
  } else {
    for (; i < n; ++i) update_block<Rule, VecScalar>(scalars, flags, need, p, i);
  }
}

// Picks the loop for the run-time flags, one declared bit at a time (bit b and up still open).
template <class Rule, class V, uint32_t kSet, int kBit>
void run_dispatch(const float* scalars, uint32_t flags, float* const* slots, size_t n) {
  constexpr uint32_t kKnown = Rule::kFlags;
  if constexpr (kBit == 32) {
    run_fixed<Rule, V, kKnown, kSet>(scalars, flags, slots, n);
  } else if constexpr (((kKnown >> kBit) & 1u) == 0) {
    run_dispatch<Rule, V, kSet, kBit + 1>(scalars, flags, slots, n);
  } else if ((flags >> kBit) & 1u) {
    run_dispatch<Rule, V, kSet | (1u << kBit), kBit + 1>(scalars, flags, slots, n);
  } else {
    run_dispatch<Rule, V, kSet, kBit + 1>(scalars, flags, slots, n);
  }
}

template <class Rule, class V = VecMain>
void run_rule(const float* scalars, uint32_t flags, float* const* slots, size_t n) {
  run_dispatch<Rule, V, 0u, 0>(scalars, flags, slots, n);
}
