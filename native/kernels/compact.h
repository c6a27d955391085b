// A rule over compact storage (kernel_api.h Storage): per block of kCompactBlock elements, each
// slot the rule needs is widened into float32 scratch (a float32 slot is used in place), the
// unchanged rule runs on the block through run_rule (driver.h), and the slots it writes are
// narrowed back. Blocks start at multiples of kCompactBlock of the tensor, so an 8-bit block is
// always whole and the chunker's cuts (multiples of kChunkElements) never split one. The AVX2 and
// AVX-512 units run float32 params with bf16 moments without scratch (Bf16MomentsIo below): the
// same conversions, in registers.
// Included inside an ISA namespace after driver.h and convert.h; lib/compact/driver.ts mirrors it.

inline void widen_block(const SlotStore& s, size_t at, size_t n, float* out) {
  switch (s.storage) {
    case kStoreBf16: {
      const uint16_t* h = static_cast<const uint16_t*>(s.data) + at;
      for (size_t i = 0; i < n; ++i) out[i] = bf16_widen(h[i]);
      break;
    }
    case kStoreF16: {
      const uint16_t* h = static_cast<const uint16_t*>(s.data) + at;
      for (size_t i = 0; i < n; ++i) out[i] = f16_widen(h[i]);
      break;
    }
    default:
      q8_widen(quant8_map(s.storage == kStoreQ8Signed), static_cast<const uint8_t*>(s.data) + at,
               s.absmax[at / kCompactBlock], out, n);
  }
}

// `in` is scratch: 8-bit narrowing overwrites it.
inline void narrow_block(const SlotStore& s, size_t at, size_t n, float* in) {
  switch (s.storage) {
    case kStoreBf16: {
      uint16_t* h = static_cast<uint16_t*>(s.data) + at;
      for (size_t i = 0; i < n; ++i) h[i] = bf16_narrow(in[i]);
      break;
    }
    case kStoreF16: {
      uint16_t* h = static_cast<uint16_t*>(s.data) + at;
      for (size_t i = 0; i < n; ++i) h[i] = f16_narrow(in[i]);
      break;
    }
    default:
      s.absmax[at / kCompactBlock] =
          q8_narrow(quant8_map(s.storage == kStoreQ8Signed), in, static_cast<uint8_t*>(s.data) + at, n);
  }
}

#if defined(__AVX512F__) || defined(__AVX2__)
// The common bf16 case without the scratch pass: param and grad float32, every other slot bf16,
// widened and narrowed in registers (bf16_widen_vec / bf16_narrow_vec: convert.h's bf16 steps
// lane by lane). Whole vectors only; run_compact sends a tensor's last few elements through the
// scratch path.
struct Bf16MomentsIo {
  using Ptr = void*;
  static constexpr bool kTails = false;
  // Each load also prefetches its stream kAhead elements on (4 KiB of a float32 array, 2 KiB of a
  // bf16 one). With only 20 bytes moved per element, the rule's sqrt and division otherwise fill
  // the core's window before the next lines are asked for: in a standalone kernel of this loop,
  // from DRAM (64M, 2 threads), bf16 over fp32 Adam went from 1.17-1.28x to 1.38-1.61x with a
  // prefetch 512-4,096 elements ahead. fp32 Adam gets none: the same prefetch slowed it there.
  // A prefetch past the end of an array is harmless (it never faults).
  static constexpr size_t kAhead = 1024;
  template <class V>
  static typename V::F load(const Ptr* p, int j, size_t i) {
    const size_t width = j < 2 ? sizeof(float) : sizeof(uint16_t);
    __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(p[j]) + (i + kAhead) * width));
    if (j < 2) return V::load(static_cast<const float*>(p[j]) + i);
    return bf16_widen_vec(static_cast<const uint16_t*>(p[j]) + i);
  }
  template <class V>
  static void store(const Ptr* p, int j, size_t i, typename V::F x) {
    if (j < 2) V::store(static_cast<float*>(p[j]) + i, x);
    else bf16_narrow_vec(static_cast<uint16_t*>(p[j]) + i, x);
  }
};

template <class Rule>
bool bf16_moments(const SlotStore* slots, uint32_t need) {
  // A half parameter's master is float32 too, but its rounded copy is written by the block path only.
  if (slots[0].half || slots[0].storage != kStoreF32 || slots[1].storage != kStoreF32) return false;
  for (int j = 2; j < Rule::kSlots; ++j)
    if (((need >> j) & 1u) && slots[j].storage != kStoreBf16) return false;
  return true;
}
#endif

template <class Rule, class V = VecMain>
void run_compact(const float* scalars, uint32_t flags, const SlotStore* slots, size_t begin, size_t n) {
  const uint32_t need = Rule::required(flags);
#if defined(__AVX512F__) || defined(__AVX2__)
  if (bf16_moments<Rule>(slots, need)) {
    void* q[Rule::kSlots];
    for (int j = 0; j < Rule::kSlots; ++j) {
      q[j] = nullptr;
      if (!((need >> j) & 1u)) continue;
      q[j] = j < 2 ? static_cast<void*>(static_cast<float*>(slots[j].data) + begin)
                   : static_cast<void*>(static_cast<uint16_t*>(slots[j].data) + begin);
    }
    const size_t whole = n - n % V::kWidth;
    run_rule<Rule, V, Bf16MomentsIo>(scalars, flags, q, whole);
    begin += whole;
    n -= whole;
  }
#endif
  alignas(64) float scratch[Rule::kSlots][kCompactBlock];
  float* p[Rule::kSlots];
  for (size_t b = 0; b < n; b += kCompactBlock) {
    const size_t len = n - b < kCompactBlock ? n - b : kCompactBlock;
    const size_t at = begin + b;
    for (int j = 0; j < Rule::kSlots; ++j) {
      p[j] = nullptr;
      if (!((need >> j) & 1u)) continue;
      if (slots[j].storage == kStoreF32) {
        p[j] = static_cast<float*>(slots[j].data) + at;
      } else {
        widen_block(slots[j], at, len, scratch[j]);
        p[j] = scratch[j];
      }
    }
    run_rule<Rule, V>(scalars, flags, p, len);
    if (slots[0].half) write_half_param(slots[0], at, len, p[0]);
    for (int j = slots[0].half ? 1 : 0; j < Rule::kSlots; ++j)
      if (((Rule::kWrites & need) >> j) & 1u && slots[j].storage != kStoreF32) narrow_block(slots[j], at, len, scratch[j]);
  }
}
