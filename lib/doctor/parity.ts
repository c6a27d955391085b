import { BACKEND_OPTIONS, type BackendOption } from '../backends';
import type { IsaOption } from '../backends/native';
import type { Optimizer, Param } from '../optimizer';
import { Adam, AdamW } from '../optimizers/adam';
import { AdaGrad } from '../optimizers/adagrad';
import { AdaMax } from '../optimizers/adamax';
import { RMSProp } from '../optimizers/rmsprop';
import { SGD } from '../optimizers/sgd';

/** One backend the parity check runs: the optimizer options that select it. */
export interface ParityTarget {
  label: string;
  backend: BackendOption;
  isa?: IsaOption;
  threads?: number;
}

type AnyOptimizer = Optimizer<{ lr: number }>;
type Make = (params: Param[], options: Record<string, unknown>) => AnyOptimizer;

// Each rule, with the options that take its other code paths (L2, decoupled decay, AMSGrad,
// maximize), over lengths that leave every vector width a tail.
const CASES: ReadonlyArray<{ name: string; make: Make; options: Record<string, unknown> }> = [
  { name: 'Adam', make: (p, o) => new Adam(p, o), options: { lr: 0.01, weightDecay: 0.05, amsgrad: true } },
  { name: 'AdamW', make: (p, o) => new AdamW(p, o), options: { lr: 0.01, maximize: true } },
  { name: 'AdaMax', make: (p, o) => new AdaMax(p, o), options: { weightDecay: 0.05 } },
  { name: 'SGD', make: (p, o) => new SGD(p, o), options: { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 0.05 } },
  { name: 'AdaGrad', make: (p, o) => new AdaGrad(p, o), options: { lrDecay: 0.01, initialAccumulatorValue: 0.1, gradScale: 3 } },
  { name: 'RMSProp', make: (p, o) => new RMSProp(p, o), options: { centered: true, momentum: 0.5, maximize: true } },
];
const LENGTHS = [1, 7, 16, 33, 1000, 4099];
const STEPS = 5;

/** Seeded values with a spread of signs and magnitudes (xorshift32): every run sees the same data. */
function fill(a: Float32Array, seed: number): void {
  let x = seed | 1;
  for (let i = 0; i < a.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = ((x >>> 0) / 4294967296 - 0.5) * Math.pow(10, (x & 3) - 2);
  }
}

/** Params and state after STEPS steps, as one list of arrays in a fixed order. */
function run(make: Make, options: Record<string, unknown>, target: Record<string, unknown>): Float32Array[] {
  const params = LENGTHS.map((n, i) => {
    const data = new Float32Array(n);
    fill(data, 1000 + i);
    return { name: `p${i}`, data, grad: new Float32Array(n) };
  });
  const opt = make(params, { ...options, ...target });
  for (let t = 1; t <= STEPS; t++) {
    params.forEach((p, i) => fill(p.grad, t * 7919 + i));
    opt.step();
  }
  const state = opt.stateDict().state;
  return params.flatMap((p) => [p.data, ...Object.keys(state[p.name]).sort().map((slot) => state[p.name][slot])]);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

/** Null when `target` gives the bits of the 'js' reference for every case, else what differed. */
export function checkParity(target: ParityTarget): string | null {
  const options = { backend: target.backend, isa: target.isa, threads: target.threads };
  for (const c of CASES) {
    const reference = run(c.make, c.options, { backend: 'js' });
    const got = run(c.make, c.options, options);
    const at = got.findIndex((a, i) => !sameBits(a, reference[i]!));
    if (at >= 0) return `${c.name}: array ${at} differs from the 'js' backend after ${STEPS} steps`;
  }
  return null;
}

/** Whether this build knows a backend option (e.g. 'cuda', where the CUDA backend exists). */
export function hasBackendOption(name: string): boolean {
  return (BACKEND_OPTIONS as readonly string[]).includes(name);
}

export const PARITY_SUMMARY = `${CASES.map((c) => c.name).join(', ')}; ${STEPS} steps over ${LENGTHS.length} tensors`;
