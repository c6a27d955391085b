// npm run bench -- --tfjs [--quick]: model.fit epochs on TensorFlow.js 'cpu' and 'wasm' with
// tf.train.adam against nativeOptimizer(tf, 'Adam'), the update phase (applyGradients) timed on
// its own. Both models live side by side and take turns, epoch by epoch (A B B A ...), so both see
// the same disturbances; each figure is the median of the rounds, with the range. Prints one table
// and writes bench/results/tfjs-<date>.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { nativeOptimizer } from '../dist/tfjs/index.mjs';
import { machine } from './machine.mjs';
import { collect, fillGrad } from './measure.mjs';

const quick = process.argv.includes('--quick');
const log = (...a) => process.stderr.write(a.join(' ') + '\n');
const BATCH = 128;
const ROUNDS = quick ? 3 : 5; // timed epochs of each optimizer, after one untimed warm-up batch
const ONLY = process.env.TFJS_BENCH_ONLY; // development: one backend
const CORES = os.availableParallelism();

// tf.layers.embedding's gradient (unsortedSegmentSum) runs one kernel per row on 'cpu' (200,000
// per step) and has no 'wasm' kernel; this embedding scatters its gradient rows into a dense zero
// tensor instead (what the optimizers see is the same: a dense 200,000 x 64 gradient per step).
class ScatterEmbedding extends tf.layers.Layer {
  static className = 'ScatterEmbedding';

  constructor(config) {
    super(config);
    this.inputDim = config.inputDim;
    this.outputDim = config.outputDim;
  }

  build() {
    this.table = this.addWeight('table', [this.inputDim, this.outputDim], 'float32', tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 }));
    this.built = true;
  }

  computeOutputShape(inputShape) {
    return [...inputShape, this.outputDim];
  }

  call(inputs) {
    const ids = (Array.isArray(inputs) ? inputs[0] : inputs).toInt();
    const [rows, dim] = [this.inputDim, this.outputDim];
    const lookup = tf.customGrad((table, save) => {
      const flat = ids.reshape([-1]);
      save([flat]);
      return {
        value: tf.gather(table, flat).reshape([...ids.shape, dim]),
        gradFunc: (dy, [saved]) => tf.scatterND(saved.reshape([-1, 1]), dy.reshape([-1, dim]), [rows, dim]),
      };
    });
    return lookup(this.table.read());
  }
}

// The demo's MLP (784-256-256-10, ReLU), and a model dominated by parameters: an embedding of
// 200,000 x 64 (8 ids per sample, averaged) and a dense head. Its embedding gradient is dense in
// tfjs, so every step updates all 12.8M embedding parameters.
const MODELS = [
  {
    name: 'mlp 784-256-256-10',
    batches: quick ? 8 : 32,
    make: () =>
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
          tf.layers.dense({ units: 256, activation: 'relu' }),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      }),
    data: (n) => {
      const x = tf.tensor2d(fillGrad(new Float32Array(n * 784), 3), [n, 784]).add(0.5);
      const y = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7) % 10), 'int32'), 10).toFloat();
      return { x, y, loss: 'categoricalCrossentropy' };
    },
  },
  {
    name: 'embedding 200000x64 + dense',
    batches: quick ? 2 : 4,
    make: () =>
      tf.sequential({
        layers: [
          new ScatterEmbedding({ inputDim: 200_000, outputDim: 64, inputShape: [8] }),
          tf.layers.globalAveragePooling1d(),
          tf.layers.dense({ units: 64, activation: 'relu' }),
          tf.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      }),
    data: (n) => {
      const ids = Int32Array.from({ length: n * 8 }, (_, i) => (i * 2654435761) % 200_000);
      const x = tf.tensor2d(ids, [n, 8], 'int32');
      const y = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 3) % 10), 'int32'), 10).toFloat();
      return { x, y, loss: 'categoricalCrossentropy' };
    },
  },
];

const OPTIMIZERS = [
  { name: 'tf.train.adam', make: () => tf.train.adam(1e-3, 0.9, 0.999, 1e-7) },
  // The default: one thread up to 1M elements (the MLP), every core above (the embedding).
  { name: 'nativeOptimizer Adam', make: () => nativeOptimizer(tf, 'Adam', { lr: 1e-3, eps: 1e-7 }) },
  { name: 'nativeOptimizer Adam, threads 1', make: () => nativeOptimizer(tf, 'Adam', { lr: 1e-3, eps: 1e-7, threads: 1 }) },
  { name: `nativeOptimizer Adam, threads ${CORES}`, make: () => nativeOptimizer(tf, 'Adam', { lr: 1e-3, eps: 1e-7, threads: CORES }) },
];

/** Wraps applyGradients to add its seconds to `timer.update` (cpu and wasm kernels run synchronously). */
function timeUpdates(optimizer, timer) {
  const apply = optimizer.applyGradients.bind(optimizer);
  optimizer.applyGradients = (grads) => {
    const t0 = process.hrtime.bigint();
    apply(grads);
    timer.update += Number(process.hrtime.bigint() - t0) / 1e9;
    timer.steps++;
  };
}

const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function prepare(model, opt, x, y) {
  const m = model.make();
  const optimizer = opt.make();
  const timer = { update: 0, steps: 0 };
  timeUpdates(optimizer, timer);
  m.compile({ optimizer, loss: 'categoricalCrossentropy' });
  // Warm-up: one batch (builds the state, compiles wasm kernels).
  await m.fit(x.slice(0, BATCH), y.slice(0, BATCH), { epochs: 1, batchSize: BATCH, verbose: 0 });
  return { opt, m, optimizer, timer, epochs: [], updates: [], steps: 0 };
}

async function epoch(run, x, y) {
  run.timer.update = 0;
  run.timer.steps = 0;
  const t0 = process.hrtime.bigint();
  await run.m.fit(x, y, { epochs: 1, batchSize: BATCH, verbose: 0, shuffle: false });
  run.epochs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  run.updates.push(run.timer.update);
  run.steps = run.timer.steps;
}

// Both optimizers on the same data, taking turns: round r runs A then B when r is even, B then A
// when odd. Rows: median epoch and update seconds over the rounds, with min and max.
async function measure(backend, model) {
  const { x, y } = model.data(model.batches * BATCH);
  const runs = [];
  for (const opt of OPTIMIZERS) runs.push(await prepare(model, opt, x, y));
  for (let r = 0; r < ROUNDS; r++) for (const run of r % 2 ? [...runs].reverse() : runs) await epoch(run, x, y);
  const params = runs[0].m.countParams();
  const rows = runs.map((run) => ({
    backend, model: model.name, params, optimizer: run.opt.name, steps: run.steps, rounds: ROUNDS,
    epochSeconds: median(run.epochs), epochRange: [Math.min(...run.epochs), Math.max(...run.epochs)],
    updateSeconds: median(run.updates), updateRange: [Math.min(...run.updates), Math.max(...run.updates)],
    updateMsPerStep: (1000 * median(run.updates)) / run.steps,
    epochsSeconds: run.epochs, updatesSeconds: run.updates,
  }));
  for (const run of runs) {
    run.m.dispose();
    run.optimizer.dispose();
  }
  tf.dispose([x, y]);
  collect();
  return rows;
}

function printTable(rows) {
  const header = ['backend', 'model', 'params', 'optimizer', 'epoch s (min-max)', 'update ms/step (min-max)', 'update x', 'epoch x'];
  const range = (med, [lo, hi], k, d) => `${(k * med).toFixed(d)} (${(k * lo).toFixed(d)}-${(k * hi).toFixed(d)})`;
  const lines = rows.map((r) => {
    const base = rows.find((b) => b.backend === r.backend && b.model === r.model && b.optimizer === 'tf.train.adam');
    return [
      r.backend, r.model, r.params.toLocaleString('en-US'), r.optimizer, range(r.epochSeconds, r.epochRange, 1, 2),
      range(r.updateSeconds, r.updateRange, 1000 / r.steps, 2), (base.updateSeconds / r.updateSeconds).toFixed(1), (base.epochSeconds / r.epochSeconds).toFixed(2),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l) => l.map((c, i) => (i < 2 || i === 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log([fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)].join('\n'));
}

async function main() {
  const info = machine();
  log(`bench --tfjs${quick ? ' --quick' : ''}: ${info.cpu}, ${info.cores} cores, load ${info.load}; ${ROUNDS} rounds of one epoch per optimizer, taking turns`);
  const rows = [];
  for (const backend of ONLY ? [ONLY] : ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const model of MODELS.filter((m) => !process.env.TFJS_BENCH_MODEL || m.name.startsWith(process.env.TFJS_BENCH_MODEL))) {
      for (const row of await measure(backend, model)) {
        log(`  ${backend} ${model.name} ${row.optimizer}: epoch ${row.epochSeconds.toFixed(2)} s, update ${row.updateMsPerStep.toFixed(2)} ms/step (medians)`);
        rows.push(row);
      }
    }
  }
  printTable(rows);
  const loadAtEnd = machine().load;
  const result = { date: new Date().toISOString(), quick, machine: info, loadAtEnd, batch: BATCH, rounds: ROUNDS, rows };
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `tfjs-${result.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 1));
  console.log(`\nbatch ${BATCH}; median of ${ROUNDS} epochs per optimizer (min-max), the two models taking turns after a warm-up batch each; ` +
    `update = time inside applyGradients; ${info.cpu}, ${info.cores} cores, node ${info.node}, isa ${info.isa}, load ${info.load} at start, ${loadAtEnd} at end. JSON: ${path.relative(process.cwd(), file)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
