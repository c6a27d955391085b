import type { Rule } from '../rules/types';
import type { Tensor } from '../tensor';

/**
 * One tensor as the backends see it: param, grad, then the rule's state slots (null: absent).
 * DeviceTensors appear only in the slots given to the 'cuda' backend.
 */
export type TensorSlots = ReadonlyArray<Tensor | null>;

/** A backend's handle on one group of tensors, prepared once, stepped many times. */
export interface Executor {
  step(scalars: Float32Array, flags: number): void;
  stepAsync(scalars: Float32Array, flags: number): Promise<void>;
  /** Frees what the executor holds outside the JS heap (device tables, mirror buffers), if anything. */
  release?(): void;
}

export interface Backend {
  /** 'js', 'native/<isa>' or 'cuda'. */
  readonly name: string;
  prepare(rule: Rule<never>, tensors: ReadonlyArray<TensorSlots>): Executor;
  /** Allocates a zeroed state tensor (native memory where the backend has it, device memory for 'cuda'). */
  alloc(n: number): Tensor;
}
