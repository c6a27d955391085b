import { checkBackendOptions, selectBackend } from './backends';
import type { Backend } from './backends/types';
import type { BackendOptions } from './optimizer';
import { isShardedGrad } from './distributed/registry';
import { checkBoolean, checkFloat32Array, checkKnownKeys, checkNoOverlap, checkNumber, checkPlainObject, describe } from './validate';

/** Where the grads come from: parameters ({ grad }), or the grad arrays themselves. */
export type GradSource = { grad: Float32Array } | Float32Array;

/** PyTorch's guard against dividing by a zero norm. */
const NORM_EPS = 1e-6;

/** clipGradNorm's options: the backend's, and which norm. */
export interface ClipNormOptions extends BackendOptions {
  /** 2 (default): the global L2 norm; Infinity: the largest |g| of any element. */
  normType?: 2 | typeof Infinity;
  /** Throw, changing nothing, when the norm is NaN or infinite. Default false: return it, grads untouched. */
  errorIfNonfinite?: boolean;
}

function prepare(
  owner: string,
  params: unknown,
  options: unknown,
  extra: readonly string[] = [],
): { grads: Float32Array[]; backend: Backend; opts: Record<string, unknown> } {
  const opts = checkPlainObject(`${owner}: options`, options ?? {});
  checkKnownKeys(`${owner}: options`, opts, ['backend', 'isa', 'threads', ...extra]);
  const { backend, isa, threads } = checkBackendOptions(owner, opts);
  if (!Array.isArray(params)) throw new TypeError(`${owner}: params must be an array of {grad} or Float32Array, got ${describe(params)}`);
  const grads = params.map((p: unknown, i) => {
    if (p instanceof Float32Array) return checkFloat32Array(`${owner}: params[${i}]`, p);
    if (typeof p !== 'object' || p === null || ArrayBuffer.isView(p))
      throw new TypeError(`${owner}: params[${i}] must be a Float32Array or an object with a grad, got ${describe(p)}`);
    return checkFloat32Array(`${owner}: params[${i}].grad`, (p as { grad?: unknown }).grad);
  });
  const sharded = grads.findIndex((g) => isShardedGrad(g));
  if (owner === 'clipGradNorm' && sharded >= 0)
    throw new Error(
      `${owner}: params[${sharded}]'s grad belongs to an optimizer sharded over MPI (shard: comm); this rank holds only its own grads before the step sums them over the ranks, so their norm is not the one a single process would clip by. Not supported: clip per rank with clipGradValue, or step unsharded`,
    );
  try {
    checkNoOverlap(grads.map((array, i) => ({ where: `params[${i}] grad`, array })));
  } catch (e) {
    throw new Error(`${owner}: ${(e as Error).message}`);
  }
  return { grads, backend: selectBackend(owner, backend, isa, threads), opts };
}

/** The largest |x| of any element (exact: a max does not depend on order); NaN if any is NaN. */
function maxAbs(grads: readonly Float32Array[]): number {
  let max = 0;
  for (const g of grads)
    for (let i = 0; i < g.length; i++) {
      const a = Math.abs(g[i]);
      if (a > max) max = a;
      else if (a !== a) return NaN;
    }
  return max;
}

/**
 * Scales every grad in place so that their global norm is at most maxNorm (by
 * maxNorm/(norm + 1e-6), as PyTorch's clip_grad_norm_), and returns the norm before clipping.
 * normType 2: the square root of a float64 sum of squares in a fixed order (lib/gradops.ts), so it
 * has the same bits on every backend, ISA and thread count; Infinity: the largest |g|. A NaN or
 * infinite norm leaves the grads untouched: returned, or with errorIfNonfinite thrown.
 */
export function clipGradNorm(params: ReadonlyArray<GradSource>, maxNorm: number, options?: ClipNormOptions): number {
  const owner = 'clipGradNorm';
  checkNumber(`${owner}: maxNorm`, maxNorm, { min: 0 });
  const { grads, backend, opts } = prepare(owner, params, options, ['normType', 'errorIfNonfinite']);
  const normType = opts.normType === undefined ? 2 : opts.normType;
  if (normType !== 2 && normType !== Infinity) {
    const kind = typeof normType === 'number' ? RangeError : TypeError;
    throw new kind(`${owner}: option 'normType' must be 2 or Infinity, got ${describe(normType)}`);
  }
  const errorIfNonfinite = opts.errorIfNonfinite === undefined ? false : checkBoolean(`${owner}: option 'errorIfNonfinite'`, opts.errorIfNonfinite);
  const norm = normType === 2 ? Math.sqrt(backend.grads.sumSquares(grads)) : maxAbs(grads);
  if (!Number.isFinite(norm)) {
    if (errorIfNonfinite)
      throw new RangeError(`${owner}: the ${normType === 2 ? 'L2' : 'infinity'} norm of the grads is ${norm}, so they cannot be clipped (errorIfNonfinite); nothing was changed`);
    return norm;
  }
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
