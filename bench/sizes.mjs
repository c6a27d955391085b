// Speed at every size: Adam against the same-run probe at 1M, 16M and 64M; small steps with default
// options ('auto') against the 'js' backend; many separate small arrays against views of one buffer.
// Each line states what was measured (the median of alternated rounds, the fastest and slowest
// round in brackets) and whether its target was met by the median.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ratioSpread, spread } from './measure.mjs';

const SMALL = [4096, 10]; // elements of the one-tensor small steps
const SMALL_ROUNDS = 5; // per size: a fresh pair of subject processes each round
const SMALL_ROUND_S = { quick: 0.3, full: 0.8 }; // per round, the two subjects' batches taking turns

const TARGETS = { ofProbe: 0.95, smallUs: 3, autoOverJs: 1.1, separateOverViews: 1.3 };

const gelems = (elements, seconds) => elements / seconds / 1e9;
const verdict = (met) => (met ? 'met' : 'not met');
const now = () => process.hrtime.bigint();
const range = (s, digits = 2, scale = 1) => `[${(s.min * scale).toFixed(digits)}-${(s.max * scale).toFixed(digits)}]`;

const CHILD = fileURLToPath(new URL('./small-step-child.mjs', import.meta.url));

/** A subject in its own process (small-step-child.mjs): `batch()` resolves to its seconds per step. */
async function subjectProcess(elements, backend) {
  const child = fork(CHILD, [String(elements), backend], { execArgv: ['--no-concurrent-recompilation'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

/**
 * Seconds per step of a one-tensor Adam with default options, 'auto' and 'js', each in a process of
 * its own: in the bench's process a step of microseconds, mostly JavaScript dispatch, pays for the
 * call sites every earlier subject made polymorphic (0.36-0.72 us there, 0.29 alone), by amounts
 * that differ between the two. Alone, a process's step still settles at one of two costs (here
 * ~0.27 or ~0.42 us, either backend: the JIT's choices), so one pair can differ by 1.5x either
 * way: each of SMALL_ROUNDS rounds starts a fresh pair, the two take turns batch by batch, each
 * gives its median batch (robust to the preemptions of a busy machine, which a mean over long
 * batches adds in full), and the rows report the median round.
 */
export async function measureSmallSteps({ quick }) {
  const out = [];
  for (const n of SMALL) {
    const auto = [], js = [];
    let batches = 0;
    for (let r = 0; r < SMALL_ROUNDS; r++) {
      const cases = await Promise.all([subjectProcess(n, 'auto'), subjectProcess(n, 'js')]);
      const perStep = cases.map(() => []);
      const end = now() + BigInt(Math.round((quick ? SMALL_ROUND_S.quick : SMALL_ROUND_S.full) * 1e9));
      try {
        while (now() < end) for (let k = 0; k < cases.length; k++) perStep[k].push(await cases[k].batch());
      } finally {
        for (const c of cases) c.close();
      }
      auto.push(median(perStep[0]));
      js.push(median(perStep[1]));
      batches += perStep[0].length;
    }
    out.push({
      elements: n, auto: spread(auto), js: spread(js), autoOverJs: ratioSpread(auto, js),
      autoUs: median(auto) * 1e6, jsUs: median(js) * 1e6, batches,
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
    lines.push(`Adam ${s.elements.toLocaleString('en-US')} elements, default options, each in its own process, ${s.batches} batches in ${s.auto?.n ?? '-'} rounds (median round): ` +
      `'auto' ${s.autoUs.toFixed(2)}${us('auto')} us/step (target <= ${TARGETS.smallUs} us): ${verdict(s.autoUs <= TARGETS.smallUs)}; 'js' ${s.jsUs.toFixed(2)}${us('js')} us, ` +
      `'auto' ${ratio.median.toFixed(2)}x${ratio.n ? ` ${range(ratio)}` : ''} of it (target <= ${TARGETS.autoOverJs}x): ${verdict(ratio.median <= TARGETS.autoOverJs)}`);
  }
  for (const m of many) {
    const n = 10000 * 1024, ratio = m.separateOverFlat ?? { median: m.separate / m.flat };
    lines.push(`Adam 10,000 x 1K/${m.threads}T: separate arrays ${gelems(n, m.separate).toFixed(2)} Gelem/s, views of one allocFloat32 buffer ` +
      `${gelems(n, m.flat).toFixed(2)}: ${ratio.median.toFixed(2)}x${ratio.n ? ` ${range(ratio)} over ${ratio.n} rounds` : ''} the time ` +
      `(target <= ${TARGETS.separateOverViews}x): ${verdict(ratio.median <= TARGETS.separateOverViews)}`);
    if (m.plainViewsOverFlat && m.separateOverPlainViews)
      lines.push(`  of which page size: views of one new Float32Array (4 KiB pages) ${m.plainViewsOverFlat.median.toFixed(2)}x ${range(m.plainViewsOverFlat)} the allocFloat32 views' time; ` +
        `scattering: separate arrays ${m.separateOverPlainViews.median.toFixed(2)}x ${range(m.separateOverPlainViews)} the plain views' time`);
    if (m.probeSeparateOverFlat)
      lines.push(`  the layout's own cost: the stream probe over separate arrays takes ${m.probeSeparateOverFlat.median.toFixed(2)}x ${range(m.probeSeparateOverFlat)} its time over views ` +
        `(Adam's time over the probe's: views ${m.flatOverProbe.median.toFixed(2)}x ${range(m.flatOverProbe)}, separate ${m.separateOverProbe.median.toFixed(2)}x ${range(m.separateOverProbe)})`);
  }
  console.log('\nSpeed at every size (median of alternated rounds [fastest-slowest round]):');
  for (const line of lines) console.log(`  ${line}`);
}
