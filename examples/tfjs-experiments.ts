// The paper's Figures 2a (MLP with dropout), 3 (CNN) and 4 (VAE, bias correction) on TensorFlow.js
// models trained through adam-native/tfjs, on tfjs's 'wasm' backend where it has the kernels, else 'cpu'.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { nativeOptimizer } from 'adam-native/tfjs';
import { CLASSES, type Mnist, PIXELS, type Split } from './mnist';
import type { BackendChoice } from './optimizers';
import { runProgress } from './progress';
import { seededRandom, shuffle } from './random';
import type { CurvePoint, RunResult } from './train';
import { writeCurvePlot } from './plot';
import { writeGridPlot } from './plot-grid';

export const TFJS_EXPERIMENTS = ['mlp-dropout', 'cnn', 'vae'] as const;
export type TfjsExperiment = (typeof TFJS_EXPERIMENTS)[number];

export interface TfjsConfig {
  full: boolean;
  backend: BackendChoice;
  out: string;
  experiments: readonly string[];
  /** Overrides every experiment's epoch count and caps its training (and test) images (quick tests). */
  epochs?: number;
  trainLimit?: number;
  progress?: NodeJS.WriteStream;
}

interface Choice {
  name: string;
  lrs: number[];
  options: Record<string, unknown>;
  optimizer: string;
}

const BATCH = 128;
const POINTS_PER_EPOCH = 8;

let wasmLoaded: Promise<boolean> | null = null;
/** 'wasm' when it loads and the model needs no kernel it lacks (conv backprop), else 'cpu'. */
async function tfBackend(needsConvGrad: boolean): Promise<string> {
  wasmLoaded ??= import('@tensorflow/tfjs-backend-wasm').then(() => true, () => false);
  const wanted = !needsConvGrad && (await wasmLoaded) ? 'wasm' : 'cpu';
  const name = (await tf.setBackend(wanted)) ? wanted : (await tf.setBackend('cpu'), 'cpu');
  await tf.ready();
  return name;
}

/** The first `limit` rows of a split after a seeded shuffle (every class represented). */
function subset(split: Split, limit: number | undefined, seed: number): Split {
  if (limit === undefined || limit >= split.count) return split;
  const order = shuffle(Int32Array.from({ length: split.count }, (_, i) => i), seededRandom(seed)).subarray(0, limit);
  const x = new Float32Array(limit * PIXELS), y = new Uint8Array(limit);
  order.forEach((row, i) => {
    x.set(split.x.subarray(row * PIXELS, (row + 1) * PIXELS), i * PIXELS);
    y[i] = split.y[row];
  });
  return { x, y, count: limit };
}

/** The split in a seeded order, as tensors: images (flat or 28x28x1) and one-hot labels. */
function batchTensors(split: Split, order: Int32Array, image: boolean): { x: tf.Tensor; y: tf.Tensor } {
  const x = new Float32Array(order.length * PIXELS), y = new Float32Array(order.length * CLASSES);
  order.forEach((row, i) => {
    x.set(split.x.subarray(row * PIXELS, (row + 1) * PIXELS), i * PIXELS);
    y[i * CLASSES + split.y[row]] = 1;
  });
  return { x: tf.tensor(x, image ? [order.length, 28, 28, 1] : [order.length, PIXELS]), y: tf.tensor2d(y, [order.length, CLASSES]) };
}

function mlp(hidden: number, seed: number): tf.LayersModel {
  const init = (s: number) => tf.initializers.heNormal({ seed: seed + s });
  return tf.sequential({
    layers: [
      tf.layers.dropout({ inputShape: [PIXELS], rate: 0.2, seed: seed + 10 }),
      tf.layers.dense({ units: hidden, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.dropout({ rate: 0.5, seed: seed + 11 }),
      tf.layers.dense({ units: hidden, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.dropout({ rate: 0.5, seed: seed + 12 }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
}

// The paper's CNN (5x5 convolutions, pooling, a dense layer, dropout on input and hidden) with
// fewer channels: two conv-pool stages then one dense layer.
function cnn(channels: [number, number], dense: number, seed: number): tf.LayersModel {
  const init = (s: number) => tf.initializers.heNormal({ seed: seed + s });
  return tf.sequential({
    layers: [
      tf.layers.dropout({ inputShape: [28, 28, 1], rate: 0.2, seed: seed + 10 }),
      tf.layers.conv2d({ filters: channels[0], kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: channels[1], kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: dense, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.dropout({ rate: 0.5, seed: seed + 11 }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: init(4) }),
    ],
  });
}

function accuracy(model: tf.LayersModel, test: Split, image: boolean): number {
  return tf.tidy(() => {
    const { x, y } = batchTensors(test, Int32Array.from({ length: test.count }, (_, i) => i), image);
    const right = (model.predict(x) as tf.Tensor).argMax(1).equal(y.argMax(1)).sum().dataSync()[0];
    return right / test.count;
  });
}

/** One classifier run with model.fit: one epoch per call over a freshly seeded order. */
async function fitRun(
  experiment: TfjsExperiment, choice: Choice, lr: number, make: () => tf.LayersModel, data: Mnist, epochs: number, image: boolean, config: TfjsConfig,
): Promise<RunResult> {
  const started = performance.now();
  const model = make();
  const optimizer = nativeOptimizer(tf, choice.optimizer, { ...choice.options, lr, backend: config.backend });
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const steps = Math.ceil(data.train.count / BATCH);
  const progress = runProgress(`${experiment} ${choice.name} lr ${lr}`, steps * epochs, config.progress);
  const random = seededRandom(7);
  const curve: CurvePoint[] = [];
  const window = Math.max(1, Math.ceil(steps / POINTS_PER_EPOCH));
  let done = 0, sum = 0, count = 0, last = NaN, diverged = false;
  for (let e = 0; e < epochs && !diverged; e++) {
    const { x, y } = batchTensors(data.train, shuffle(Int32Array.from({ length: data.train.count }, (_, i) => i), random), image);
    await model.fit(x, y, {
      epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0,
      callbacks: {
        onBatchEnd: async (_batch, logs) => {
          const loss = logs?.loss ?? NaN;
          done++;
          sum += loss;
          count++;
          if (count === window || done % steps === 0) {
            curve.push({ epoch: done / steps, nll: sum / count });
            last = sum / count;
            sum = 0;
            count = 0;
          }
          if (!Number.isFinite(loss)) {
            diverged = true;
            model.stopTraining = true;
          }
          progress.tick(done, steps * epochs, loss);
        },
      },
    });
    tf.dispose([x, y]);
  }
  const result: RunResult = {
    experiment, optimizer: choice.name, lr, epochs,
    trainNLL: diverged ? NaN : last,
    testAccuracy: diverged ? NaN : accuracy(model, data.test, image),
    seconds: (performance.now() - started) / 1000,
    diverged,
    backend: optimizer.optimizer?.backend ?? '',
    curve,
  };
  progress.done(result);
  model.dispose();
  optimizer.dispose();
  return result;
}

// Figure 4's VAE (Kingma & Welling): a 500-unit hidden layer each side, a 50-dimensional latent,
// Bernoulli pixels; the loss is the negative ELBO per image in nats.
function vaeRun(choice: Choice, lr: number, data: Mnist, epochs: number, config: TfjsConfig): RunResult {
  const started = performance.now();
  const seed = 5;
  const glorot = (shape: [number, number], s: number) => tf.variable(tf.initializers.glorotNormal({ seed: seed + s }).apply(shape) as tf.Tensor, true, `vae${++vaeRuns}/w${s}`);
  const bias = (n: number, s: number) => tf.variable(tf.zeros([n]), true, `vae${vaeRuns}/b${s}`);
  const [hidden, latent] = [500, 50];
  const w = [glorot([PIXELS, hidden], 1), glorot([hidden, latent], 2), glorot([hidden, latent], 3), glorot([latent, hidden], 4), glorot([hidden, PIXELS], 5)];
  const b = [bias(hidden, 1), bias(latent, 2), bias(latent, 3), bias(hidden, 4), bias(PIXELS, 5)];
  const optimizer = nativeOptimizer(tf, 'Adam', { ...choice.options, lr, backend: config.backend });
  const steps = Math.ceil(data.train.count / BATCH);
  const progress = runProgress(`vae ${choice.name} lr ${lr}`, steps * epochs, config.progress);
  const random = seededRandom(9);
  const curve: CurvePoint[] = [];
  let done = 0, epochSum = 0, last = NaN, diverged = false;
  for (let e = 0; e < epochs && !diverged; e++) {
    const order = shuffle(Int32Array.from({ length: data.train.count }, (_, i) => i), random);
    epochSum = 0;
    for (let s = 0; s < steps && !diverged; s++) {
      const rows = order.subarray(s * BATCH, Math.min((s + 1) * BATCH, order.length));
      const loss = tf.tidy(() => {
        const x = batchTensors(data.train, rows, false).x;
        const noise = tf.randomNormal([rows.length, latent], 0, 1, 'float32', done + 1);
        const cost = optimizer.minimize(() => {
          const h = tf.relu(x.matMul(w[0]).add(b[0]));
          const mu = h.matMul(w[1]).add(b[1]), logVar = h.matMul(w[2]).add(b[2]);
          const z = mu.add(logVar.mul(0.5).exp().mul(noise));
          const logits = tf.relu(z.matMul(w[3]).add(b[3])).matMul(w[4]).add(b[4]);
          const recon = tf.losses.sigmoidCrossEntropy(x, logits, undefined, undefined, tf.Reduction.NONE).sum(1);
          const kl = logVar.add(1).sub(mu.square()).sub(logVar.exp()).sum(1).mul(-0.5);
          return recon.add(kl).mean() as tf.Scalar;
        }, true);
        return cost!.dataSync()[0];
      });
      done++;
      epochSum += loss;
      if (!Number.isFinite(loss)) diverged = true;
      progress.tick(done, steps * epochs, loss);
    }
    last = epochSum / steps;
    curve.push({ epoch: e + 1, nll: last });
  }
  const result: RunResult = {
    experiment: 'vae', optimizer: choice.name, lr, epochs,
    trainNLL: diverged ? NaN : last, testAccuracy: NaN,
    seconds: (performance.now() - started) / 1000, diverged,
    backend: optimizer.optimizer?.backend ?? '', curve,
  };
  progress.done(result);
  optimizer.dispose();
  tf.dispose([...w, ...b]);
  return result;
}
let vaeRuns = 0;

const SGD_NESTEROV = { optimizer: 'SGD', name: 'SGD-Nesterov', options: { momentum: 0.9, nesterov: true } };

/** Each experiment's optimizers and step sizes: one each by default, a grid of three with --full. */
function choices(experiment: 'mlp-dropout' | 'cnn', full: boolean): Choice[] {
  const pick = (quick: number, grid: number[]) => (full ? grid : [quick]);
  const list: Choice[] = [
    { optimizer: 'Adam', name: 'Adam', options: {}, lrs: pick(1e-3, [3e-4, 1e-3, 3e-3]) },
    { optimizer: 'AdaGrad', name: 'AdaGrad', options: {}, lrs: pick(1e-2, [3e-3, 1e-2, 3e-2]) },
    { ...SGD_NESTEROV, lrs: pick(0.05, [0.01, 0.03, 0.1]) },
    { optimizer: 'RMSProp', name: 'RMSProp', options: {}, lrs: pick(1e-3, [3e-4, 1e-3, 3e-3]) },
  ];
  // The CNN by default: Adam, AdaGrad and SGD-Nesterov (the paper's Figure 3 set); RMSProp with --full.
  return experiment === 'cnn' && !full ? list.slice(0, 3) : list;
}

/** Figure 4's grid: beta1 x beta2 x lr, each with and without bias correction. */
function vaeGrid(full: boolean): Array<{ beta1: number; beta2: number; lrs: number[] }> {
  const beta1s = full ? [0, 0.9] : [0.9];
  const beta2s = full ? [0.99, 0.999, 0.9999] : [0.99, 0.9999];
  const lrs = full ? [1e-5, 1e-4, 1e-3, 1e-2, 1e-1] : [1e-3, 1e-2];
  return beta1s.flatMap((beta1) => beta2s.map((beta2) => ({ beta1, beta2, lrs })));
}

/** Runs the chosen tfjs experiments; returns their runs and the plots written. */
export async function runTfjsExperiments(config: TfjsConfig, data: Mnist): Promise<{ results: RunResult[]; files: string[] }> {
  const chosen = TFJS_EXPERIMENTS.filter((e) => config.experiments.includes(e));
  if (chosen.length === 0) return { results: [], files: [] };
  const results: RunResult[] = [];
  const files: string[] = [];
  const full = config.full;
  for (const experiment of chosen) {
    const mine: RunResult[] = [];
    // tfjs-backend-wasm has no Conv2DBackpropFilter: the CNN trains on 'cpu'.
    const backend = await tfBackend(experiment === 'cnn');
    if (experiment === 'vae') {
      const epochs = config.epochs ?? (full ? 10 : 1);
      const d = { train: subset(data.train, config.trainLimit ?? (full ? undefined : 2560), 3), test: data.test };
      for (const { beta1, beta2, lrs } of vaeGrid(full))
        for (const biasCorrection of [true, false])
          for (const lr of lrs) {
            const name = `Adam b1=${beta1} b2=${beta2}${biasCorrection ? '' : ' uncorrected'}`;
            mine.push(vaeRun({ optimizer: 'Adam', name, options: { beta1, beta2, biasCorrection }, lrs }, lr, d, epochs, config));
          }
      const file = path.join(config.out, 'vae.svg');
      await writeGridPlot(file, `VAE (784-500-50), negative ELBO after ${epochs} epoch(s) on ${d.train.count} digits (tfjs ${backend})`, mine);
      files.push(file);
    } else {
      const isCnn = experiment === 'cnn';
      const epochs = config.epochs ?? (isCnn ? (full ? 5 : 2) : full ? 20 : 3);
      const limit = config.trainLimit ?? (isCnn ? 1280 : full ? undefined : 2560);
      const d = { train: subset(data.train, limit, 3), test: subset(data.test, config.trainLimit ?? (isCnn ? 500 : undefined), 4) };
      const hidden = full ? 1000 : 256;
      const make = isCnn ? () => cnn([8, 16], 64, 2) : () => mlp(hidden, 1);
      for (const choice of choices(experiment, full))
        for (const lr of choice.lrs) mine.push(await fitRun(experiment, choice, lr, make, d, epochs, isCnn, config));
      const best = new Map<string, RunResult>();
      for (const r of mine) if (!r.diverged && (!best.has(r.optimizer) || r.trainNLL < best.get(r.optimizer)!.trainNLL)) best.set(r.optimizer, r);
      const title = isCnn
        ? `CNN (c8-c16-64, 5x5, dropout) on ${d.train.count} MNIST digits, tfjs ${backend}`
        : `MLP 784-${hidden}-${hidden}-10 with dropout (input 0.2, hidden 0.5), tfjs ${backend}`;
      const file = path.join(config.out, `${experiment}.svg`);
      await writeCurvePlot(file, title, [...best.values()].map((r) => ({ name: `${r.optimizer} (lr ${r.lr})`, points: r.curve })));
      files.push(file);
    }
    results.push(...mine);
  }
  return { results, files };
}
