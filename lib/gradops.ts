import type { GradOps } from './backends/types';

const f = Math.fround;

/** Elements per block and float64 lanes per block of the norm; native/kernels/grad_api.h has the same. */
export const NORM_BLOCK = 1024;
export const NORM_LANES = 16;

/**
 * The library's sum of squares, defined by its order so every backend, ISA and thread count gives
 * the same float64 bits (native/kernels/gradops.h computes the same):
 *   - each array is cut into blocks of NORM_BLOCK elements (the last one shorter);
 *   - in a block, element i goes to lane i % NORM_LANES; each lane starts at 0 and adds x*x in
 *     index order (exact: a float32 square fits a float64), so only the additions round;
 *   - a block's sum is lane 0 + lane 1 + ... + lane 15, left to right;
 *   - the total starts at 0 and adds the blocks' sums in order, array after array.
 * Finite float32 values never overflow it, so it is finite exactly when every element is.
 */
function sumSquares(arrays: ReadonlyArray<Float32Array>): number {
  const lanes = new Float64Array(NORM_LANES);
  let total = 0;
  for (const x of arrays)
    for (let start = 0; start < x.length; start += NORM_BLOCK) {
      lanes.fill(0);
      const end = Math.min(x.length, start + NORM_BLOCK);
      for (let i = start; i < end; i++) lanes[(i - start) % NORM_LANES] += x[i] * x[i];
      let block = lanes[0];
      for (let j = 1; j < NORM_LANES; j++) block += lanes[j];
      total += block;
    }
  return total;
}

/** The TypeScript reference of the gradient operations (the 'js' backend's). */
export const gradOps: GradOps = {
  sumSquares,
  scale(arrays, factor) {
    const c = f(factor);
    for (const x of arrays) for (let i = 0; i < x.length; i++) x[i] = f(x[i] * c);
  },
  clamp(arrays, limit) {
    const hi = f(limit), lo = -hi;
    for (const x of arrays)
      for (let i = 0; i < x.length; i++) {
        const a = lo > x[i] ? lo : x[i]; // max(lo, x): maxps semantics, NaN comes through
        x[i] = hi < a ? hi : a; // min(hi, a): minps semantics
      }
  },
};
