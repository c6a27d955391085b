// Runs one rule over one tensor with the unit's vector type: full vectors, then one masked vector
// (AVX2/AVX-512) or scalar elements (SSE2) for the tail. Same rule, same bits, in every lane.
// Included inside an ISA namespace after the vec_*.h headers and rules.h.
//
// The loop is compiled once per combination of the flags a rule declares in kFlags, so the
// option tests of Rule::update and the choice of slots to load and store are constants inside it
// (gcc neither hoists the slot-pointer loads past the may-alias stores of the intrinsics nor
// unswitches the option tests by itself). Flags outside kFlags stay run-time tests.

// How the loop reaches slot storage: float32 arrays. Another policy (compact.h) keeps some slots
// in another storage and converts in registers; kTails false means the caller passes whole
// vectors only.
struct F32Io {
  using Ptr = float*;
  static constexpr bool kTails = true;
  template <class V, class... MaskArg>
  static typename V::F load(const Ptr* p, int j, size_t i, MaskArg... k) {
    return V::load(p[j] + i, k...);
  }
  template <class V, class... MaskArg>
  static void store(const Ptr* p, int j, size_t i, typename V::F x, MaskArg... k) {
    V::store(p[j] + i, x, k...);
  }
};

// Loads exactly the slots in `need` (Rule::required(flags): the caller guarantees each is
// non-null, and the rule reads no other), updates, and stores the needed slots the rule writes.
// Always inlined: with a converting Io the body outgrows gcc's inlining limits, and a call per
// vector costs more than the update.
template <class Rule, class V, class Io = F32Io, class... MaskArg>
[[gnu::always_inline]] inline void update_block(const typename V::F* s, uint32_t flags, uint32_t need, typename Io::Ptr const* p, size_t i,
                         MaskArg... k) {
  typename V::F x[Rule::kSlots];
#pragma GCC unroll 8
  for (int j = 0; j < Rule::kSlots; ++j) x[j] = ((need >> j) & 1u) ? Io::template load<V>(p, j, i, k...) : V::set1(0.0f);
  Rule::template update<V>(s, flags, x);
#pragma GCC unroll 8
  for (int j = 0; j < Rule::kSlots; ++j)
    if ((Rule::kWrites >> j) & (need >> j) & 1u) Io::template store<V>(p, j, i, x[j], k...);
}

// One loop with the flags in kKnown fixed to kSet; the other bits come from `flags` at run time.
template <class Rule, class V, uint32_t kKnown, uint32_t kSet, class Io = F32Io>
void run_fixed(const float* scalars, uint32_t runtime_flags, typename Io::Ptr const* slots, size_t n) {
  const uint32_t flags = kSet | (runtime_flags & ~kKnown);
  const uint32_t need = Rule::required(flags);
  typename Io::Ptr p[Rule::kSlots];  // local copies: stay in registers across the stores
  for (int j = 0; j < Rule::kSlots; ++j) p[j] = slots[j];
  typename V::F s[Rule::kScalars];
  for (int j = 0; j < Rule::kScalars; ++j) s[j] = V::set1(scalars[j]);
  size_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) update_block<Rule, V, Io>(s, flags, need, p, i);
  if (i == n) return;
  if constexpr (!Io::kTails) {
    return;
  } else if constexpr (V::kMasked) {
    update_block<Rule, V, Io>(s, flags, need, p, i, V::mask(n - i));
  } else {
    for (; i < n; ++i) update_block<Rule, VecScalar, Io>(scalars, flags, need, p, i);
  }
}

// Picks the loop for the run-time flags, one declared bit at a time (bit b and up still open).
template <class Rule, class V, uint32_t kSet, int kBit, class Io = F32Io>
void run_dispatch(const float* scalars, uint32_t flags, typename Io::Ptr const* slots, size_t n) {
  constexpr uint32_t kKnown = Rule::kFlags;
  if constexpr (kBit == 32) {
    run_fixed<Rule, V, kKnown, kSet, Io>(scalars, flags, slots, n);
  } else if constexpr (((kKnown >> kBit) & 1u) == 0) {
    run_dispatch<Rule, V, kSet, kBit + 1, Io>(scalars, flags, slots, n);
  } else if ((flags >> kBit) & 1u) {
    run_dispatch<Rule, V, kSet | (1u << kBit), kBit + 1, Io>(scalars, flags, slots, n);
  } else {
    run_dispatch<Rule, V, kSet, kBit + 1, Io>(scalars, flags, slots, n);
  }
}

template <class Rule, class V = VecMain, class Io = F32Io>
void run_rule(const float* scalars, uint32_t flags, typename Io::Ptr const* slots, size_t n) {
  run_dispatch<Rule, V, 0u, 0, Io>(scalars, flags, slots, n);
}
