// Timing on a shared, noisy machine: warm up, then run the cases in turn, round after round, and
// keep each one's best (shortest) time. The best run is the one least disturbed by other
// processes, and taking turns exposes each case (and its roof) to the same disturbances.

const seconds = (fn) => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};

/**
 * Best seconds of each of `fns`: `warmup` untimed rounds, then up to `reps` rounds of one call
 * each, stopping early once `budget` seconds are spent (at least one round always runs).
 */
export function bestOfEach(fns, { reps = 7, warmup = 1, budget = 3 } = {}) {
  for (let i = 0; i < warmup; i++) for (const fn of fns) fn();
  const best = fns.map(() => Infinity);
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) {
    fns.forEach((fn, k) => (best[k] = Math.min(best[k], seconds(fn))));
    if (Number(process.hrtime.bigint() - start) / 1e9 > budget) break;
  }
  return best;
}

export const bestOf = (fn, options) => bestOfEach([fn], options)[0];

/** Cheap deterministic gradient-like values in [-0.5, 0.5). */
export function fillGrad(a, seed = 1) {
  let x = seed;
  for (let i = 0; i < a.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    a[i] = (x >>> 8) / 16777216 - 0.5;
  }
  return a;
}

/** Frees what the last case left behind (node runs with --expose-gc in npm run bench). */
export function collect() {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}
