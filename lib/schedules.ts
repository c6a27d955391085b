import { checkNumber, checkOptions, checkPlainObject, describe } from './validate';

/**
 * A learning-rate schedule: the lr of step t (t = 1 for the first step), computed on the host once
 * per step in float64. Any function of this shape works; the ones below are the common cases.
 */
export type Schedule = (step: number) => number;

/** A fixed learning rate or a schedule. */
export type LearningRate = number | Schedule;

/** Checks an lr option: a finite number >= 0, or a schedule function. */
export function checkLearningRate(where: string, v: unknown): LearningRate {
  if (typeof v === 'function') return v as Schedule;
  if (typeof v !== 'number') throw new TypeError(`${where} must be a number or a schedule function, got ${describe(v)}`);
  return checkNumber(where, v, LR);
}

/** The lr for step t; a schedule's value must be a finite number >= 0. */
export function learningRateAt(where: string, lr: LearningRate, step: number): number {
  if (typeof lr === 'number') return lr;
  const value: unknown = lr(step);
  if (typeof value !== 'number') throw new TypeError(`${where}: the schedule returned ${describe(value)} at step ${step}, not a number`);
  if (!Number.isFinite(Math.fround(value)) || value < 0)
    throw new RangeError(`${where}: the schedule returned ${describe(value)} at step ${step}; an lr must be >= 0 and finite in float32`);
  return value;
}

const positiveInteger = { min: 1, integer: true };
/** An lr: >= 0 and finite as the float32 the kernels use. */
const LR = { min: 0, float32: true };

/** lr at every step. */
export function constant(lr: number): Schedule {
  checkNumber('constant: lr', lr, LR);
  return () => lr;
}

/**
 * The paper's decay, lr/sqrt(t) (Kingma & Ba 2015, section 4). t counts steps, or with
 * `epochLength` (steps per epoch) epochs: step s is in epoch ceil(s/epochLength).
 */
export function inverseSqrt(lr: number, options?: { epochLength?: number }): Schedule {
  checkNumber('inverseSqrt: lr', lr, LR);
  const opts = checkOptions('inverseSqrt: options', options);
  const epochLength =
    opts.epochLength === undefined ? 1 : checkNumber("inverseSqrt: option 'epochLength'", opts.epochLength, positiveInteger);
  return (step) => lr / Math.sqrt(Math.ceil(step / epochLength));
}

/** lr * gamma^floor((t-1)/stepSize): multiplied by gamma every stepSize steps (PyTorch's StepLR). */
export function stepDecay(lr: number, options: { stepSize: number; gamma?: number }): Schedule {
  checkNumber('stepDecay: lr', lr, LR);
  const opts = checkPlainObject('stepDecay: options', options);
  const stepSize = checkNumber("stepDecay: option 'stepSize'", opts.stepSize, positiveInteger);
  const gamma = opts.gamma === undefined ? 0.1 : checkNumber("stepDecay: option 'gamma'", opts.gamma, { min: 0 });
  return (step) => lr * Math.pow(gamma, Math.floor((step - 1) / stepSize));
}

/** lr * gamma^(t-1) (PyTorch's ExponentialLR). */
export function exponential(lr: number, gamma: number): Schedule {
  checkNumber('exponential: lr', lr, LR);
  checkNumber('exponential: gamma', gamma, { min: 0 });
  return (step) => lr * Math.pow(gamma, step - 1);
}

/**
 * Linear warmup from lr/warmupSteps to lr over the first warmupSteps steps, then a half cosine
 * from lr down to minLr at totalSteps, and minLr after.
 */
export function cosine(lr: number, options: { totalSteps: number; warmupSteps?: number; minLr?: number }): Schedule {
  checkNumber('cosine: lr', lr, LR);
  const opts = checkPlainObject('cosine: options', options);
  const totalSteps = checkNumber("cosine: option 'totalSteps'", opts.totalSteps, positiveInteger);
  const warmup =
    opts.warmupSteps === undefined
      ? 0
      : checkNumber("cosine: option 'warmupSteps'", opts.warmupSteps, { min: 0, integer: true, below: totalSteps });
  const minLr = opts.minLr === undefined ? 0 : checkNumber("cosine: option 'minLr'", opts.minLr, { min: 0 });
  if (minLr > lr) throw new RangeError(`cosine: option 'minLr' (${minLr}) must be <= lr (${lr})`);
  return (step) => {
    if (step <= warmup) return (lr * step) / warmup;
    const progress = Math.min(1, (step - warmup) / (totalSteps - warmup));
    return minLr + ((lr - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
  };
}
