/**
 * Float32 <-> bfloat16 / IEEE binary16 on bits, as native/kernels/convert.h: each function takes
 * and returns integers (float32 bits as an unsigned 32-bit number), so no NaN ever passes through
 * a JavaScript number and every backend gives the same bits.
 */

/** bfloat16 bits -> float32 bits (exact). */
export const bf16Widen = (h: number): number => (h << 16) >>> 0;

/** float32 bits -> bfloat16 bits: nearest, ties to even; overflow to ±Inf; NaN stays a quiet NaN. */
export function bf16Narrow(b: number): number {
  if ((b & 0x7fffffff) >>> 0 > 0x7f800000) return ((b >>> 16) | 0x0040) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) / 65536) & 0xffff;
}

/** binary16 bits -> float32 bits (exact, subnormals included). */
export function f16Widen(h: number): number {
  const sign = (h & 0x8000) << 16;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 31) return (sign | 0x7f800000 | (m << 13)) >>> 0;
  if (e !== 0) return (sign | ((e + 112) << 23) | (m << 13)) >>> 0;
  if (m === 0) return sign >>> 0;
  let shift = 0;
  let mm = m;
  while ((mm & 0x400) === 0) {
    mm <<= 1;
    shift++;
  }
  return (sign | ((113 - shift) << 23) | ((mm & 0x3ff) << 13)) >>> 0;
}

/** float32 bits -> binary16 bits: nearest, ties to even, subnormals exact, ±Inf from 65520, NaN quiet. */
export function f16Narrow(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const a = (b & 0x7fffffff) >>> 0;
  if (a > 0x7f800000) return sign | 0x7e00 | ((a >>> 13) & 0x3ff);
  if (a >= 0x477ff000) return sign | 0x7c00;
  if (a >= 0x38800000) {
    const r = a - 0x38000000;
    return sign | Math.floor((r + 0xfff + (Math.floor(r / 8192) & 1)) / 8192);
  }
  const e = a >>> 23;
  if (e < 102) return sign;
  const m = (a & 0x7fffff) | 0x800000;
  const shift = 126 - e;
  let q = m >>> shift;
  const rem = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (q & 1) !== 0)) q++;
  return sign | q;
}
