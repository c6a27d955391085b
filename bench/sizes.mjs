// Speed at every size: Adam against the same-run probe at 1M, 16M and 64M; small steps with default
// options ('auto') against the 'js' backend; many separate small arrays against views of one buffer.
// Each line states what was measured and whether its target was met.
import { Adam } from '../dist/index.mjs';
import { collect, fillGrad } from './measure.mjs';

const SMALL = [4096, 10]; // elements of the one-tensor small steps
const SMALL_BATCH_S = 50e-6; // a timed batch of microsecond steps lasts about this long
const SMALL_BUDGET_S = { quick: 0.5, full: 1.5 }; // per size, 'auto' and 'js' batches taking turns

const TARGETS = { ofProbe: 0.95, smallUs: 3, autoOverJs: 1.1, separateOverViews: 1.3 };

const gelems = (elements, seconds) => elements / seconds / 1e9;
const verdict = (met) => (met ? 'met' : 'not met');
const now = () => process.hrtime.bigint();

/** `run` does `count` steps of `opt`, `count` sized so that a batch lasts about SMALL_BATCH_S. */
function batched(opt) {
  const t0 = now();
  let k = 0;
  while (Number(now() - t0) / 1e9 < 10 * SMALL_BATCH_S || k < 10) (opt.step(), k++);
  const count = Math.max(1, Math.round(k / 10));
  return { count, run: () => { for (let i = 0; i < count; i++) opt.step(); } };
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

/**
 * Microseconds per step of a one-tensor Adam with default options, 'auto' and 'js': many short
 * batches taking turns, median per-step time of each (robust to the preemptions of a busy machine,
 * which a mean over long batches adds in full).
 */
export function measureSmallSteps({ quick }) {
  return SMALL.map((n) => {
    const param = () => ({ data: new Float32Array(n).fill(1), grad: fillGrad(new Float32Array(n)) });
    const cases = [batched(new Adam([param()])), batched(new Adam([param()], { backend: 'js' }))];
    const perStep = cases.map(() => []);
    const end = now() + BigInt(Math.round((quick ? SMALL_BUDGET_S.quick : SMALL_BUDGET_S.full) * 1e9));
    while (now() < end)
      cases.forEach((c, k) => {
        const t0 = now();
        c.run();
        perStep[k].push(Number(now() - t0) / 1e9 / c.count);
      });
    collect();
    const [autoS, jsS] = perStep.map(median);
    return { elements: n, autoUs: autoS * 1e6, jsUs: jsS * 1e6, batches: perStep[0].length };
  });
}

/** The lines of this section, from the main table's rows, the many-tensor rows and measureSmallSteps. */
export function printSpeedTargets(rows, many, small) {
  const lines = [];
  for (const size of ['1M', '16M', '64M']) {
    const adam = rows.filter((x) => x.optimizer === 'Adam' && x.size === size);
    if (adam.length === 0) lines.push(`Adam ${size}: not measured in this run`);
    for (const r of adam) {
      const got = r.roofSeconds / r.seconds;
      lines.push(`Adam ${size}/${r.threads}T: ${gelems(r.elements, r.seconds).toFixed(2)} Gelem/s, probe ${gelems(r.elements, r.roofSeconds).toFixed(2)}: ` +
        `${got.toFixed(2)} of probe (target >= ${TARGETS.ofProbe}): ${verdict(got >= TARGETS.ofProbe)}`);
    }
  }
  for (const s of small) {
    const ratio = s.autoUs / s.jsUs;
    lines.push(`Adam ${s.elements.toLocaleString('en-US')} elements, default options, median of ${s.batches} batches: 'auto' ${s.autoUs.toFixed(1)} us/step ` +
      `(target <= ${TARGETS.smallUs} us): ${verdict(s.autoUs <= TARGETS.smallUs)}; 'js' ${s.jsUs.toFixed(1)} us, ` +
      `'auto' ${ratio.toFixed(2)}x of it (target <= ${TARGETS.autoOverJs}x): ${verdict(ratio <= TARGETS.autoOverJs)}`);
  }
  for (const m of many) {
    const n = 10000 * 1024, ratio = m.separate / m.flat;
    lines.push(`Adam 10,000 x 1K/${m.threads}T: separate arrays ${gelems(n, m.separate).toFixed(2)} Gelem/s, views of one allocFloat32 buffer ` +
      `${gelems(n, m.flat).toFixed(2)}: ${ratio.toFixed(2)}x the time (target <= ${TARGETS.separateOverViews}x): ${verdict(ratio <= TARGETS.separateOverViews)}`);
  }
  console.log('\nSpeed at every size (issue 11):');
  for (const line of lines) console.log(`  ${line}`);
}
