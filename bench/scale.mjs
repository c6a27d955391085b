// npm run bench:scale: one Adam step over a 1-billion-parameter model in fp32 (params, grads,
// exp_avg, exp_avg_sq: 16 GB), in tensors of at most 2^30 elements, on all hardware threads.
// Prints seconds per step and the GB/s of the 28 bytes per parameter a step moves.
// --compact: the most compact setting there is (fp32 params, int8 moments: ~10 bytes per
// parameter kept, 16 moved), with as many parameters as fit (--params N, default 1.5e9).
import * as fs from 'node:fs';
import { Adam, allocFloat32, backendInfo } from '../dist/index.mjs';
import { bestOf } from './measure.mjs';

const compact = process.argv.includes('--compact');
const at = process.argv.indexOf('--params');
const PARAMS = at > 0 ? Number(process.argv[at + 1]) : compact ? 1.5e9 : 1e9;
const KEPT = compact ? 10 + 8 / 256 : 16; // bytes per parameter: params, grads, moments (+ absmax)
const MOVED = compact ? 16 + 16 / 256 : 28;
const NEED_GIB = (PARAMS * KEPT) / 2 ** 30 + 2; // the arrays, and headroom for node and the rest

// A transformer-like split: one 2^28 embedding, 43 blocks of 2^24, and the rest.
const lengths = [2 ** 28, ...Array(compact ? Math.floor((PARAMS - 2 ** 28) / 2 ** 24 / 1.5) : 43).fill(2 ** 24)];
lengths.push(PARAMS - lengths.reduce((a, b) => a + b, 0));
if (lengths.some((n) => n <= 0 || n > 2 ** 30)) throw new Error('bad split');

function availableGiB() {
  const m = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) / 2 ** 20 : Infinity;
}

const available = availableGiB();
if (available < NEED_GIB) {
  console.error(`bench:scale needs ${NEED_GIB.toFixed(1)} GiB available, this machine has ${available.toFixed(1)}: not run`);
  process.exit(1);
}
const t0 = Date.now();
const params = lengths.map((n, i) => ({ name: `t${i}`, data: allocFloat32(n), grad: allocFloat32(n).fill(1e-3) }));
const opt = new Adam(params, compact ? { stateDtype: 'int8' } : {}); // state: allocFloat32 arenas (huge pages), or 8-bit codes
console.log(`${PARAMS.toExponential(0)} parameters in ${lengths.length} tensors (largest ${Math.max(...lengths)}), ` +
  `${((PARAMS * KEPT) / 1e9).toFixed(0)} GB allocated (${compact ? 'int8 state, ' : ''}state ${(opt.stateBytes / 1e9).toFixed(1)} GB) in ${((Date.now() - t0) / 1e3).toFixed(1)} s; ${opt.backend}, ${backendInfo().threads} threads`);
const times = [];
const best = bestOf(() => {
  const s = process.hrtime.bigint();
  opt.step();
  times.push(Number(process.hrtime.bigint() - s) / 1e9);
}, { reps: 3, warmup: 1, budget: 60 });
console.log(`steps: ${times.map((t) => t.toFixed(2)).join(', ')} s (first is warm-up)`);
console.log(`best: ${best.toFixed(3)} s/step, ${((PARAMS * MOVED) / best / 1e9).toFixed(1)} GB/s (${MOVED.toFixed(2)} bytes per parameter)`);
