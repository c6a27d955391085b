import type { Rule } from '../rules/types';

/** One tensor as the backends see it: param, grad, then the rule's state slots (null: absent). */
export type TensorSlots = ReadonlyArray<Float32Array | null>;

/** A backend's handle on one group of tensors, prepared once, stepped many times. */
export interface Executor {
  step(scalars: Float32Array, flags: number): void;
  stepAsync(scalars: Float32Array, flags: number): Promise<void>;
}

/** Whole-gradient operations (clipping, the non-finite check), run on the backend's arrays. */
export interface GradOps {
  /** The float64 sum of squares of every element, in the order of lib/gradops.ts. */
  sumSquares(arrays: ReadonlyArray<Float32Array>): number;
  /** x = x*factor (factor a float32 value). */
  scale(arrays: ReadonlyArray<Float32Array>, factor: number): void;
  /** x = min(limit, max(-limit, x)) (limit a float32 value); NaN stays NaN. */
  clamp(arrays: ReadonlyArray<Float32Array>, limit: number): void;
}

export interface Backend {
  /** 'js', or 'native/<isa>'. */
  readonly name: string;
  prepare(rule: Rule<never>, tensors: ReadonlyArray<TensorSlots>): Executor;
  /** Allocates a zeroed state array (native memory where the backend has it). */
  alloc(n: number): Float32Array;
  readonly grads: GradOps;
}
