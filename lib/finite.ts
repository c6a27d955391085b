import type { Backend, Executor } from './backends/types';
import type { Rule } from './rules/types';
import type { Tensor } from './tensor';

/** Elements per chunk of the dry run: every slot's chunk together stays in L2. */
const CHUNK = 65536;

/**
 * Whether the next step would leave every param and state value finite, found by running that
 * step, on the optimizer's own backend, over copies: each tensor is copied a chunk at a time into
 * scratch arrays, the scratch is stepped with the step's scalars and flags, and the backend's sum
 * of squares tells whether any result is NaN or ±Inf. Nothing of the optimizer's is written. The
 * scratch and one small plan per group are made once and reused.
 */
export class FiniteCheck {
  readonly #rule: Rule<never>;
  readonly #backend: Backend;
  #scratch: Array<Array<Float32Array | null>> = [];
  #plans: Executor[] = [];

  constructor(rule: Rule<never>, backend: Backend) {
    this.#rule = rule;
    this.#backend = backend;
  }

  /** Frees the scratch plans (the optimizer's tensors or slots changed). */
  release(): void {
    for (const p of this.#plans) p.release?.();
    this.#plans = [];
    this.#scratch = [];
  }

  /** `groups[g]`: group g's tensors as the backends see them (param, grad, state slots), all on the host. */
  check(groups: ReadonlyArray<ReadonlyArray<ReadonlyArray<Tensor | null>>>, scalars: Float32Array, flags: Uint32Array): boolean {
    const perGroup = this.#rule.scalarCount;
    for (let g = 0; g < groups.length; g++) {
      const tensors = groups[g] as ReadonlyArray<ReadonlyArray<Float32Array | null>>;
      if (tensors.length === 0) continue;
      const [scratch, plan] = this.#planFor(g, tensors);
      const size = scratch[0]!.length;
      const s = scalars.subarray(g * perGroup, (g + 1) * perGroup), f = flags.subarray(g, g + 1);
      const results = scratch.filter((a, k): a is Float32Array => a !== null && k !== 1);
      for (const slots of tensors) {
        const n = slots[0]!.length;
        for (let start = 0; start < n; start += size) {
          const len = Math.min(size, n - start);
          slots.forEach((t, k) => {
            const into = scratch[k];
            if (!t || !into) return;
            into.set(t.subarray(start, start + len));
            // A short last chunk repeats its first element: a real input, already being checked.
            if (len < size) into.fill(into[0], len);
          });
          plan.step(s, f);
          if (!Number.isFinite(this.#backend.grads.sumSquares(results))) return false;
        }
      }
    }
    return true;
  }

  #planFor(g: number, tensors: ReadonlyArray<ReadonlyArray<Float32Array | null>>): [Array<Float32Array | null>, Executor] {
    if (!this.#plans[g]) {
      const size = Math.max(1, Math.min(CHUNK, Math.max(...tensors.map((t) => t[0]!.length))));
      this.#scratch[g] = tensors[0].map((t) => (t ? new Float32Array(size) : null));
      this.#plans[g] = this.#backend.prepare(this.#rule, [[this.#scratch[g]]]);
    }
    return [this.#scratch[g], this.#plans[g]];
  }
}
