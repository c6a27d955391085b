// The paper's sparse-features experiment (Figure 1b analogue): logistic regression on binary
// bag-of-words features of real e-mail (spam vs ham), 50% dropout noise on the inputs, minibatches
// of 128, lr/sqrt(epoch). The weight table's gradient touches only the tokens of the batch: Adam
// runs as SparseAdam and AdaGrad as sparse AdaGrad on it, the others on the dense gradient; dense
// Adam and AdaGrad run too, to time sparse against dense updates.
import { AdaGrad, AdaMax, Adam, type AnyParam, type LearningRate, RMSProp, SGD, SparseAdam, type SparseParam, inverseSqrt } from 'adam-native';
import type { BowData, BowSplit } from './bow-data';
import type { BackendChoice } from './optimizers';
import { seededRandom } from './random';
import type { CurvePoint, RunResult } from './train';

interface Stepper {
  readonly backend: string;
  step(): void;
}

/** How an optimizer takes the model: the weight table sparse (rows = tokens) or dense. */
export interface BowOptimizer {
  name: string;
  path: 'sparse' | 'dense';
  make(weights: AnyParam, bias: AnyParam, lr: LearningRate, backend: BackendChoice): Stepper;
}

const both = (...opts: Stepper[]): Stepper => ({ backend: opts[0].backend, step: () => opts.forEach((o) => o.step()) });

export const BOW_OPTIMIZERS: BowOptimizer[] = [
  // PyTorch's pattern: SparseAdam for the embedding table, Adam for the dense rest.
  { name: 'Adam', path: 'sparse', make: (w, b, lr, backend) => both(new SparseAdam([w], { lr, backend }), new Adam([b], { lr, backend })) },
  { name: 'AdaGrad', path: 'sparse', make: (w, b, lr, backend) => new AdaGrad([w, b], { lr, backend }) },
  { name: 'RMSProp', path: 'dense', make: (w, b, lr, backend) => new RMSProp([w, b], { lr, backend }) },
  { name: 'SGD-Nesterov', path: 'dense', make: (w, b, lr, backend) => new SGD([w, b], { lr, momentum: 0.9, nesterov: true, backend }) },
  { name: 'AdaMax', path: 'dense', make: (w, b, lr, backend) => new AdaMax([w, b], { lr, backend }) },
  { name: 'Adam (dense)', path: 'dense', make: (w, b, lr, backend) => new Adam([w, b], { lr, backend }) },
  { name: 'AdaGrad (dense)', path: 'dense', make: (w, b, lr, backend) => new AdaGrad([w, b], { lr, backend }) },
];

/** Step sizes per optimizer (the dense twins take their sparse twin's). */
export const BOW_GRIDS: Record<string, number[]> = {
  Adam: [3e-3, 1e-2, 3e-2],
  AdaGrad: [3e-2, 1e-1, 3e-1],
  RMSProp: [1e-3, 3e-3, 1e-2],
  'SGD-Nesterov': [0.3, 1, 3],
  AdaMax: [6e-3, 2e-2, 6e-2],
  'Adam (dense)': [3e-3, 1e-2, 3e-2],
  'AdaGrad (dense)': [3e-2, 1e-1, 3e-1],
};

export interface BowResult extends RunResult {
  /** The weight table's update path and the optimizer steps' time per epoch (milliseconds). */
  update: { path: 'sparse' | 'dense'; msPerEpoch: number };
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Mean NLL (no dropout) and accuracy of the model on a split. */
function evaluate(w: Float32Array, b: number, split: BowSplit): { nll: number; accuracy: number } {
  let nll = 0, correct = 0;
  for (let i = 0; i < split.count; i++) {
    let z = b;
    for (const k of split.docs[i]) z += w[k];
    const y = split.labels[i];
    // log(1 + exp(-z)) for y = 1, log(1 + exp(z)) for y = 0, without overflow.
    const s = y ? -z : z;
    nll += s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
    if ((z > 0 ? 1 : 0) === y) correct++;
  }
  return { nll: nll / split.count, accuracy: correct / split.count };
}

export interface BowRunSpec {
  optimizer: BowOptimizer;
  lr: number;
  epochs: number;
  batch: number;
  dropout: number;
  data: BowData;
  backend: BackendChoice;
  seed: number;
}

/** One run: every optimizer starts from zero weights and sees the same batches and dropout masks. */
export function trainBow(spec: BowRunSpec): BowResult {
  const started = performance.now();
  const { train, test, vocabulary } = spec.data;
  const rows = vocabulary.length;
  const data = new Float32Array(rows);
  const bias = { name: 'bias', data: new Float32Array(1), grad: new Float32Array(1) };
  const sparse: SparseParam = { name: 'weights', data, rowSize: 1, indices: new Int32Array(0), grad: new Float32Array(0) };
  const dense = { name: 'weights', data, grad: new Float32Array(rows) };
  const stepsPerEpoch = Math.ceil(train.count / spec.batch);
  const opt = spec.optimizer.make(spec.optimizer.path === 'sparse' ? sparse : dense, bias, inverseSqrt(spec.lr, { epochLength: stepsPerEpoch }), spec.backend);
  const random = seededRandom(spec.seed);
  const order = Int32Array.from({ length: train.count }, (_, i) => i);
  const scale = 1 / (1 - spec.dropout);
  const curve: CurvePoint[] = [];
  // Scratch for one batch's (row, value) pairs: one per kept token occurrence, duplicates and all.
  let indices: Int32Array = new Int32Array(1024), values: Float32Array = new Float32Array(1024);
  let updateMs = 0, diverged = false;
  for (let epoch = 1; epoch <= spec.epochs && !diverged; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let start = 0; start < train.count; start += spec.batch) {
      const end = Math.min(start + spec.batch, train.count);
      const n = end - start;
      let count = 0, gb = 0;
      for (let q = start; q < end; q++) {
        const doc = train.docs[order[q]];
        if (count + doc.length > indices.length) {
          const size = 2 * (count + doc.length);
          const [i2, v2] = [new Int32Array(size), new Float32Array(size)];
          i2.set(indices);
          v2.set(values);
          [indices, values] = [i2, v2];
        }
        const first = count;
        let z = bias.data[0];
        for (const k of doc)
          if (random() >= spec.dropout) {
            indices[count++] = k;
            z += data[k] * scale;
          }
        const r = (sigmoid(z) - train.labels[order[q]]) / n;
        gb += r;
        values.fill(r * scale, first, count);
      }
      bias.grad[0] = gb;
      if (spec.optimizer.path === 'sparse') {
        sparse.indices = indices.subarray(0, count);
        sparse.grad = values.subarray(0, count);
      } else {
        // The dense gradient: the same pairs added in the same order, untouched rows zero.
        dense.grad.fill(0);
        for (let k = 0; k < count; k++) dense.grad[indices[k]] += values[k];
      }
      const t0 = performance.now();
      opt.step();
      updateMs += performance.now() - t0;
    }
    const { nll } = evaluate(data, bias.data[0], train);
    if (!Number.isFinite(nll)) diverged = true;
    else curve.push({ epoch, nll });
  }
  const final = diverged ? null : evaluate(data, bias.data[0], train);
  return {
    experiment: 'bow',
    optimizer: spec.optimizer.name,
    lr: spec.lr,
    epochs: spec.epochs,
    trainNLL: final ? final.nll : NaN,
    testAccuracy: final ? evaluate(data, bias.data[0], test).accuracy : NaN,
    seconds: (performance.now() - started) / 1000,
    diverged: final === null,
    backend: opt.backend,
    curve,
    update: { path: spec.optimizer.path, msPerEpoch: updateMs / spec.epochs },
  };
}
