// npm run bench [-- --quick]: Adam-family steps against the memory roof measured in the same run,
// the 'js' backend and TensorFlow.js; prints one table and writes bench/results/<date>.json.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIZES, makeParams, makeProbeArrays, makeProbeTensors } from './layouts.mjs';
import { machine } from './machine.mjs';
import { bestOf, collect, ratioSpread, roundsOfEach, spread } from './measure.mjs';
import { measureCompact, printCompact } from './compact.mjs';
import { makeProbe } from './probe.mjs';
import { SUBJECTS } from './subjects.mjs';
import { printHugePages, printManyTensors, printTable, printTargets } from './report.mjs';
import { measureSmallSteps, printSpeedTargets } from './sizes.mjs';
import { measureSparse, printSparse } from './sparse.mjs';
import { tfSeconds } from './tfjs.mjs';

const quick = process.argv.includes('--quick');
const THREADS = [1, 2];
const sizes = quick ? SIZES.filter((s) => s.label !== '64M') : SIZES;
const REPS = quick
  ? { native: { reps: 7, budget: 1 }, js: { reps: 1, budget: 1 }, tfCpu: { reps: 1, warmup: 1, budget: 1 }, tfWasm: { reps: 2, warmup: 1, budget: 2 } }
  : { native: { reps: 15, budget: 3 }, js: { reps: 3, budget: 3 }, tfCpu: { reps: 2, warmup: 1, budget: 10 }, tfWasm: { reps: 3, warmup: 2, budget: 5 } };
// A 1M step takes ~0.3 ms: a handful of rounds is a handful of scheduler slices on a shared machine,
// and their median moves by 10-20% from run to run. Sizes up to SHORT_ELEMENTS get SHORT_REPS
// rounds (still well under the budget); larger steps are long enough for REPS.native.
const SHORT_ELEMENTS = 2 ** 21;
const SHORT_REPS = quick ? 61 : 151;
const nativeReps = (n) => (n <= SHORT_ELEMENTS ? { ...REPS.native, reps: Math.max(REPS.native.reps, SHORT_REPS) } : REPS.native);
// TF.js 'cpu' is skipped where its rate so far predicts longer steps; --quick skips TF.js on 10k tensors.
const TF_CPU_MAX_STEP_S = quick ? 2 : 20;

const ADAM = SUBJECTS.find((s) => s.name === 'Adam');
const elements = (size) => size.tensors * size.length;
const log = (...a) => process.stderr.write(a.join(' ') + '\n');

/** A function that runs one native step of `subject` on `threads` threads. */
function nativeStep(subject, params, threads) {
  const opt = subject.make(params, { backend: 'native', threads });
  return () => opt.step();
}

/** The main table: every subject at every size and thread count, with its roof, js and TF.js. */
async function measureMatrix() {
  const rows = [];
  const tfCpuRate = new Map(); // subject -> elements/s so far
  for (const size of sizes) {
    const n = elements(size);
    const probeArrays = makeProbeArrays(n, 'native');
    const probes = Object.fromEntries(THREADS.map((t) => [t, makeProbe(probeArrays, t)]));
    for (const subject of SUBJECTS) {
      const params = makeParams(size, 'native');
      const jsOpt = subject.make(params, { backend: 'js' });
      const js = bestOf(() => jsOpt.step(), { ...REPS.js, warmup: 1 });
      // Each step timed in turn with the probe on the same threads: roof and step see the same noise.
      const native = {}, roof = {};
      for (const t of THREADS) [native[t], roof[t]] = roundsOfEach([nativeStep(subject, params, t), probes[t]], nativeReps(n));
      collect();
      let tfCpu = null, tfWasm = null;
      if (subject.tf && !(quick && size.tensors > 1)) {
        const rate = tfCpuRate.get(subject.name);
        if (rate !== undefined && n / rate > TF_CPU_MAX_STEP_S) tfCpu = `skipped (~${(n / rate).toFixed(0)} s/step)`;
        else {
          tfCpu = await tfSeconds('cpu', subject.tf, size, REPS.tfCpu);
          if (typeof tfCpu === 'number') tfCpuRate.set(subject.name, n / tfCpu);
        }
        tfWasm = await tfSeconds('wasm', subject.tf, size, REPS.tfWasm);
        collect();
      }
      for (const t of THREADS) {
        const step = spread(native[t]), probe = spread(roof[t]);
        rows.push({
          optimizer: subject.name, size: size.label, elements: n, threads: t, bytesPerElement: subject.bytes,
          seconds: step.median, roofSeconds: probe.median, jsSeconds: js, tfCpuSeconds: tfCpu, tfWasmSeconds: tfWasm,
          step, probe, ofProbe: ratioSpread(roof[t], native[t]),
        });
      }
      log(`  ${size.label} ${subject.name}: done`);
    }
  }
  return rows;
}

/** Huge pages: the probe, and Adam's step, with the user's arrays from allocFloat32 or plain. */
function measureHugePages(size) {
  const n = elements(size);
  const params = { native: makeParams(size, 'native'), plain: makeParams(size, 'plain') };
  const probe = { native: makeProbeArrays(n, 'native'), plain: makeProbeArrays(n, 'plain') };
  return THREADS.map((t) => {
    const rounds = roundsOfEach(
      [makeProbe(probe.native, t), makeProbe(probe.plain, t), nativeStep(ADAM, params.native, t), nativeStep(ADAM, params.plain, t)],
      REPS.native,
    );
    collect();
    const [probeNative, probePlain, adamNative, adamPlain] = rounds.map((r) => spread(r).median);
    return { size: size.label, elements: n, threads: t, probeNative, probePlain, adamNative, adamPlain };
  });
}

/**
 * 10,000 tensors of 1K (views of one buffer each for params and grads, or separate arrays) against
 * one tensor of the same length, in alternated rounds. Views of one plain `new Float32Array` split
 * the separate arrays' excess into page size (allocFloat32's huge pages) and scattering. The stream
 * probe over the same two layouts (views of allocFloat32 buffers, separate arrays) says what the
 * layout itself costs a loop with Adam's traffic and none of its arithmetic.
 */
function measureManyTensors() {
  const many = SIZES.find((s) => s.label === '10k x 1K');
  const params = {
    flat: makeParams(many, 'native'),
    separate: makeParams(many, 'plain'),
    single: makeParams({ tensors: 1, length: elements(many) }, 'native'),
    plainViews: makeParams(many, 'plainViews'),
  };
  const probeTensors = { flat: makeProbeTensors(many, 'native'), separate: makeProbeTensors(many, 'plain') };
  return THREADS.map((t) => {
    const [flat, separate, single, plainViews, probeFlat, probeSeparate] = roundsOfEach(
      [
        nativeStep(ADAM, params.flat, t), nativeStep(ADAM, params.separate, t), nativeStep(ADAM, params.single, t), nativeStep(ADAM, params.plainViews, t),
        makeProbe(probeTensors.flat, t), makeProbe(probeTensors.separate, t),
      ],
      REPS.native,
    );
    collect();
    const median = (r) => spread(r).median;
    return {
      threads: t, flat: median(flat), separate: median(separate), single: median(single), plainViews: median(plainViews),
      probeFlat: median(probeFlat), probeSeparate: median(probeSeparate),
      separateOverFlat: ratioSpread(separate, flat), plainViewsOverFlat: ratioSpread(plainViews, flat), separateOverPlainViews: ratioSpread(separate, plainViews),
      probeSeparateOverFlat: ratioSpread(probeSeparate, probeFlat), flatOverProbe: ratioSpread(flat, probeFlat), separateOverProbe: ratioSpread(separate, probeSeparate),
    };
  });
}

async function main() {
  const info = machine();
  log(`bench${quick ? ' --quick' : ''}: ${info.cpu}, ${info.cores} cores, load ${info.load}; median of up to ${REPS.native.reps} rounds per native case (${SHORT_REPS} up to ${SHORT_ELEMENTS / 2 ** 20}M elements)`);
  const rows = await measureMatrix();
  collect();
  const hugePages = measureHugePages(SIZES.find((s) => s.label === (quick ? '16M' : '64M')));
  collect();
  const manyTensors = measureManyTensors();
  const smallSteps = await measureSmallSteps({ quick });
  collect();
  const sparse = measureSparse({ quick, threads: THREADS });
  collect();
  const compact = measureCompact({ quick, threads: THREADS, reps: REPS.native });
  const method = `native: median of up to ${REPS.native.reps} rounds (${SHORT_REPS} up to ${SHORT_ELEMENTS / 2 ** 20}M elements; at least 3), each case in turn with its probe or the cases it is compared with; js: best of ${REPS.js.reps}; after warm-up`;
  const result = { date: new Date().toISOString(), quick, machine: info, method, rows, hugePages, manyTensors, smallSteps, sparse, compact };
  printTable(rows);
  printManyTensors(manyTensors);
  printHugePages(hugePages);
  printTargets(rows, manyTensors, hugePages);
  printSpeedTargets(rows, manyTensors, smallSteps);
  printSparse(sparse);
  printCompact(compact);
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${result.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 1));
  console.log(`\n${method}; ${info.cpu}, ${info.cores} cores, ${info.memGiB} GiB, THP ${info.thp}, node ${info.node}, isa ${info.isa}, load at start ${info.load}. JSON: ${path.relative(process.cwd(), file)}`);
}

// --compact: only the compact-state rows (bench/compact.mjs).
async function compactOnly() {
  const info = machine();
  log(`bench --compact: ${info.cpu}, ${info.cores} cores, load ${info.load}`);
  printCompact(measureCompact({ quick, threads: THREADS, reps: REPS.native }));
  console.log(`\nbest of up to ${REPS.native.reps} runs, each case in turn with the probe; load at start ${info.load}`);
}

// --tfjs: model.fit with tf.train.adam against nativeOptimizer (bench/tfjs-fit.mjs) instead.
(process.argv.includes('--tfjs') ? import('./tfjs-fit.mjs') : process.argv.includes('--compact') ? compactOnly() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
