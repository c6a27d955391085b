// Sparse rows: SparseAdam on a 1M-row x 64 embedding table against a dense Adam step over the same
// table, in the same run; 1K, 10K and 100K touched rows per step (10% duplicates, any order), so
// the growth with touched rows shows. Also coalesce() alone (the TS sort plus gathering the summed
// rows, as the 'js' backend does): the native step sums the rows inside its jobs instead and takes
// only the sort from TS. `node --expose-gc bench/sparse.mjs` runs this part alone.
import { Adam, SparseAdam, allocFloat32, coalesce } from '../dist/index.mjs';
import { bestOf, bestOfEach, collect, fillGrad } from './measure.mjs';

const ROWS = 1 << 20, ROW_SIZE = 64;
const TOUCHED = [1000, 10000, 100000];
const BATCHES = 8; // steps cycle through these, so no step finds the previous one's rows in cache
const TARGETS = { speedup: 500, perRowOverDense: 3 };

function batches(touched, seed) {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) / 16777216;
  return Array.from({ length: BATCHES }, (_, b) => {
    const indices = new Int32Array(touched);
    for (let k = 0; k < touched; k++) indices[k] = k > 0 && next() < 0.1 ? indices[Math.floor(next() * k)] : Math.floor(next() * ROWS);
    return { indices, grad: fillGrad(new Float32Array(touched * ROW_SIZE), seed + b) };
  });
}

/** Per thread count: dense Adam's step, and SparseAdam's at each touched-row count, on one table. */
export function measureSparse({ quick = false, threads = [1, 2] } = {}) {
  const reps = quick ? { reps: 5, budget: 1 } : { reps: 15, budget: 3 };
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
        Object.assign(sparse, list[i++ % BATCHES]);
        sparseAdam.step();
      };
    });
    // Measured apart: between two sparse steps of a training loop the touched rows are read by the
    // forward pass, not flushed from every cache by a 1 GiB dense pass.
    const denseSeconds = bestOf(() => adam.step(), reps);
    const sparseSeconds = bestOfEach(steps, reps);
    work.forEach(({ touched, batches: list }, k) => {
      let i = 0;
      const coalesceSeconds = bestOf(() => {
        const b = list[i++ % BATCHES];
        coalesce(b.indices, b.grad, ROW_SIZE);
      }, reps);
      rows.push({ threads: t, touched, denseSeconds, sparseSeconds: sparseSeconds[k], coalesceSeconds });
    });
    adam.dispose();
    sparseAdam.dispose();
    collect();
  }
  return { rows: ROWS, rowSize: ROW_SIZE, duplicates: 0.1, results: rows };
}

const us = (s) => `${(s * 1e6).toFixed(s < 1e-3 ? 1 : 0)} us`;

export function printSparse(result) {
  console.log(`\nSparse rows: SparseAdam vs a dense Adam step over the same ${result.rows / (1 << 20)}M x ${result.rowSize} table (native, ${result.duplicates * 100}% duplicate indices)`);
  console.log('threads  touched   dense step   sparse step  (coalesce)   speedup   ns/touched row   dense ns/64 elem   ratio');
  for (const r of result.results) {
    const perRow = (r.sparseSeconds / r.touched) * 1e9;
    const densePer64 = (r.denseSeconds / result.rows) * 1e9;
    console.log(
      `${String(r.threads).padStart(7)}  ${String(r.touched).padStart(7)}  ${us(r.denseSeconds).padStart(11)}  ${us(r.sparseSeconds).padStart(12)}  ${us(r.coalesceSeconds).padStart(10)}  ${(r.denseSeconds / r.sparseSeconds).toFixed(0).padStart(7)}x  ${perRow.toFixed(1).padStart(15)}  ${densePer64.toFixed(1).padStart(17)}  ${(perRow / densePer64).toFixed(2).padStart(6)}x`,
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
