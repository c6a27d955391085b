// The CUDA backend's compact step (kernels/compact.h's storages), as host+device functions: one
// element's widening and rule (compact_update), the block's absmax (an integer max of the bits,
// exact in any order), and one element's narrowing (compact_write). The device kernel
// (compact.cu) runs one thread per element of a 256-element block; compact_block_serial runs the
// same functions for a block on the CPU (compact_host.cc), so everything but the launch glue is
// also executed and tested without a GPU. Each step is the CPU block driver's, element by element:
//   widen:   f32 as is; bf16/fp16 exactly (convert.h); 8-bit map value * block absmax
//   rule:    Rule::update<VecScalar>, absent slots read as 0 (driver.h)
//   absmax:  max of |x| on the bits; any NaN gives a quiet NaN (convert.h q8_narrow)
//   narrow:  bf16/fp16 to nearest even; 8-bit code = midpoints strictly below fl(x / absmax), found
//            by a binary search over Quant8Map::above (q8_code_search; 1 KB per map), code
//            of 0 for absmax 0; a half parameter from its master to nearest even, or without one
//            by stochastic rounding keyed by (seed, step, index, element) (stochastic.h)
// Included inside a namespace after vec_scalar.h, rules.h, convert.h and stochastic.h, with
// sr_hash.h included before (all with ADAM_HD as the unit defines it).

using ::adam::gpu::CompactTensor;

// The two 8-bit maps' tables as the block code reads them: [0] signed, [1] unsigned.
struct Q8Tables {
  const float* values[2];
  const float* above[2];  // least float32 above each midpoint, as Quant8Map::above
  uint32_t zero[2];
};

// The code of y: how many midpoints lie strictly below it (y >= above[k] exactly when midpoint k
// is below y): step s = 128..1 tests the node at 128/s + p/(2s) and moves p up by s. NaN is at
// or above no node: code 0, as q8_code.
ADAM_HD inline uint32_t q8_code_search(const float* above, float y) {
  uint32_t p = 0;
  for (uint32_t s = 128; s >= 1; s >>= 1)
    if (y >= above[128 / s + p / (2 * s)]) p += s;
  return p;
}

ADAM_HD inline uint32_t q8_abs_bits(float x) { return f32_bits(x) & 0x7fffffffu; }
// The block's absmax from the largest |x| bits: any NaN (bits above +Inf's) gives a quiet NaN.
ADAM_HD inline float q8_absmax_of(uint32_t top) { return f32_from_bits(top > 0x7f800000u ? 0x7fc00000u : top); }

// x / absmax rounded once (IEEE division; nvcc's __fdiv_rn says so on the device).
ADAM_HD inline float q8_scaled(float x, float absmax) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(x, absmax);
#else
  return x / absmax;
#endif
}

ADAM_HD inline bool q8_storage(uint32_t storage) { return storage == kStoreQ8Signed || storage == kStoreQ8Unsigned; }

// Element i of slot j as float32.
ADAM_HD inline float compact_load(const CompactTensor& t, const Q8Tables& maps, int j, unsigned long long i) {
  switch (t.storage[j]) {
    case kStoreF32:
      return static_cast<const float*>(t.data[j])[i];
    case kStoreBf16:
      return bf16_widen(static_cast<const uint16_t*>(t.data[j])[i]);
    case kStoreF16:
      return f16_widen(static_cast<const uint16_t*>(t.data[j])[i]);
    default:
      return maps.values[t.storage[j] - kStoreQ8Signed][static_cast<const uint8_t*>(t.data[j])[i]] *
             t.absmax[j][i / kCompactBlock];
  }
}

// Widens element i of every slot the flags need (others read 0) and runs the rule on it.
template <class Rule>
ADAM_HD inline void compact_update(const float* s, uint32_t flags, const CompactTensor& t, const Q8Tables& maps,
                                   unsigned long long i, float* x) {
  const uint32_t need = Rule::required(flags);
  for (int j = 0; j < Rule::kSlots; ++j) x[j] = ((need >> j) & 1u) ? compact_load(t, maps, j, i) : 0.0f;
  Rule::template update<VecScalar>(s, flags, x);
}

// The slots of this tensor whose block absmax the step computes: 8-bit slots the rule writes.
template <class Rule>
ADAM_HD inline uint32_t compact_q8_written(uint32_t flags, const CompactTensor& t) {
  const uint32_t written = Rule::kWrites & Rule::required(flags);
  uint32_t out = 0;
  for (int j = 0; j < Rule::kSlots; ++j)
    if (((written >> j) & 1u) && q8_storage(t.storage[j])) out |= 1u << j;
  return out;
}

// Stores element i of every slot the rule wrote, in its storage. top[j]: the block's largest |x|
// bits for 8-bit slot j; key: this step's rounding key of the tensor (stochastic rounding only).
template <class Rule>
ADAM_HD inline void compact_write(uint32_t flags, const CompactTensor& t, const Q8Tables& maps, unsigned long long i,
                                  const float* x, const uint32_t* top, uint32_t key) {
  const uint32_t written = Rule::kWrites & Rule::required(flags);
  for (int j = 0; j < Rule::kSlots; ++j) {
    if (!((written >> j) & 1u)) continue;
    const uint32_t storage = t.storage[j];
    if (j == 0 && t.sr) {
      const uint32_t h = sr_mix(key ^ static_cast<uint32_t>(i));
      static_cast<uint16_t*>(t.data[0])[i] = storage == kStoreBf16 ? bf16_narrow_sr(x[0], h) : f16_narrow_sr(x[0], h);
      continue;
    }
    switch (storage) {
      case kStoreF32:
        static_cast<float*>(t.data[j])[i] = x[j];
        break;
      case kStoreBf16:
        static_cast<uint16_t*>(t.data[j])[i] = bf16_narrow(x[j]);
        break;
      case kStoreF16:
        static_cast<uint16_t*>(t.data[j])[i] = f16_narrow(x[j]);
        break;
      default: {
        const uint32_t m = storage - kStoreQ8Signed;
        const float absmax = q8_absmax_of(top[j]);
        const uint32_t code = top[j] == 0 ? maps.zero[m] : q8_code_search(maps.above[m], q8_scaled(x[j], absmax));
        static_cast<uint8_t*>(t.data[j])[i] = static_cast<uint8_t>(code);
      }
    }
  }
  if (t.mirror) {
    uint16_t* h = static_cast<uint16_t*>(t.mirror);
    h[i] = t.mirror_storage == kStoreBf16 ? bf16_narrow(x[0]) : f16_narrow(x[0]);
  }
}

// The block's absmax of each 8-bit slot it wrote, stored once per block.
template <class Rule>
ADAM_HD inline void compact_store_absmax(uint32_t q8, const CompactTensor& t, unsigned long long begin, const uint32_t* top) {
  for (int j = 0; j < Rule::kSlots; ++j)
    if ((q8 >> j) & 1u) t.absmax[j][begin / kCompactBlock] = q8_absmax_of(top[j]);
}

// One block (elements [begin, begin + 256) of the tensor, cut at its end) on one CPU thread: what
// the device kernel's 256 threads do, element by element, with the same functions.
template <class Rule>
inline void compact_block_serial(const float* s, uint32_t flags, const CompactTensor& t, const Q8Tables& maps,
                                 unsigned long long begin, uint32_t key) {
  const unsigned long long end = t.n - begin < kCompactBlock ? t.n : begin + kCompactBlock;
  float x[kCompactBlock][Rule::kSlots];
  uint32_t top[kMaxSlots] = {};
  const uint32_t q8 = compact_q8_written<Rule>(flags, t);
  for (unsigned long long i = begin; i < end; ++i) {
    float* e = x[i - begin];
    compact_update<Rule>(s, flags, t, maps, i, e);
    for (int j = 0; j < Rule::kSlots; ++j)
      if ((q8 >> j) & 1u) top[j] = q8_abs_bits(e[j]) > top[j] ? q8_abs_bits(e[j]) : top[j];
  }
  for (unsigned long long i = begin; i < end; ++i) compact_write<Rule>(flags, t, maps, i, x[i - begin], top, key);
  compact_store_absmax<Rule>(q8, t, begin, top);
}
