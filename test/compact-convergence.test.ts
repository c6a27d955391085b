import { describe, expect, it } from 'vitest';
import { Adam, cosine } from '../lib';
import { rng } from './helpers';

// 5,000 steps of Adam with int8 (and bf16) moments on a least-squares problem with a known
// solution: min 0.5*|A x - b|^2, A = diag(a) + u v^T (8,192 unknowns, so the moments are 8-bit:
// tensors of 4,096+ elements), x* by Sherman-Morrison in float64. A cosine lr to 0 lets each run
// settle; fp32 state reaches a relative error of ~1e-7, and so must the compact runs, within 1e-5.
const D = 8192;
const next = rng(2024);
const a = Float64Array.from({ length: D }, () => 0.5 + next());
const u = Float64Array.from({ length: D }, () => (next() - 0.5) / Math.sqrt(D));
const v = Float64Array.from({ length: D }, () => (next() - 0.5) / Math.sqrt(D));
const b = Float64Array.from({ length: D }, () => 2 * next() - 1);
const dot = (x: ArrayLike<number>, y: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < D; i++) s += x[i] * y[i];
  return s;
};
const Db = b.map((x, i) => x / a[i]), Du = u.map((x, i) => x / a[i]);
const solution = Db.map((x, i) => x - (Du[i] * dot(v, Db)) / (1 + dot(v, Du)));

function solve(stateDtype: 'fp32' | 'bf16' | 'int8', backend: string): Float32Array {
  const p = { data: new Float32Array(D), grad: new Float32Array(D) };
  const opt = new Adam([p], { lr: cosine(0.02, { totalSteps: 5000 }), stateDtype, backend: backend as never });
  const r = new Float64Array(D);
  for (let t = 0; t < 5000; t++) {
    const vx = dot(v, p.data);
    for (let i = 0; i < D; i++) r[i] = a[i] * p.data[i] + u[i] * vx - b[i];
    const ur = dot(u, r);
    for (let i = 0; i < D; i++) p.grad[i] = a[i] * r[i] + v[i] * ur;
    opt.step();
  }
  return p.data;
}

const relativeError = (x: Float32Array) => Math.sqrt(solution.reduce((s, xs, i) => s + (x[i] - xs) ** 2, 0) / dot(solution, solution));

describe('compact state still trains: least squares, 5,000 Adam steps', () => {
  it.each(['int8', 'bf16'] as const)('%s moments converge to the float64 solution within 1e-5 (relative), as fp32 does', (stateDtype) => {
    expect(relativeError(new Float32Array(D))).toBe(1); // the start is far away
    expect(relativeError(solve('fp32', 'auto'))).toBeLessThan(1e-5);
    expect(relativeError(solve(stateDtype, 'auto'))).toBeLessThan(1e-5);
  }, 120_000);
});
