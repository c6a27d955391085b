/**
 * Stochastic rounding of half-precision parameters without a master copy, as
 * native/kernels/sr_hash.h (the hash) and native/kernels/stochastic.h (the rounding, stated there
 * and in the README): integers only, so every backend gives the same bits.
 */

/** murmur3's 32-bit finaliser. */
export function srMix(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x = (x ^ (x >>> 13)) >>> 0;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** A tensor's key for one step: mix(mix(mix(seed) ^ step) ^ param), each counter mod 2^32. */
export const srKey = (seed: number, step: number, param: number): number => srMix((srMix((srMix(seed >>> 0) ^ step % 2 ** 32) >>> 0) ^ param) >>> 0);

/** The hash of one element: mix(key ^ element), the element index mod 2^32. */
export const srHash = (key: number, element: number): number => srMix((key ^ element % 2 ** 32) >>> 0);

/** float32 bits -> bfloat16 bits: add the hash's low 16 bits, truncate; NaN stays a quiet NaN. */
export function bf16NarrowSr(b: number, h: number): number {
  if ((b & 0x7fffffff) >>> 0 > 0x7f800000) return ((b >>> 16) | 0x0040) & 0xffff;
  return Math.floor((b + (h & 0xffff)) / 65536) & 0xffff;
}

/** float32 bits -> binary16 bits by stochastic rounding (native/kernels/stochastic.h). */
export function f16NarrowSr(b: number, h: number): number {
  const sign = (b >>> 16) & 0x8000;
  const a = (b & 0x7fffffff) >>> 0;
  if (a > 0x7f800000) return sign | 0x7e00 | ((a >>> 13) & 0x3ff);
  if (a >= 0x47800000) return sign | 0x7c00;
  if (a >= 0x38800000) return sign | Math.floor((a - 0x38000000 + (h & 0x1fff)) / 8192);
  const e = a >>> 23;
  if (e < 95) return sign;
  const s = 126 - e; // 14..31
  const m = (a & 0x7fffff) | 0x800000;
  return sign | Math.floor((m + ((h >>> 0) % 2 ** s)) / 2 ** s);
}
