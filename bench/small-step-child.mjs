// One subject of the small-step rows (sizes.mjs) in a process of its own: a one-tensor Adam with
// default options on `backend` ('auto' or 'js'). The parent asks for one timed batch at a time, so
// the subjects still take turns, while neither shares JIT feedback or heap with the other or with
// the rest of the bench. Usage: fork with args [elements, backend].
import { Adam } from '../dist/index.mjs';
import { fillGrad } from './measure.mjs';

const WARMUP_S = 0.3; // untimed steps first: long enough for the JIT's optimizing tier
const BATCH_S = 500e-6; // a timed batch lasts about this long

const n = Number(process.argv[2]);
const backend = process.argv[3];
const param = { data: new Float32Array(n).fill(1), grad: fillGrad(new Float32Array(n)) };
const opt = new Adam([param], backend === 'js' ? { backend: 'js' } : {});
const now = () => process.hrtime.bigint();

const stepsFor = (seconds) => {
  const t0 = now();
  let k = 0;
  while (Number(now() - t0) / 1e9 < seconds || k < 10) (opt.step(), k++);
  return k;
};
stepsFor(WARMUP_S);
const count = Math.max(1, Math.round(stepsFor(10 * BATCH_S) / 10));

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
