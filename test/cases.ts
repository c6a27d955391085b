import { AdaGrad, AdaMax, Adam, AdamW, type Optimizer, type Param, RMSProp, SGD, cosine, inverseSqrt, stepDecay } from '../lib';

/** A parameter whose arrays are on the host (what makeParams gives). */
export interface HostParam {
  name: string;
  data: Float32Array;
  grad: Float32Array;
}
import { fillRandom, rng } from './helpers';

type AnyOptimizer = Optimizer<{ lr: number }>;
type Options = Record<string, unknown>;

/** Every optimizer with every combination of its options, for the parity tests. */
export interface OptimizerCase {
  label: string;
  make: (params: Param[], options: Options) => AnyOptimizer;
  options: Options;
}

function combos(grid: Record<string, unknown[]>): Options[] {
  return Object.entries(grid).reduce<Options[]>(
    (acc, [key, values]) => acc.flatMap((o) => values.map((v) => ({ ...o, [key]: v }))),
    [{}],
  );
}

const adamGrid = { amsgrad: [false, true], maximize: [false, true], weightDecay: [0, 0.05], biasCorrection: [true, false] };

export const CASES: OptimizerCase[] = [
  ...combos(adamGrid).map((o) => ({ label: `Adam ${JSON.stringify(o)}`, make: (p: Param[], x: Options) => new Adam(p, x), options: { lr: 0.01, ...o } })),
  ...combos(adamGrid).map((o) => ({ label: `AdamW ${JSON.stringify(o)}`, make: (p: Param[], x: Options) => new AdamW(p, x), options: { lr: 0.01, ...o } })),
  ...combos({ maximize: [false, true], weightDecay: [0, 0.05] }).map((o) => ({
    label: `AdaMax ${JSON.stringify(o)}`,
    make: (p: Param[], x: Options) => new AdaMax(p, x),
    options: o,
  })),
  // Non-default betas and eps, so no scalar is only ever tested at its default.
  { label: 'Adam betas 0.8/0.99 eps 1e-4', make: (p, x) => new Adam(p, x), options: { lr: 0.003, beta1: 0.8, beta2: 0.99, eps: 1e-4 } },
  { label: 'AdaMax betas 0.5/0.9 eps 1e-3', make: (p, x) => new AdaMax(p, x), options: { beta1: 0.5, beta2: 0.9, eps: 1e-3 } },
  ...combos({ momentum: [0, 0.9], dampening: [0, 0.3], nesterov: [false, true], weightDecay: [0, 0.05], maximize: [false, true] })
    .filter((o) => !o.nesterov || (o.momentum !== 0 && o.dampening === 0))
    .map((o) => ({ label: `SGD ${JSON.stringify(o)}`, make: (p: Param[], x: Options) => new SGD(p, x), options: { lr: 0.01, ...o } })),
  ...combos({ lrDecay: [0, 0.01], weightDecay: [0, 0.05], initialAccumulatorValue: [0, 0.1], maximize: [false, true] }).map((o) => ({
    label: `AdaGrad ${JSON.stringify(o)}`,
    make: (p: Param[], x: Options) => new AdaGrad(p, x),
    options: o,
  })),
  ...combos({ centered: [false, true], momentum: [0, 0.9], weightDecay: [0, 0.05], maximize: [false, true] }).map((o) => ({
    label: `RMSProp ${JSON.stringify(o)}`,
    make: (p: Param[], x: Options) => new RMSProp(p, x),
    options: o,
  })),
  { label: 'AdaGrad eps 1e-6', make: (p, x) => new AdaGrad(p, x), options: { lr: 0.1, eps: 1e-6 } },
  { label: 'RMSProp rho 0.9 eps 1e-6', make: (p, x) => new RMSProp(p, x), options: { rho: 0.9, eps: 1e-6, momentum: 0.5, centered: true } },
  // Loss scaling: a scale that is not a power of two, so the division rounds and must match exactly.
  ...(
    [
      ['Adam', (p: Param[], x: Options) => new Adam(p, x), { weightDecay: 0.05 }],
      ['AdamW', (p: Param[], x: Options) => new AdamW(p, x), {}],
      ['AdaMax', (p: Param[], x: Options) => new AdaMax(p, x), { maximize: true }],
      ['SGD', (p: Param[], x: Options) => new SGD(p, x), { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 0.05 }],
      ['AdaGrad', (p: Param[], x: Options) => new AdaGrad(p, x), { weightDecay: 0.05 }],
      ['RMSProp', (p: Param[], x: Options) => new RMSProp(p, x), { centered: true, momentum: 0.9 }],
    ] as const
  ).map(([name, make, o]) => ({ label: `${name} gradScale 3 ${JSON.stringify(o)}`, make, options: { ...o, gradScale: 3 } })),
  // Schedules: the per-step lr reaches every rule's scalars.
  { label: 'Adam inverseSqrt lr', make: (p, x) => new Adam(p, x), options: { lr: inverseSqrt(0.01) } },
  { label: 'SGD cosine lr with warmup', make: (p, x) => new SGD(p, x), options: { lr: cosine(0.05, { totalSteps: 25, warmupSteps: 5 }), momentum: 0.9 } },
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
