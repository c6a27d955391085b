import { AdaGrad, Adam, type AnyParam, OPTIMIZERS, type Optimizer, type OptimizerEntry, SGD, cosine, inverseSqrt, stepDecay } from '../lib';
import { fillRandom, rng } from './helpers';

/** A parameter whose arrays are on the host (what makeParams gives). */
export interface HostParam {
  name: string;
  data: Float32Array;
  grad: Float32Array;
}

type AnyOptimizer = Optimizer<{ lr: number }>;
type Options = Record<string, unknown>;
type Make = (params: AnyParam[], options: Options) => AnyOptimizer;

/** Every optimizer with every combination of its options, for the parity tests. */
export interface OptimizerCase {
  label: string;
  make: Make;
  options: Options;
}

/** Every optimizer of the registry (lib/optimizers/index.ts) and how to make one. */
export const OPTIMIZER_NAMES = OPTIMIZERS.map((o) => o.name);
export function makerOf(name: string): Make {
  const entry = OPTIMIZERS.find((o) => o.name === name);
  if (!entry) throw new Error(`no optimizer '${name}' in the registry`);
  return (p, x) => new entry.Class(p, x);
}

/** Every valid combination of an entry's grid, each with the entry's base options. */
export function gridCases(entry: OptimizerEntry): Options[] {
  const combos = Object.entries(entry.grid).reduce<Options[]>(
    (acc, [key, values]) => acc.flatMap((o) => values.map((v) => ({ ...o, [key]: v }))),
    [{}],
  );
  return combos.filter((o) => entry.valid?.(o) ?? true).map((o) => ({ ...o, ...entry.base }));
}

export const CASES: OptimizerCase[] = [
  // From the registry: every valid combination of each optimizer's grid, its non-default scalars,
  // and its main paths under a loss scale that is not a power of two (the division rounds and
  // must match exactly).
  ...OPTIMIZERS.flatMap((entry) => {
    const make: Make = (p, x) => new entry.Class(p, x);
    return [
      ...gridCases(entry).map((o) => ({ label: `${entry.name} ${JSON.stringify(o)}`, make, options: o })),
      { label: `${entry.name} scalars ${JSON.stringify(entry.scalars)}`, make, options: { ...entry.base, ...entry.scalars } },
      { label: `${entry.name} gradScale 3 ${JSON.stringify(entry.paths)}`, make, options: { ...entry.base, ...entry.paths, gradScale: 3 } },
    ];
  }),
  // Schedules: the per-step lr reaches every rule's scalars.
  { label: 'Adam inverseSqrt lr', make: (p, x) => new Adam(p, x), options: { lr: inverseSqrt(0.01) } },
  { label: 'SGD cosine lr with warmup', make: (p, x) => new SGD(p, x as never), options: { lr: cosine(0.05, { totalSteps: 25, warmupSteps: 5 }), momentum: 0.9 } },
  { label: 'AdaGrad stepDecay lr', make: (p, x) => new AdaGrad(p, x), options: { lr: stepDecay(0.05, { stepSize: 7, gamma: 0.5 }), lrDecay: 0.1 } },
  // Parameter groups: each group with its own options and rule flags.
  {
    label: 'Adam with two parameter groups',
    make: (p, x) => new Adam([{ params: p.slice(0, 5), lr: 0.02, amsgrad: true }, { params: p.slice(5), weightDecay: 0.1, lr: inverseSqrt(0.01) }], x),
    options: {},
  },
  {
    label: 'SGD with three parameter groups',
    make: (p, x) => new SGD([{ params: p.slice(0, 3) }, { params: p.slice(3, 6), momentum: 0.9, nesterov: true }, { params: p.slice(6), momentum: 0.5, dampening: 0.5 }], x),
    options: { lr: 0.05 },
  },
];

/**
 * Parameters of the given lengths as subarray views at odd offsets of shared buffers, seeded so
 * every backend starts from the same bits. Some grads and params are exactly zero.
 */
export function makeParams(lengths: number[], seed: number): HostParam[] {
  const next = rng(seed);
  const total = lengths.reduce((a, b) => a + b + 3, 0);
  const dataBuf = new Float32Array(total + 1), gradBuf = new Float32Array(total + 1);
  let offset = 1;
  return lengths.map((n, i) => {
    const data = fillRandom(dataBuf.subarray(offset, offset + n), next);
    const grad = gradBuf.subarray(offset, offset + n);
    for (let j = 0; j < n; j += 7) data[j] = 0;
    offset += n + 3;
    return { name: `p${i}`, data, grad };
  });
}

/** Fresh seeded grads for step t; every 5th is exactly zero. */
export function fillGrads(params: HostParam[], seed: number, t: number): void {
  const next = rng(seed * 1000 + t);
  for (const p of params) {
    fillRandom(p.grad, next);
    for (let j = t % 5; j < p.grad.length; j += 5) p.grad[j] = 0;
  }
}

/** Runs `steps` steps and returns the params and state: the data every parity test compares. */
export function runSteps(c: OptimizerCase, lengths: number[], extra: Options, steps = 30, seed = 7) {
  const params = makeParams(lengths, seed);
  const opt = c.make(params, { ...c.options, ...extra });
  for (let t = 1; t <= steps; t++) {
    fillGrads(params, seed, t);
    opt.step();
  }
  return { params, opt, state: opt.stateDict() };
}
