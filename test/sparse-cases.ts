import { type AnyParam, type SparseParam } from '../lib';
import { fillRandom, rng } from './helpers';

type Options = Record<string, unknown>;
type Make = new (params: readonly AnyParam[], options?: Options) => {
  step(): boolean;
  stepAsync(): Promise<boolean>;
  stateDict(): { state: Record<string, Record<string, Float32Array>> };
  backend: string;
  stepCount: number;
};

/** A table of `rows` rows and the touched rows of each step (duplicates included), from a seed. */
export function makeTable(rows: number, rowSize: number, seed: number, name = 'emb'): SparseParam {
  const next = rng(seed);
  return { name, data: fillRandom(new Float32Array(rows * rowSize), next), rowSize, indices: new Int32Array(0), grad: new Float32Array(0) };
}

/** Step t's indices (about `touched`, with ~10% duplicates, any order) and grad, from a seed. */
export function batch(rows: number, rowSize: number, touched: number, seed: number, t: number): { indices: Int32Array; grad: Float32Array } {
  const next = rng(seed * 1000 + t);
  const indices = new Int32Array(touched);
  for (let k = 0; k < touched; k++) indices[k] = k > 0 && next() < 0.1 ? indices[Math.floor(next() * k)] : Math.floor(next() * rows);
  return { indices, grad: fillRandom(new Float32Array(touched * rowSize), next) };
}

/** Runs `steps` steps of Make on a fresh table; returns the table and the state. */
export function runSparse(Make: Make, options: Options, shape: { rows: number; rowSize: number; touched: number }, steps: number, seed = 3) {
  const p = makeTable(shape.rows, shape.rowSize, seed);
  const opt = new Make([p], options);
  for (let t = 1; t <= steps; t++) {
    Object.assign(p, batch(shape.rows, shape.rowSize, shape.touched, seed, t));
    opt.step();
  }
  return { p, opt, state: opt.stateDict().state.emb };
}

/** The dense grad of a sparse batch: untouched rows zero, duplicates added in order of appearance in float32. */
export function denseGrad(rows: number, rowSize: number, indices: Int32Array, grad: Float32Array): Float32Array {
  const out = new Float32Array(rows * rowSize);
  const seen = new Uint8Array(rows);
  for (let k = 0; k < indices.length; k++) {
    const r = indices[k];
    for (let j = 0; j < rowSize; j++) {
      const i = r * rowSize + j;
      out[i] = seen[r] ? out[i] + grad[k * rowSize + j] : grad[k * rowSize + j];
    }
    seen[r] = 1;
  }
  return out;
}
