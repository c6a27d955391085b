// The two 8-bit dynamic maps, built once. lib/compact/quant8.ts builds the same values with the
// same float64 operations in the same order (a test compares them).
//
// The map (Dettmers et al. 2021, "8-bit Optimizers via Block-wise Quantization"; the values
// bitsandbytes' dynamic map has): per decade d = 0..6 of scale 10^(d-6), the midpoints of `count`
// equal steps of [0.1, 1] times the scale, count = 2^d (signed map, each value also negated) or
// 2^(d+1) (unsigned map); then 0 and 1. That is 2*127 + 2 = 256 signed, 254 + 2 unsigned values.
// Each value is computed in float64 as scale*(0.1 + ((k + 0.5)*0.9)/count) and rounded to float32
// once; the list is sorted ascending, so a code is the value's rank. A block is quantised to the
// nearest value: code = how many midpoints (float64, exact for neighbouring float32 values) lie
// strictly below the scaled value, so a tie goes to the lower code.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "kernel_api.h"

namespace adam {
namespace {

// The least float32 above x.
float least_above(double x) {
  const float f = static_cast<float>(x);
  return static_cast<double>(f) <= x ? std::nextafter(f, HUGE_VALF) : f;
}

Quant8Map build(bool is_signed) {
  static const double kScale[7] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
  float values[256];
  int n = 0;
  for (int d = 0; d < 7; ++d) {
    const int count = is_signed ? 1 << d : 1 << (d + 1);
    for (int k = 0; k < count; ++k) {
      const float v = static_cast<float>(kScale[d] * (0.1 + ((k + 0.5) * 0.9) / count));
      values[n++] = v;
      if (is_signed) values[n++] = -v;
    }
  }
  values[n++] = 0.0f;
  values[n++] = 1.0f;
  Quant8Map map{};
  std::sort(values, values + n);
  for (int i = 0; i < 256; ++i) map.values[i] = values[i];
  for (int i = 0; i < 255; ++i) map.mids[i] = (static_cast<double>(values[i]) + static_cast<double>(values[i + 1])) * 0.5;
  for (int i = 0; i < 256; ++i)
    if (values[i] == 0.0f) map.zero = static_cast<uint32_t>(i);
  // The search tree (kernel_api.h): step s = 128, 64, ..., 1 tests midpoint p + s - 1 at p (a
  // multiple of 2s) and moves p up by s when y is at or above it.
  map.above[0] = HUGE_VALF;
  for (int s = 128; s >= 1; s >>= 1)
    for (int k = 0; k < 128 / s; ++k) map.above[128 / s + k] = least_above(map.mids[k * 2 * s + s - 1]);
  // The buckets. A positive bucket holds [low, high) (the first one reaches down to 0), a negative
  // one (-high, -low] (the first one up to -0). start counts the midpoints below all of them;
  // the midpoints inside (at most one: the map's spacing is wider than a bucket) give the
  // threshold, the least float32 above that midpoint.
  for (uint32_t b = 0; b < kQ8Buckets; ++b) {
    const uint32_t e = (b >> kQ8MantissaBits) + 103, m = b & ((1u << kQ8MantissaBits) - 1);
    const double low = b == 0 ? 0.0 : std::ldexp(1.0 + m / 256.0, static_cast<int>(e) - 127);
    const double high = std::ldexp(1.0 + (m + 1) / 256.0, static_cast<int>(e) - 127);
    for (uint32_t sign = 0; sign < 2; ++sign) {
      int32_t below = 0, inside = 0;
      double mid = 0;
      for (int i = 0; i < 255; ++i) {
        const double x = map.mids[i];
        if (sign == 0 ? x < low : x <= -high) ++below;
        else if (sign == 0 ? x < high : x < -low) ++inside, mid = x;
      }
      float threshold = HUGE_VALF;
      if (inside == 1) {
        threshold = least_above(mid);
      } else if (inside > 1) {
        std::abort();  // the map and the bucket width above do not allow it
      }
      map.start[sign * kQ8Buckets + b] = below;
      map.threshold[sign * kQ8Buckets + b] = threshold;
    }
  }
  return map;
}

}  // namespace

const Quant8Map& quant8_map(bool is_signed) {
  static const Quant8Map kSigned = build(true);
  static const Quant8Map kUnsigned = build(false);
  return is_signed ? kSigned : kUnsigned;
}

}  // namespace adam
