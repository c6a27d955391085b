/**
 * The 8-bit dynamic maps and block quantisation, as native/kernels/quant8.cc and convert.h (the
 * map's construction is described there and in the README; the addon exports its maps and a test
 * compares them with these).
 */

export interface Quant8Map {
  /** 256 float32 values, ascending: a code is a value's rank. */
  readonly values: Float32Array;
  /** The 255 float64 midpoints between neighbouring values. */
  readonly mids: Float64Array;
  /** The code of 0. */
  readonly zero: number;
}

const SCALES = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0];

function build(signed: boolean): Quant8Map {
  const list: number[] = [];
  for (let d = 0; d < 7; d++) {
    const count = signed ? 2 ** d : 2 ** (d + 1);
    for (let k = 0; k < count; k++) {
      const v = Math.fround(SCALES[d] * (0.1 + ((k + 0.5) * 0.9) / count));
      list.push(v);
      if (signed) list.push(-v);
    }
  }
  list.push(0, 1);
  const values = Float32Array.from(list).sort();
  const mids = new Float64Array(255);
  for (let i = 0; i < 255; i++) mids[i] = (values[i] + values[i + 1]) * 0.5;
  return { values, mids, zero: values.indexOf(0) };
}

export const SIGNED_MAP = build(true);
export const UNSIGNED_MAP = build(false);

/** How many midpoints lie strictly below y (the nearest value, ties to the lower code); NaN: 0. */
export function q8Code(map: Quant8Map, y: number): number {
  let lo = 0;
  for (let step = 128; step > 0; step >>= 1) if (lo + step <= 255 && map.mids[lo + step - 1] < y) lo += step;
  return lo;
}

/** out[i] = value[code[i]] * absmax, one float32 multiply each. */
export function q8Widen(map: Quant8Map, codes: Uint8Array, absmax: number, out: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = Math.fround(map.values[codes[i]] * absmax);
}

/**
 * Quantises n values: returns the block's absmax (max |x|, NaN if any x is NaN) and writes each
 * code of x/absmax (float32 division); absmax 0 gives every element the code of 0.
 */
export function q8Narrow(map: Quant8Map, x: Float32Array, codes: Uint8Array, n: number): number {
  let absmax = 0;
  let nan = false;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[i]);
    if (a !== a) nan = true;
    absmax = a > absmax ? a : absmax;
  }
  if (nan) absmax = NaN;
  if (absmax === 0) {
    codes.fill(map.zero, 0, n);
    return 0;
  }
  for (let i = 0; i < n; i++) codes[i] = q8Code(map, Math.fround(x[i] / absmax));
  return absmax;
}
