// One subject of the small-step rows (sizes.mjs) in a process of its own: a one-tensor Adam with
// default options on `backend` ('auto' or 'js'). The parent asks for one timed batch at a time, so
// the subjects still take turns, while neither shares JIT feedback or heap with the other or with
// the rest of the bench. Usage: fork with args [elements, backend], and node's flag
// --no-concurrent-recompilation, so that the optimizing compiler has run, on this thread, by the
// end of the warm-up (on a busy machine its background thread may not have).
import { Adam } from '../dist/index.mjs';
import { fillGrad } from './measure.mjs';

const WARMUP_CPU_S = { min: 0.2, max: 2 }; // untimed steps first, in CPU seconds of this process
const BATCH_S = 500e-6; // a timed batch lasts about this long

const n = Number(process.argv[2]);
const backend = process.argv[3];
const param = { data: new Float32Array(n).fill(1), grad: fillGrad(new Float32Array(n)) };
const opt = new Adam([param], backend === 'js' ? { backend: 'js' } : {});
const now = () => process.hrtime.bigint();
const cpuSeconds = (since) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

/** CPU seconds per step over `steps` steps. */
function perStep(steps) {
  const start = process.cpuUsage();
  for (let i = 0; i < steps; i++) opt.step();
  return cpuSeconds(start) / steps;
}

// Warm-up in CPU time, not wall time: on a busy machine this process may get a fifth of a core,
// and the JIT's optimizing tier must have run before anything is timed. It ends once the cost of a
// step has settled (two windows of ~20 ms within 3%). Returns the steps of a timed batch.
function warmUp() {
  let steps = 10;
  while (perStep(steps) * steps < 0.02) steps *= 2;
  const start = process.cpuUsage();
  for (let last = Infinity; ; ) {
    const cost = perStep(steps);
    const spent = cpuSeconds(start);
    if ((spent >= WARMUP_CPU_S.min && Math.abs(cost - last) <= 0.03 * last) || spent >= WARMUP_CPU_S.max)
      return Math.max(1, Math.round(BATCH_S / cost));
    last = cost;
  }
}
const count = warmUp();

process.on('message', (m) => {
  if (m !== 'run') return process.exit(0);
  // This process slept while the other subject ran: a few untimed steps bring its code and data
  // back into the caches first.
  for (let i = 0; i < Math.ceil(count / 10); i++) opt.step();
  const start = now();
  for (let i = 0; i < count; i++) opt.step();
  process.send({ secondsPerStep: Number(now() - start) / 1e9 / count });
});
process.send({ ready: true, count });
