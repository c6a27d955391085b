import { checkBackendOptions, selectBackend } from './backends';
import type { Backend } from './backends/types';
import type { BackendOptions } from './optimizer';
import { checkFloat32Array, checkKnownKeys, checkNoOverlap, checkNumber, checkPlainObject, describe } from './validate';

/** Where the grads come from: parameters ({ grad }), or the grad arrays themselves. */
export type GradSource = { grad: Float32Array } | Float32Array;

/** PyTorch's guard against dividing by a zero norm. */
const NORM_EPS = 1e-6;

function prepare(owner: string, params: unknown, options: unknown): { grads: Float32Array[]; backend: Backend } {
  const opts = checkPlainObject(`${owner}: options`, options ?? {});
  checkKnownKeys(`${owner}: options`, opts, ['backend', 'isa', 'threads']);
  const { backend, isa, threads } = checkBackendOptions(owner, opts);
  if (!Array.isArray(params)) throw new TypeError(`${owner}: params must be an array of {grad} or Float32Array, got ${describe(params)}`);
  const grads = params.map((p: unknown, i) => {
    if (p instanceof Float32Array) return checkFloat32Array(`${owner}: params[${i}]`, p);
    if (typeof p !== 'object' || p === null || ArrayBuffer.isView(p))
      throw new TypeError(`${owner}: params[${i}] must be a Float32Array or an object with a grad, got ${describe(p)}`);
    return checkFloat32Array(`${owner}: params[${i}].grad`, (p as { grad?: unknown }).grad);
  });
  try {
    checkNoOverlap(grads.map((array, i) => ({ where: `params[${i}] grad`, array })));
  } catch (e) {
    throw new Error(`${owner}: ${(e as Error).message}`);
  }
  return { grads, backend: selectBackend(owner, backend, isa, threads) };
}

/**
 * Scales every grad in place so that their global L2 norm is at most maxNorm (by
 * maxNorm/(norm + 1e-6), as PyTorch), and returns the norm before clipping. The norm is the square
 * root of a float64 sum of squares in a fixed order (lib/gradops.ts), so it has the same bits on
 * every backend, ISA and thread count. A NaN or infinite norm is returned with the grads untouched.
 */
export function clipGradNorm(params: ReadonlyArray<GradSource>, maxNorm: number, options?: BackendOptions): number {
  const owner = 'clipGradNorm';
  checkNumber(`${owner}: maxNorm`, maxNorm, { min: 0 });
  const { grads, backend } = prepare(owner, params, options);
  const norm = Math.sqrt(backend.grads.sumSquares(grads));
  if (!Number.isFinite(norm)) return norm;
  const coef = Math.fround(maxNorm / (norm + NORM_EPS));
  if (coef < 1) backend.grads.scale(grads, coef);
  return norm;
}

/** Clamps every grad element to [-limit, limit] in place (limit rounded to float32); NaN stays NaN. */
export function clipGradValue(params: ReadonlyArray<GradSource>, limit: number, options?: BackendOptions): void {
  const owner = 'clipGradValue';
  checkNumber(`${owner}: limit`, limit, { min: 0 });
  const { grads, backend } = prepare(owner, params, options);
  backend.grads.clamp(grads, Math.fround(limit));
}
