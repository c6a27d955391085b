// Speed at every size: Adam against the same-run probe at 1M, 16M and 64M; small steps with default
// options ('auto') against the 'js' backend; many separate small arrays against views of one buffer.
// Each line states what was measured (the median of alternated rounds, the fastest and slowest
// round in brackets) and whether its target was met by the median.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ratioSpread, spread } from './measure.mjs';

const SMALL = [4096, 10]; // elements of the one-tensor small steps
const SMALL_BUDGET_S = { quick: 1, full: 3 }; // per size, the batches of the two subjects taking turns
const SMALL_ROUNDS = 7; // the batches in this many consecutive rounds, for the spread

const TARGETS = { ofProbe: 0.95, smallUs: 3, autoOverJs: 1.1, separateOverViews: 1.3 };

const gelems = (elements, seconds) => elements / seconds / 1e9;
const verdict = (met) => (met ? 'met' : 'not met');
const now = () => process.hrtime.bigint();
const range = (s, digits = 2, scale = 1) => `[${(s.min * scale).toFixed(digits)}-${(s.max * scale).toFixed(digits)}]`;

const CHILD = fileURLToPath(new URL('./small-step-child.mjs', import.meta.url));

/** A subject in its own process (small-step-child.mjs): `batch()` resolves to its seconds per step. */
async function subjectProcess(elements, backend) {
  const child = fork(CHILD, [String(elements), backend], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let pending = null;
  child.on('message', (m) => pending?.resolve(m));
  child.on('exit', (code) => pending?.reject(new Error(`small-step subject ${backend} (${elements} elements) exited with ${code}`)));
  const next = () => new Promise((resolve, reject) => (pending = { resolve, reject }));
  await next(); // ready: warmed up, batch sized
  return {
    batch: async () => {
      const reply = next();
      child.send('run');
      return (await reply).secondsPerStep;
    },
    close: () => child.kill(),
  };
}

const median = (a) => spread(a).median;

/** Each of SMALL_ROUNDS consecutive slices of `batches` by its median batch. */
const roundMedians = (batches) => {
  const size = Math.ceil(batches.length / SMALL_ROUNDS);
  return Array.from({ length: Math.ceil(batches.length / size) }, (_, r) => median(batches.slice(r * size, (r + 1) * size)));
};

/**
 * Seconds per step of a one-tensor Adam with default options, 'auto' and 'js', each in a process of
 * its own (a step of microseconds is mostly JavaScript dispatch, so a subject measured in the
 * bench's process pays for the call sites every earlier subject made polymorphic, and the two pay
 * unequally): many short batches taking turns; the median batch of each (robust to the
 * preemptions of a busy machine, which a mean over long batches adds in full), and the spread of
 * SMALL_ROUNDS consecutive rounds' medians.
 */
export async function measureSmallSteps({ quick }) {
  const out = [];
  for (const n of SMALL) {
    const cases = [await subjectProcess(n, 'auto'), await subjectProcess(n, 'js')];
    const perStep = cases.map(() => []);
    const end = now() + BigInt(Math.round((quick ? SMALL_BUDGET_S.quick : SMALL_BUDGET_S.full) * 1e9));
    try {
      while (now() < end) for (let k = 0; k < cases.length; k++) perStep[k].push(await cases[k].batch());
    } finally {
      for (const c of cases) c.close();
    }
    const [auto, js] = perStep.map(roundMedians);
    out.push({
      elements: n, auto: spread(auto), js: spread(js), autoOverJs: { ...ratioSpread(auto, js), median: median(perStep[0]) / median(perStep[1]) },
      autoUs: median(perStep[0]) * 1e6, jsUs: median(perStep[1]) * 1e6, batches: perStep[0].length,
    });
  }
  return out;
}

/** The lines of this section, from the main table's rows, the many-tensor rows and measureSmallSteps. */
export function printSpeedTargets(rows, many, small) {
  const lines = [];
  for (const size of ['1M', '16M', '64M']) {
    const adam = rows.filter((x) => x.optimizer === 'Adam' && x.size === size);
    if (adam.length === 0) lines.push(`Adam ${size}: not measured in this run`);
    for (const r of adam) {
      const of = r.ofProbe ?? { median: r.roofSeconds / r.seconds };
      const rounds = of.n ? ` ${range(of)} over ${of.n} rounds` : '';
      lines.push(`Adam ${size}/${r.threads}T: ${gelems(r.elements, r.seconds).toFixed(2)} Gelem/s, probe ${gelems(r.elements, r.roofSeconds).toFixed(2)}: ` +
        `${of.median.toFixed(2)}${rounds} of probe (target >= ${TARGETS.ofProbe}): ${verdict(of.median >= TARGETS.ofProbe)}`);
    }
  }
  for (const s of small) {
    const ratio = s.autoOverJs ?? { median: s.autoUs / s.jsUs };
    const us = (x) => (s[x] ? ` ${range(s[x], 2, 1e6)}` : '');
    lines.push(`Adam ${s.elements.toLocaleString('en-US')} elements, default options, median of ${s.batches} batches (rounds: ${s.auto?.n ?? '-'}): ` +
      `'auto' ${s.autoUs.toFixed(2)}${us('auto')} us/step (target <= ${TARGETS.smallUs} us): ${verdict(s.autoUs <= TARGETS.smallUs)}; 'js' ${s.jsUs.toFixed(2)}${us('js')} us, ` +
      `'auto' ${ratio.median.toFixed(2)}x${ratio.n ? ` ${range(ratio)}` : ''} of it (target <= ${TARGETS.autoOverJs}x): ${verdict(ratio.median <= TARGETS.autoOverJs)}`);
  }
  for (const m of many) {
    const n = 10000 * 1024, ratio = m.separateOverFlat ?? { median: m.separate / m.flat };
    lines.push(`Adam 10,000 x 1K/${m.threads}T: separate arrays ${gelems(n, m.separate).toFixed(2)} Gelem/s, views of one allocFloat32 buffer ` +
      `${gelems(n, m.flat).toFixed(2)}: ${ratio.median.toFixed(2)}x${ratio.n ? ` ${range(ratio)} over ${ratio.n} rounds` : ''} the time ` +
      `(target <= ${TARGETS.separateOverViews}x): ${verdict(ratio.median <= TARGETS.separateOverViews)}`);
  }
  console.log('\nSpeed at every size (median of alternated rounds [fastest-slowest round]):');
  for (const line of lines) console.log(`  ${line}`);
}
