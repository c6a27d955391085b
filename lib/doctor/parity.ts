import type { BackendOption } from '../backends';
import type { IsaOption } from '../backends/native';
import { OPTIMIZERS, type OptimizerEntry } from '../optimizers';

/** One backend the parity check runs: the optimizer options that select it. */
export interface ParityTarget {
  label: string;
  backend: BackendOption;
  isa?: IsaOption;
  threads?: number;
}

// Each optimizer with the options that take its rule's other code paths (registry `paths`), plus
// a loss scale that is not a power of two, over lengths that leave every vector width a tail.
const CASES = OPTIMIZERS.map((entry) => ({ entry, options: { ...entry.base, ...entry.paths, gradScale: 3 } }));
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
function run(entry: OptimizerEntry, options: Record<string, unknown>, target: Record<string, unknown>): Float32Array[] {
  const params = LENGTHS.map((n, i) => {
    const data = new Float32Array(n);
    fill(data, 1000 + i);
    return { name: `p${i}`, data, grad: new Float32Array(n) };
  });
  const opt = new entry.Class(params, { ...options, ...target });
  for (let t = 1; t <= STEPS; t++) {
    params.forEach((p, i) => fill(p.grad, t * 7919 + i));
    opt.step();
  }
  const state = opt.stateDict().state;
  // fp32 state here (the doctor runs no compact storage).
  return params.flatMap((p) => [p.data, ...Object.keys(state[p.name]).sort().map((slot) => state[p.name][slot] as Float32Array)]);
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
    const reference = run(c.entry, c.options, { backend: 'js' });
    const got = run(c.entry, c.options, options);
    const at = got.findIndex((a, i) => !sameBits(a, reference[i]!));
    if (at >= 0) return `${c.entry.name}: array ${at} differs from the 'js' backend after ${STEPS} steps`;
  }
  return null;
}

export const PARITY_SUMMARY = `${CASES.map((c) => c.entry.name).join(', ')}; ${STEPS} steps over ${LENGTHS.length} tensors`;
