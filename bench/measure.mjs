// Timing on a shared, noisy machine: warm up, then run the cases in turn, round after round, so
// that each case (and its roof) meets the same disturbances. The rows report each case's median
// round with the fastest and slowest beside it, and ratios between cases as the median of the
// per-round ratios (each round's cases ran next to each other in time).

const seconds = (fn) => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};

/**
 * Seconds of every round of each of `fns`: `warmup` untimed rounds, then up to `reps` rounds of
 * one call each, stopping early once `budget` seconds are spent (at least `minReps` rounds run).
 */
export function roundsOfEach(fns, { reps = 7, warmup = 1, budget = 3, minReps = 3 } = {}) {
  for (let i = 0; i < warmup; i++) for (const fn of fns) fn();
  const rounds = fns.map(() => []);
  const start = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) {
    fns.forEach((fn, k) => rounds[k].push(seconds(fn)));
    if (i + 1 >= minReps && Number(process.hrtime.bigint() - start) / 1e9 > budget) break;
  }
  return rounds;
}

/** Median, fastest and slowest of a list of numbers, and how many. */
export function spread(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[n >> 1] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { median, min: sorted[0], max: sorted[n - 1], n };
}

/** Per-round a[i]/b[i] of two cases timed in the same rounds, as a spread. */
export const ratioSpread = (a, b) => spread(a.map((x, i) => x / b[i]));

/** Best seconds of each of `fns` (the least disturbed round), for the sections that report bests. */
export function bestOfEach(fns, options) {
  return roundsOfEach(fns, { minReps: 1, ...options }).map((r) => Math.min(...r));
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
