// Sparse rows: SparseAdam on a 1M-row x 64 embedding table against a dense Adam step over the same
// table, in the same run; 1K, 10K and 100K touched rows per step (10% duplicates, any order), so
// the growth with touched rows shows. Medians of many steps, with their spread (the machine is
// shared: a best-of alone flatters), each touched-row count in its own series. Also coalesce() alone (the TS sort plus gathering the summed
// rows, as the 'js' backend does): the native step plans and sums natively instead.
// `node --expose-gc bench/sparse.mjs` runs this part alone.
import { Adam, SparseAdam, allocFloat32, coalesce } from '../dist/index.mjs';
import { bestOf, collect, fillGrad } from './measure.mjs';

const ROWS = 1 << 20, ROW_SIZE = 64;
const TOUCHED = [1000, 10000, 100000];
// Steps cycle through this many batches: together they touch 64K+ rows (48+ MiB of param and
// state rows), more than the last-level cache holds, so a step finds its rows cold as in training.
const batchCount = (touched) => Math.max(2, Math.ceil(65536 / touched));
const TARGETS = { speedup: 500, perRowOverDense: 3 };

const seconds = (fn) => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};

/** Every timed call of each of `fns`, taking turns round after round until `budget` seconds or `rounds`. */
function samplesOfEach(fns, { rounds, budget }) {
  const samples = fns.map(() => []);
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds && Number(process.hrtime.bigint() - start) / 1e9 < budget; i++) fns.forEach((fn, k) => samples[k].push(seconds(fn)));
  return samples;
}

/** Median, 10th and 90th percentiles and best of some seconds. */
function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p10: at(0.1), p90: at(0.9), best: s[0], count: s.length };
}

function batches(touched, seed) {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) / 16777216;
  return Array.from({ length: batchCount(touched) }, (_, b) => {
    const indices = new Int32Array(touched);
    for (let k = 0; k < touched; k++) indices[k] = k > 0 && next() < 0.1 ? indices[Math.floor(next() * k)] : Math.floor(next() * ROWS);
    return { indices, grad: fillGrad(new Float32Array(touched * ROW_SIZE), seed + b) };
  });
}

/** Per thread count: dense Adam's step, and SparseAdam's at each touched-row count, on one table. */
export function measureSparse({ quick = false, threads = [1, 2] } = {}) {
  const reps = quick ? { reps: 5, budget: 1 } : { reps: 15, budget: 3 };
  const sparseReps = quick ? { rounds: 200, budget: 0.5 } : { rounds: 1000, budget: 1.5 };
  // The table in native memory (huge pages), as the main bench's 'native' layout.
  const data = fillGrad(allocFloat32(ROWS * ROW_SIZE), 3);
  const dense = { name: 'emb', data, grad: fillGrad(allocFloat32(ROWS * ROW_SIZE), 4) };
  const sparse = { name: 'emb', data, rowSize: ROW_SIZE, indices: new Int32Array(0), grad: new Float32Array(0) };
  const work = TOUCHED.map((touched) => ({ touched, batches: batches(touched, touched) }));
  const rows = [];
  for (const t of threads) {
    // Tiny lrs: the shared table stays finite however many steps the timing takes.
    const adam = new Adam([dense], { lr: 1e-9, backend: 'native', threads: t });
    const sparseAdam = new SparseAdam([sparse], { lr: 1e-9, backend: 'native', threads: t });
    const steps = work.map(({ batches: list }) => {
      let i = 0;
      return () => {
        Object.assign(sparse, list[i++ % list.length]);
        sparseAdam.step();
      };
    });
    // Measured apart: a 1 GiB dense pass between two sparse steps would flush every cache, which
    // a training loop's forward pass does not (the batches above keep the rows cold anyway).
    adam.step(); // warm-up
    const denseStep = summary(samplesOfEach([() => adam.step()], { rounds: reps.reps, budget: reps.budget })[0]);
    // Each case in its own series, as a training loop steps one batch size: right after a
    // 100K-row step the caches are full of its dirty rows, which made the next 1K-row step ~5x
    // slower here when the cases took turns. Warm-up: every batch once (no first-touch page faults).
    const sparseSamples = steps.map((step, k) => {
      work[k].batches.forEach(() => step());
      return summary(samplesOfEach([step], sparseReps)[0]);
    });
    work.forEach(({ touched, batches: list }, k) => {
      let i = 0;
      const coalesceSeconds = bestOf(() => {
        const b = list[i++ % list.length];
        coalesce(b.indices, b.grad, ROW_SIZE);
      }, reps);
      const s = sparseSamples[k];
      rows.push({ threads: t, touched, denseSeconds: denseStep.median, sparseSeconds: s.median, coalesceSeconds, dense: denseStep, sparse: s });
    });
    adam.dispose();
    sparseAdam.dispose();
    collect();
  }
  return { rows: ROWS, rowSize: ROW_SIZE, duplicates: 0.1, results: rows };
}

const us = (s) => `${(s * 1e6).toFixed(s < 1e-3 ? 1 : 0)} us`;

export function printSparse(result) {
  console.log(`\nSparse rows: SparseAdam vs a dense Adam step over the same ${result.rows / (1 << 20)}M x ${result.rowSize} table (native, ${result.duplicates * 100}% duplicate indices; medians, p10-p90 and sample counts)`);
  console.log('threads  touched   dense step             sparse step                   (coalesce)   speedup   ns/touched row   dense ns/64 elem   ratio');
  const spread = (x) => (x ? `(${us(x.p10)}-${us(x.p90)}, ${x.count})` : '');
  for (const r of result.results) {
    const perRow = (r.sparseSeconds / r.touched) * 1e9;
    const densePer64 = (r.denseSeconds / result.rows) * 1e9;
    console.log(
      `${String(r.threads).padStart(7)}  ${String(r.touched).padStart(7)}  ${us(r.denseSeconds).padStart(9)} ${spread(r.dense).padEnd(13)} ${us(r.sparseSeconds).padStart(9)} ${spread(r.sparse).padEnd(22)} ${us(r.coalesceSeconds).padStart(10)}  ${(r.denseSeconds / r.sparseSeconds).toFixed(0).padStart(7)}x  ${perRow.toFixed(1).padStart(15)}  ${densePer64.toFixed(1).padStart(17)}  ${(perRow / densePer64).toFixed(2).padStart(6)}x`,
    );
  }
  for (const r of result.results.filter((x) => x.touched === 1000)) {
    const speedup = r.denseSeconds / r.sparseSeconds;
    const ratio = r.sparseSeconds / r.touched / (r.denseSeconds / result.rows);
    console.log(
      `SparseAdam 1,000 rows, ${r.threads} thread${r.threads > 1 ? 's' : ''}: ${speedup.toFixed(0)}x faster than dense Adam (target: at least ${TARGETS.speedup}x; ${speedup >= TARGETS.speedup ? 'met' : 'not met'}); ` +
        `per touched row ${ratio.toFixed(2)}x a dense step's cost per 64 elements (target: within ${TARGETS.perRowOverDense}x; ${ratio <= TARGETS.perRowOverDense ? 'met' : 'not met'})`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) printSparse(measureSparse({ quick: process.argv.includes('--quick') }));
