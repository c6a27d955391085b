// Speed at every size: Adam against the same-run probe at 1M, 16M and 64M; small steps with default
// options ('auto') against the 'js' backend; many separate small arrays against views of one buffer.
// Each line states what was measured and whether its target was met.
import { Adam } from '../dist/index.mjs';
import { bestOfEach, collect, fillGrad } from './measure.mjs';

const SMALL = [4096, 10]; // elements of the one-tensor small steps
const SMALL_BATCH_S = 0.02; // each timed call runs this long a batch of steps (microsecond steps)
const TARGETS = { ofProbe: 0.95, smallUs: 3, autoOverJs: 1.1, separateOverViews: 1.3 };

const gelems = (elements, seconds) => elements / seconds / 1e9;
const verdict = (met) => (met ? 'met' : 'not met');

/** A function that runs `count` steps of `opt`, with `count` sized so that it lasts about SMALL_BATCH_S. */
function batched(opt) {
  const t0 = process.hrtime.bigint();
  let k = 0;
  while (Number(process.hrtime.bigint() - t0) / 1e9 < SMALL_BATCH_S / 4) (opt.step(), k++);
  const count = Math.max(1, k * 4);
  return { count, run: () => { for (let i = 0; i < count; i++) opt.step(); } };
}

/** Microseconds per step of a one-tensor Adam with default options, 'auto' and 'js' taking turns. */
export function measureSmallSteps({ quick }) {
  return SMALL.map((n) => {
    const param = () => ({ data: new Float32Array(n).fill(1), grad: fillGrad(new Float32Array(n)) });
    const auto = batched(new Adam([param()]));
    const js = batched(new Adam([param()], { backend: 'js' }));
    const [autoS, jsS] = bestOfEach([auto.run, js.run], { reps: quick ? 5 : 9, warmup: 1, budget: quick ? 1 : 2 });
    collect();
    return { elements: n, autoUs: (autoS / auto.count) * 1e6, jsUs: (jsS / js.count) * 1e6 };
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
    lines.push(`Adam ${s.elements.toLocaleString('en-US')} elements, default options: 'auto' ${s.autoUs.toFixed(1)} us/step ` +
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
