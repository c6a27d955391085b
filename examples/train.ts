import { inverseSqrt } from 'adam-native';
import type { Split } from './mnist';
import type { Model } from './model';
import type { BackendChoice, OptimizerChoice } from './optimizers';
import { seededRandom, shuffle } from './random';

export interface RunSpec {
  experiment: string;
  optimizer: OptimizerChoice;
  lr: number;
  epochs: number;
  batch: number;
  /** A fresh model; the same seed for every run of an experiment, so all start from one point. */
  model: () => Model;
  train: Split;
  test: Split;
  /** Seeds the minibatch order: the same for every run of an experiment. */
  seed: number;
  backend: BackendChoice;
  /** Points on the training curve per epoch (each the mean minibatch NLL since the last). */
  pointsPerEpoch: number;
  onStep?: (step: number, totalSteps: number, loss: number) => void;
}

export interface CurvePoint {
  epoch: number;
  nll: number;
}

export interface RunResult {
  experiment: string;
  optimizer: string;
  lr: number;
  epochs: number;
  /** Mean NLL over the whole training split after training (no regulariser, no dropout); NaN if diverged. */
  trainNLL: number;
  testAccuracy: number;
  seconds: number;
  diverged: boolean;
  backend: string;
  curve: CurvePoint[];
}

/** Trains one model with one optimizer at one step size: minibatches, lr/sqrt(epoch), a curve. */
export function trainRun(spec: RunSpec): RunResult {
  const started = performance.now();
  const model = spec.model();
  const stepsPerEpoch = Math.ceil(spec.train.count / spec.batch);
  const totalSteps = stepsPerEpoch * spec.epochs;
  // The paper's decay: lr/sqrt(epoch), the epoch counted from 1, computed by the optimizer per step.
  const opt = spec.optimizer.make(model.params, inverseSqrt(spec.lr, { epochLength: stepsPerEpoch }), spec.backend);
  const window = Math.max(1, Math.ceil(stepsPerEpoch / spec.pointsPerEpoch));
  const order = Int32Array.from({ length: spec.train.count }, (_, i) => i);
  const random = seededRandom(spec.seed);
  const curve: CurvePoint[] = [];
  let windowSum = 0, windowSteps = 0, step = 0, diverged = false;

  for (let epoch = 0; epoch < spec.epochs && !diverged; epoch++) {
    shuffle(order, random);
    for (let start = 0; start < spec.train.count; start += spec.batch) {
      opt.zeroGrad();
      const loss = model.trainBatch(spec.train, order, start, Math.min(start + spec.batch, spec.train.count));
      if (!Number.isFinite(loss)) {
        diverged = true;
        break;
      }
      step++;
      opt.step();
      windowSum += loss;
      windowSteps++;
      const endOfEpoch = start + spec.batch >= spec.train.count;
      if (windowSteps === window || endOfEpoch) {
        curve.push({ epoch: step / stepsPerEpoch, nll: windowSum / windowSteps });
        windowSum = windowSteps = 0;
      }
      spec.onStep?.(step, totalSteps, loss);
    }
  }
  // A run whose loss overflowed, or whose final model does, counts as diverged: no numbers.
  const train = diverged ? null : model.evaluate(spec.train);
  const ok = train !== null && Number.isFinite(train.nll);
  return {
    experiment: spec.experiment,
    optimizer: spec.optimizer.name,
    lr: spec.lr,
    epochs: spec.epochs,
    trainNLL: ok ? train.nll : NaN,
    testAccuracy: ok ? model.evaluate(spec.test).accuracy : NaN,
    seconds: (performance.now() - started) / 1000,
    diverged: !ok,
    backend: opt.backend,
    curve,
  };
}
