import { checkBoolean, checkKnownKeys, checkNumber, checkOneOf, checkOptions, checkPlainObject, describe } from './validate';

/**
 * A learning-rate schedule: the lr of step t (t = 1 for the first step), computed on the host once
 * per step in float64. Any function of this shape works; the ones below are the common cases.
 */
export type Schedule = (step: number) => number;

/**
 * What a built-in schedule carries besides its function: a plain description (its factory's name
 * and arguments, enough to make it again) and, for one that changes with what the caller reports,
 * its state, read and restored through the optimizer's stateDict().
 */
export interface BuiltInSchedule extends Schedule {
  readonly schedule: { readonly name: string; readonly args: readonly unknown[] };
  state?(): Record<string, number>;
  loadState?(state: unknown): void;
}

/** A built-in schedule: `fn` with its description attached (not enumerable, not writable). */
function described<T extends Schedule>(fn: T, name: ScheduleName, args: readonly unknown[]): T & BuiltInSchedule {
  Object.defineProperty(fn, 'schedule', { value: Object.freeze({ name, args: Object.freeze([...args]) }) });
  return fn as T & BuiltInSchedule;
}

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
  return described(() => lr, 'constant', [lr]);
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
  return described((step: number) => lr / Math.sqrt(Math.ceil(step / epochLength)), 'inverseSqrt', [lr, { epochLength }]);
}

/** lr * gamma^floor((t-1)/stepSize): multiplied by gamma every stepSize steps (PyTorch's StepLR). */
export function stepDecay(lr: number, options: { stepSize: number; gamma?: number }): Schedule {
  checkNumber('stepDecay: lr', lr, LR);
  const opts = checkPlainObject('stepDecay: options', options);
  const stepSize = checkNumber("stepDecay: option 'stepSize'", opts.stepSize, positiveInteger);
  const gamma = opts.gamma === undefined ? 0.1 : checkNumber("stepDecay: option 'gamma'", opts.gamma, { min: 0 });
  return described((step: number) => lr * Math.pow(gamma, Math.floor((step - 1) / stepSize)), 'stepDecay', [lr, { stepSize, gamma }]);
}

/** lr * gamma^(t-1) (PyTorch's ExponentialLR). */
export function exponential(lr: number, gamma: number): Schedule {
  checkNumber('exponential: lr', lr, LR);
  checkNumber('exponential: gamma', gamma, { min: 0 });
  return described((step: number) => lr * Math.pow(gamma, step - 1), 'exponential', [lr, gamma]);
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
  const fn = (step: number) => {
    if (step <= warmup) return (lr * step) / warmup;
    const progress = Math.min(1, (step - warmup) / (totalSteps - warmup));
    return minLr + ((lr - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
  };
  return described(fn, 'cosine', [lr, { totalSteps, warmupSteps: warmup, minLr }]);
}

/**
 * Linear warmup from lr/warmupSteps to lr over the first warmupSteps steps, then a straight line
 * down to minLr at totalSteps, and minLr after: the transformer default (Hugging Face's
 * get_linear_schedule_with_warmup, there with minLr 0 and its step counted from 0):
 * t <= w: lr*t/w; else max(minLr, lr - (lr - minLr)*(t - w)/(T - w)).
 */
export function linearWarmup(lr: number, options: { totalSteps: number; warmupSteps?: number; minLr?: number }): BuiltInSchedule {
  checkNumber('linearWarmup: lr', lr, LR);
  const opts = checkPlainObject('linearWarmup: options', options);
  checkKnownKeys('linearWarmup: options', opts, ['totalSteps', 'warmupSteps', 'minLr']);
  const totalSteps = checkNumber("linearWarmup: option 'totalSteps'", opts.totalSteps, positiveInteger);
  const warmup =
    opts.warmupSteps === undefined
      ? 0
      : checkNumber("linearWarmup: option 'warmupSteps'", opts.warmupSteps, { min: 0, integer: true, below: totalSteps });
  const minLr = opts.minLr === undefined ? 0 : checkNumber("linearWarmup: option 'minLr'", opts.minLr, LR);
  if (minLr > lr) throw new RangeError(`linearWarmup: option 'minLr' (${minLr}) must be <= lr (${lr})`);
  const fn = (step: number) => {
    if (step <= warmup) return (lr * step) / warmup;
    return Math.max(minLr, lr - ((lr - minLr) * (step - warmup)) / (totalSteps - warmup));
  };
  return described(fn, 'linearWarmup', [lr, { totalSteps, warmupSteps: warmup, minLr }]);
}

/** The same schedule as linearWarmup. */
export const linear = linearWarmup;

/** Strictly increasing positive integers, checked, naming `where`. */
function checkMilestones(where: string, v: unknown): number[] {
  if (!Array.isArray(v)) throw new TypeError(`${where} must be an array of increasing step numbers, got ${describe(v)}`);
  return v.map((m: unknown, i) => {
    const step = checkNumber(`${where}[${i}]`, m, positiveInteger);
    if (i > 0 && step <= (v[i - 1] as number)) throw new RangeError(`${where} must be strictly increasing, got ${v[i - 1]} then ${step}`);
    return step;
  });
}

/** How many of the sorted `milestones` are <= x (Python's bisect_right). */
function countUpTo(milestones: readonly number[], x: number): number {
  let n = 0;
  while (n < milestones.length && milestones[n] <= x) n++;
  return n;
}

/**
 * lr * gamma^(the number of milestones passed): PyTorch's MultiStepLR, lr * gamma^bisect_right(
 * milestones, e) with e = t - 1 its epoch counter (so milestone m first applies at step m + 1).
 */
export function multiStep(lr: number, options: { milestones: readonly number[]; gamma?: number }): BuiltInSchedule {
  checkNumber('multiStep: lr', lr, LR);
  const opts = checkPlainObject('multiStep: options', options);
  checkKnownKeys('multiStep: options', opts, ['milestones', 'gamma']);
  const milestones = checkMilestones("multiStep: option 'milestones'", opts.milestones);
  const gamma = opts.gamma === undefined ? 0.1 : checkNumber("multiStep: option 'gamma'", opts.gamma, { min: 0 });
  return described((step: number) => lr * Math.pow(gamma, countUpTo(milestones, step - 1)), 'multiStep', [lr, { milestones: [...milestones], gamma }]);
}

export interface OneCycleOptions {
  totalSteps: number;
  /** Fraction of the steps spent rising. Default 0.3. */
  pctStart?: number;
  /** initial lr = maxLr/divFactor. Default 25. */
  divFactor?: number;
  /** final lr = initial lr/finalDivFactor. Default 1e4. */
  finalDivFactor?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** Rise, fall back to the initial lr, then anneal to the final lr (fast.ai's variant). Default false. */
  threePhase?: boolean;
}

/**
 * The 1cycle policy (Smith & Topin 2019) as PyTorch's OneCycleLR (lr only), with e = t - 1:
 * phases end at e = pctStart*T - 1 (initial -> maxLr) and T - 1 (maxLr -> final); three-phase adds
 * a fall back to initial ending at 2*pctStart*T - 2 before the last. Within a phase of
 * progress p = (e - start)/(end - start): cos: b + (a - b)/2*(1 + cos(pi*p)); linear: (b - a)*p + a.
 * After T steps the last value stays.
 */
export function oneCycle(maxLr: number, options: OneCycleOptions): BuiltInSchedule {
  checkNumber('oneCycle: maxLr', maxLr, LR);
  const where = 'oneCycle: option';
  const opts = checkPlainObject('oneCycle: options', options);
  checkKnownKeys('oneCycle: options', opts, ['totalSteps', 'pctStart', 'divFactor', 'finalDivFactor', 'annealStrategy', 'threePhase']);
  const totalSteps = checkNumber(`${where} 'totalSteps'`, opts.totalSteps, { min: 2, integer: true });
  const pctStart = opts.pctStart === undefined ? 0.3 : checkNumber(`${where} 'pctStart'`, opts.pctStart, { min: 0, below: 1, positive: true });
  const divFactor = opts.divFactor === undefined ? 25 : checkNumber(`${where} 'divFactor'`, opts.divFactor, { min: 0, positive: true });
  const finalDivFactor =
    opts.finalDivFactor === undefined ? 1e4 : checkNumber(`${where} 'finalDivFactor'`, opts.finalDivFactor, { min: 0, positive: true });
  const annealStrategy = opts.annealStrategy === undefined ? 'cos' : checkOneOf(`${where} 'annealStrategy'`, opts.annealStrategy, ['cos', 'linear'] as const);
  const threePhase = opts.threePhase === undefined ? false : checkBoolean(`${where} 'threePhase'`, opts.threePhase);
  const initial = maxLr / divFactor;
  const final = initial / finalDivFactor;
  const rise = pctStart * totalSteps - 1;
  const phases = threePhase
    ? [
        { end: rise, from: initial, to: maxLr },
        { end: 2 * pctStart * totalSteps - 2, from: maxLr, to: initial },
        { end: totalSteps - 1, from: initial, to: final },
      ]
    : [
        { end: rise, from: initial, to: maxLr },
        { end: totalSteps - 1, from: maxLr, to: final },
      ];
  if (phases.some((ph, i) => ph.end <= (i === 0 ? 0 : phases[i - 1].end)))
    throw new RangeError(`${where} 'pctStart' (${pctStart}) leaves a phase without steps at totalSteps ${totalSteps}`);
  const anneal = (a: number, b: number, p: number) => (annealStrategy === 'cos' ? b + ((a - b) / 2) * (1 + Math.cos(Math.PI * p)) : (b - a) * p + a);
  const fn = (step: number) => {
    const e = Math.min(step - 1, totalSteps - 1);
    let start = 0;
    for (const ph of phases) {
      if (e <= ph.end || ph === phases[phases.length - 1]) return anneal(ph.from, ph.to, (e - start) / (ph.end - start));
      start = ph.end;
    }
    return final;
  };
  return described(fn, 'oneCycle', [maxLr, { totalSteps, pctStart, divFactor, finalDivFactor, annealStrategy, threePhase }]);
}

/**
 * schedules[0] until milestones[0], then schedules[1] counted afresh (its step 1 is the step after
 * the milestone), and so on: PyTorch's SequentialLR (index bisect_right(milestones, e), the chosen
 * scheduler at e - milestones[index - 1], with e = t - 1).
 */
export function sequential(schedules: readonly Schedule[], milestones: readonly number[]): BuiltInSchedule {
  if (!Array.isArray(schedules) || schedules.length === 0)
    throw new TypeError(`sequential: schedules must be a non-empty array of schedules, got ${describe(schedules)}`);
  schedules.forEach((s, i) => {
    if (typeof s !== 'function') throw new TypeError(`sequential: schedules[${i}] must be a schedule function, got ${describe(s)}`);
  });
  const ms = checkMilestones('sequential: milestones', milestones);
  if (ms.length !== schedules.length - 1)
    throw new RangeError(`sequential: milestones must have one entry fewer than schedules (${schedules.length - 1}), got ${ms.length}`);
  const list = [...schedules];
  const fn = (step: number) => {
    const i = countUpTo(ms, step - 1);
    return list[i](i === 0 ? step : step - ms[i - 1]);
  };
  const described_ = described(fn, 'sequential', [list.map((s) => (s as Partial<BuiltInSchedule>).schedule ?? null), [...ms]]);
  if (list.some((s) => (s as Partial<BuiltInSchedule>).state)) {
    described_.state = () => Object.fromEntries(list.flatMap((s, i) => Object.entries((s as Partial<BuiltInSchedule>).state?.() ?? {}).map(([k, v]) => [`${i}.${k}`, v])));
    described_.loadState = (state: unknown) => {
      const all = checkPlainObject('sequential: state', state);
      const stateful = list.map((s) => s as Partial<BuiltInSchedule>);
      const saved = stateful.map((s) => s.state?.());
      try {
        stateful.forEach((s, i) => {
          const prefix = `${i}.`;
          const mine = Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
          s.loadState?.(mine);
        });
      } catch (e) {
        // All or nothing: the schedules loaded before the one that threw get their state back.
        stateful.forEach((s, i) => saved[i] !== undefined && s.loadState?.(saved[i]));
        throw e;
      }
    };
  }
  return described_;
}

export interface ReduceOnPlateauOptions {
  /** lr is multiplied by factor (< 1) on a plateau. Default 0.1. */
  factor?: number;
  /** Reports without improvement tolerated before reducing. Default 10. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 1e-4. */
  threshold?: number;
  /** 'rel' (default: relative to the best) or 'abs'. */
  thresholdMode?: 'rel' | 'abs';
  /** 'min' (default: a loss) or 'max' (an accuracy). */
  mode?: 'min' | 'max';
  /** Reports to wait after a reduction before counting again. Default 0. */
  cooldown?: number;
  /** The lr is never reduced below it. Default 0. */
  minLr?: number;
}

export interface ReduceOnPlateau extends BuiltInSchedule {
  /** Call once per epoch with the monitored metric; reduces the lr after `patience` reports without improvement. */
  report(metric: number): void;
  state(): { lr: number; best: number; badReports: number; cooldownLeft: number; reports: number };
  loadState(state: unknown): void;
}

/**
 * PyTorch's ReduceLROnPlateau, for the lr: each report(metric) counts as an epoch. Better means
 * (min, rel) metric < best*(1 - threshold), (min, abs) metric < best - threshold, and for max the
 * mirror images; a better metric becomes the best and clears the bad count, any other adds one.
 * During cooldown the bad count stays 0. When it exceeds patience: lr = max(lr*factor, minLr),
 * applied only if it lowers the lr by more than 1e-8, then cooldown starts and the count clears.
 */
export function reduceOnPlateau(lr: number, options: ReduceOnPlateauOptions = {}): ReduceOnPlateau {
  checkNumber('reduceOnPlateau: lr', lr, LR);
  const where = 'reduceOnPlateau: option';
  const opts = checkOptions('reduceOnPlateau: options', options);
  checkKnownKeys('reduceOnPlateau: options', opts, ['factor', 'patience', 'threshold', 'thresholdMode', 'mode', 'cooldown', 'minLr']);
  const factor = opts.factor === undefined ? 0.1 : checkNumber(`${where} 'factor'`, opts.factor, { min: 0, below: 1 });
  const patience = opts.patience === undefined ? 10 : checkNumber(`${where} 'patience'`, opts.patience, { min: 0, integer: true });
  const threshold = opts.threshold === undefined ? 1e-4 : checkNumber(`${where} 'threshold'`, opts.threshold, { min: 0 });
  const thresholdMode = opts.thresholdMode === undefined ? 'rel' : checkOneOf(`${where} 'thresholdMode'`, opts.thresholdMode, ['rel', 'abs'] as const);
  const mode = opts.mode === undefined ? 'min' : checkOneOf(`${where} 'mode'`, opts.mode, ['min', 'max'] as const);
  const cooldown = opts.cooldown === undefined ? 0 : checkNumber(`${where} 'cooldown'`, opts.cooldown, { min: 0, integer: true });
  const minLr = opts.minLr === undefined ? 0 : checkNumber(`${where} 'minLr'`, opts.minLr, LR);
  const worst = mode === 'min' ? Infinity : -Infinity;
  let st = { lr, best: worst, badReports: 0, cooldownLeft: 0, reports: 0 };
  const better = (a: number, best: number) => {
    if (mode === 'min') return thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return thresholdMode === 'rel' ? a > best * (1 + threshold) : a > best + threshold;
  };
  const fn = described(() => st.lr, 'reduceOnPlateau', [lr, { factor, patience, threshold, thresholdMode, mode, cooldown, minLr }]) as unknown as ReduceOnPlateau;
  fn.report = (metric: number) => {
    if (typeof metric !== 'number') throw new TypeError(`reduceOnPlateau.report: metric must be a number, got ${describe(metric)}`);
    if (Number.isNaN(metric)) throw new RangeError('reduceOnPlateau.report: metric must not be NaN');
    const next = { ...st, reports: st.reports + 1 };
    if (better(metric, next.best)) {
      next.best = metric;
      next.badReports = 0;
    } else next.badReports++;
    if (next.cooldownLeft > 0) {
      next.cooldownLeft--;
      next.badReports = 0;
    }
    if (next.badReports > patience) {
      const reduced = Math.max(next.lr * factor, minLr);
      if (next.lr - reduced > 1e-8) next.lr = reduced;
      next.cooldownLeft = cooldown;
      next.badReports = 0;
    }
    st = next;
  };
  fn.state = () => ({ ...st });
  fn.loadState = (state: unknown) => {
    const at = 'reduceOnPlateau: state';
    const s = checkPlainObject(at, state);
    checkKnownKeys(at, s, ['lr', 'best', 'badReports', 'cooldownLeft', 'reports']);
    const count = { min: 0, integer: true };
    const best = s.best;
    if (typeof best !== 'number' || Number.isNaN(best) || best === -worst) throw new RangeError(`${at}.best must be a number (${mode === 'min' ? 'Infinity' : '-Infinity'} before any report), got ${describe(best)}`);
    st = {
      lr: checkNumber(`${at}.lr`, s.lr, LR),
      best,
      badReports: checkNumber(`${at}.badReports`, s.badReports, count),
      cooldownLeft: checkNumber(`${at}.cooldownLeft`, s.cooldownLeft, count),
      reports: checkNumber(`${at}.reports`, s.reports, count),
    };
  };
  return fn;
}

/**
 * Every built-in schedule's factory under the name its description carries: the one table from
 * which a description is made again (a checkpoint's load). `described` only takes these names.
 */
const BUILT_IN = { constant, inverseSqrt, stepDecay, exponential, cosine, linearWarmup, multiStep, oneCycle, sequential, reduceOnPlateau };
type ScheduleName = keyof typeof BUILT_IN;

/** A schedule's description, or null for a function that is not a built-in (or holds one that is not). */
export function scheduleDescription(lr: Schedule): BuiltInSchedule['schedule'] | null {
  const d = (lr as Partial<BuiltInSchedule>).schedule;
  if (!d || !Object.hasOwn(BUILT_IN, d.name)) return null;
  // sequential's parts: a custom function among them has no description (null).
  if (d.name === 'sequential' && (d.args[0] as unknown[]).some((part) => part === null)) return null;
  return d;
}

/**
 * The schedule a description names, made again through its factory (and the factory's checks);
 * sequential's parts are descriptions too. Errors name `where`.
 */
export function scheduleFromDescription(where: string, description: unknown): BuiltInSchedule {
  const d = checkPlainObject(where, description);
  checkKnownKeys(where, d, ['name', 'args']);
  const { name, args } = d;
  if (typeof name !== 'string' || !Object.hasOwn(BUILT_IN, name))
    throw new RangeError(`${where}.name must be one of ${Object.keys(BUILT_IN).join(', ')}, got ${describe(name)}`);
  if (!Array.isArray(args)) throw new TypeError(`${where}.args must be an array, got ${describe(args)}`);
  let given = args;
  if (name === 'sequential') {
    if (!Array.isArray(args[0])) throw new TypeError(`${where}.args[0] must be an array of schedule descriptions, got ${describe(args[0])}`);
    given = [args[0].map((part: unknown, i: number) => scheduleFromDescription(`${where}.args[0][${i}]`, part)), ...args.slice(1)];
  }
  const factory = BUILT_IN[name as ScheduleName] as (...a: unknown[]) => BuiltInSchedule;
  try {
    return factory(...given);
  } catch (e) {
    const Kind = e instanceof RangeError ? RangeError : e instanceof TypeError ? TypeError : Error;
    throw new Kind(`${where}: ${(e as Error).message}`);
  }
}
