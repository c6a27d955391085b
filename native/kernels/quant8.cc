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
#include <utility>
#include <cmath>
#include <cstdlib>

#include "kernel_api.h"

namespace adam {
namespace {

// The decades' scales, 10^(d-6).
const double kScale[7] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};

// The least float32 above x.
float least_above(double x) {
  const float f = static_cast<float>(x);
  return static_cast<double>(f) <= x ? std::nextafter(f, HUGE_VALF) : f;
}

// The region tables (kernel_api.h); each abort guards a fact the SIMD loops rely on. The special
// midpoints are those between values of different decades (or the last decade and 1). Region 0
// runs from 0 to the first special midpoint, region r >= 1 from special r-1 to special r (the
// last one to 1). Region r >= 1 holds one decade, whose midpoints lie on that decade's grid; region
// 0 holds the midpoint next to 0, off the grid, and decade 0's inner midpoints: a line through its
// first and last midpoint (one midpoint: at t = 1 from t = 1/2 at 0).
void build_regions(Quant8Map& map, const int* group) {
  const int z = static_cast<int>(map.zero), count = 255 - z;  // the midpoints above 0: mids[z + k]
  const double u = std::ldexp(1.0, -24);
  int special[16], specials = 0;  // k of each special midpoint
  for (int k = 1; k < count; ++k)
    if (group[z + k] != group[z + k + 1]) {
      if (specials == 7) std::abort();  // AVX2 holds each region table in one register of 8
      special[specials++] = k;
    }
  for (int r = 0; r < 16; ++r) {
    // The midpoints below the region, and its inner ones, [first, last).
    const int first = r == 0 ? 0 : r <= specials ? special[r - 1] + 1 : count;
    const int last = r < specials ? special[r] : count;
    const int inner = last > first ? last - first : 0;
    double scale = 0, offset = first + 0.5;
    if (r == 0) {
      const double m0 = map.mids[z], m1 = map.mids[z + last - 1];
      scale = inner == 1 ? 0.5 / m0 : (inner - 1) / (m1 - m0);
      offset = 1 - m0 * scale;
    } else if (inner > 0) {
      // The decade's ideal grid: value k at s*(0.1 + (k + 0.5)*0.9/n), the midpoint after it at
      // s*(0.1 + (k + 1)*0.9/n); scaled so that inner midpoint i (from 0) sits at first + 1 + i.
      const int d = group[z + first];
      const double s = kScale[d], n = inner + 1;
      scale = n / (0.9 * s);
      offset = first - n / 9.0;
    }
    const float fs = static_cast<float>(scale), fo = static_cast<float>(offset);
    map.region_scale[r] = fs;
    map.region_offset[r] = fo;
    map.region_cap[r] = static_cast<float>(first + inner + 0.5);
    if (r > specials || inner == 0) continue;
    // Each inner midpoint lies within dev of its integer; the float32 multiply and add are off by
    // at most err; from the region's start t is at least `first`. The loops trust floor(t) only
    // where t's fraction is kQ8Margin from an integer, so within the region they count exactly.
    double dev = 0;
    for (int i = 0; i < inner; ++i)
      dev = std::max(dev, std::fabs(map.mids[z + first + i] * fs + fo - (first + 1 + i)));
    const double low = r == 0 ? 0.0 : map.mids[z + first - 1];
    const double high = r < specials ? map.mids[z + last] : 1.0;
    const double err = 1.01 * (u * (high * fs) + u * (high * fs + std::fabs(fo)));
    if (dev + err >= kQ8Margin || low * fs + fo - err < first) std::abort();
  }
  for (int o = 0; o < 32; ++o) {
    const double lo = o == 0 ? 0.0 : std::ldexp(1.0, o - 31), hi = std::ldexp(1.0, o - 30);
    int region = 0, inside = 0;
    float threshold = HUGE_VALF;
    for (int j = 0; j < specials; ++j) {
      const double x = map.mids[z + special[j]];
      if (x < lo) ++region;
      else if (x < hi) ++inside, threshold = least_above(x);
    }
    // At most one special midpoint per octave, and (AVX2 takes the octaves by pairs) per pair.
    if (inside > 1 || (o % 2 == 1 && threshold != HUGE_VALF && map.octave_threshold[o - 1] != HUGE_VALF)) std::abort();
    map.octave_threshold[o] = threshold;
    map.octave_region[o] = region;
  }
}

Quant8Map build(bool is_signed) {
  std::pair<float, int> values[256];  // value and its group: decade 0..6, 7 for 0, 8 for 1
  int n = 0;
  for (int d = 0; d < 7; ++d) {
    const int count = is_signed ? 1 << d : 1 << (d + 1);
    for (int k = 0; k < count; ++k) {
      const float v = static_cast<float>(kScale[d] * (0.1 + ((k + 0.5) * 0.9) / count));
      values[n++] = {v, d};
      if (is_signed) values[n++] = {-v, d};
    }
  }
  values[n++] = {0.0f, 7};
  values[n++] = {1.0f, 8};
  Quant8Map map{};
  std::sort(values, values + n);
  int group[256];
  for (int i = 0; i < 256; ++i) map.values[i] = values[i].first, group[i] = values[i].second;
  for (int i = 0; i < 255; ++i) map.mids[i] = (static_cast<double>(map.values[i]) + static_cast<double>(map.values[i + 1])) * 0.5;
  for (int i = 0; i < 256; ++i)
    if (map.values[i] == 0.0f) map.zero = static_cast<uint32_t>(i);
  build_regions(map, group);
  // The search tree (kernel_api.h; the CUDA block code searches it): step s = 128, 64, ..., 1 tests
  // midpoint p + s - 1 at p (a multiple of 2s) and moves p up by s when y is at or above it.
  map.above[0] = HUGE_VALF;
  for (int s = 128; s >= 1; s >>= 1)
    for (int k = 0; k < 128 / s; ++k) map.above[128 / s + k] = least_above(map.mids[k * 2 * s + s - 1]);
  // The buckets. A positive bucket holds [low, high) (the first one reaches down to 0), a negative
  // one (-high, -low] (the first one up to -0). start counts the midpoints below all of them;
  // the midpoints inside (at most one: the map's spacing is wider than a bucket) give the
  // threshold, the least float32 above that midpoint; with none, a NaN, which no y (+Inf too)
  // reaches.
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
      float threshold = NAN;
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
