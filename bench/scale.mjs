// npm run bench:scale: one Adam step over a 1-billion-parameter model in fp32 (params, grads,
// exp_avg, exp_avg_sq: 16 GB), in tensors of at most 2^30 elements, on all hardware threads.
// Prints seconds per step and the GB/s of the 28 bytes per parameter a step moves.
// --compact: the most compact setting there is: bf16 params and grads without a master (stochastic
// rounding), int8 moments: 6 bytes per parameter kept (+ 8 per 256 of absmax), 10 moved; as many
// parameters as fit in 85% of the memory available (after 2 GiB for node), in steps of 10^8.
// --params N: that many parameters instead (e.g. --params 2e8 for a quick check).
import * as fs from 'node:fs';
import { Adam, allocFloat32, backendInfo } from '../dist/index.mjs';
import { bestOf } from './measure.mjs';

const compact = process.argv.includes('--compact');
const at = process.argv.indexOf('--params');
const KEPT = compact ? 6 + 8 / 256 : 16; // bytes per parameter: params, grads, moments (+ absmax)
const MOVED = compact ? 10 + 16 / 256 : 28; // read param, grad, 2 moments; write param, 2 moments
const HEADROOM_GIB = 2; // node, the heap, the rest
const available = availableGiB();
const fit = Number.isFinite(available) ? Math.floor((0.85 * (available - HEADROOM_GIB) * 2 ** 30) / KEPT / 1e8) * 1e8 : 2.5e9;
const PARAMS = at > 0 ? Number(process.argv[at + 1]) : compact ? fit : 1e9;
if (!Number.isSafeInteger(PARAMS) || PARAMS < 1e6) throw new Error(`--params must be an integer of at least 1e6, got ${process.argv[at + 1]}`);
const NEED_GIB = (PARAMS * KEPT) / 2 ** 30 + HEADROOM_GIB;

// A transformer-like split: one embedding of up to 2^28, blocks of 2^24, and the rest.
const lengths = [Math.min(2 ** 28, Math.floor(PARAMS / 3))];
let left = PARAMS - lengths[0];
for (; left > 2 ** 24; left -= 2 ** 24) lengths.push(2 ** 24);
if (left > 0) lengths.push(left);

function availableGiB() {
  const m = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) / 2 ** 20 : Infinity;
}

if (available < NEED_GIB) {
  console.error(`bench:scale needs ${NEED_GIB.toFixed(1)} GiB available, this machine has ${available.toFixed(1)}: not run`);
  process.exit(1);
}
const t0 = Date.now();
// bf16 bits in library memory (huge pages): a Float32Array of half the length, viewed as 16-bit.
const halves = (n) => {
  const f = allocFloat32(Math.ceil(n / 2));
  return new Uint16Array(f.buffer, f.byteOffset, n);
};
const BF16_1E_3 = new Uint32Array(Float32Array.of(1e-3).buffer)[0] >>> 16;
const params = lengths.map((n, i) =>
  compact
    ? { name: `t${i}`, data: halves(n).fill(0x3f80), grad: halves(n).fill(BF16_1E_3), dtype: 'bf16' }
    : { name: `t${i}`, data: allocFloat32(n), grad: allocFloat32(n).fill(1e-3) },
);
// State: allocFloat32 arenas (huge pages), or 8-bit codes.
const opt = new Adam(params, compact ? { stateDtype: 'int8', masterWeights: false } : {});
const setting = compact ? 'bf16 params and grads without master, int8 state' : 'fp32 params, grads and state';
console.log(`${PARAMS.toExponential(2)} parameters in ${lengths.length} tensors (largest ${Math.max(...lengths)}), ${setting}: ` +
  `${((PARAMS * KEPT) / 1e9).toFixed(1)} GB allocated (state ${(opt.stateBytes / 1e9).toFixed(1)} GB; ${available.toFixed(1)} GiB were available) in ${((Date.now() - t0) / 1e3).toFixed(1)} s; ${opt.backend}, ${backendInfo().threads} threads`);
const times = [];
const best = bestOf(() => {
  const s = process.hrtime.bigint();
  opt.step();
  times.push(Number(process.hrtime.bigint() - s) / 1e9);
}, { reps: 3, warmup: 1, budget: 60 });
console.log(`steps: ${times.map((t) => t.toFixed(2)).join(', ')} s (first is warm-up)`);
console.log(`best: ${best.toFixed(3)} s/step, ${((PARAMS * MOVED) / best / 1e9).toFixed(1)} GB/s (${MOVED.toFixed(2)} bytes per parameter)`);
