import type { CompactSlot } from '../compact/slot';
import type { HalfParamSlot, HalfTensor } from '../compact/half';
import type { Rule } from '../rules/types';
import type { RowPlan, RowPlanner } from '../sparse';
import type { Tensor } from '../tensor';

/**
 * One tensor as the backends see it: param, grad, then the rule's state slots (null: absent).
 * DeviceTensors appear only in the slots given to the 'cuda' backend; half-precision parameters'
 * param and grad are given as lib/compact/half.ts's HalfParamSlot and HalfTensor.
 */
export type TensorSlots = ReadonlyArray<Tensor | CompactSlot | HalfParamSlot | HalfTensor | null>;

/** An optimizer's tensors, in parameter groups: the unit a backend steps in one call. */
export type TensorGroups = ReadonlyArray<ReadonlyArray<TensorSlots>>;

/**
 * A backend's handle on all of an optimizer's tensors, prepared once, stepped many times. `scalars`
 * holds each group's rule scalars, group after group; `flags` one entry per group.
 */
export interface Executor {
  step(scalars: Float32Array, flags: Uint32Array): void;
  stepAsync(scalars: Float32Array, flags: Uint32Array): Promise<void>;
  /** Frees what the executor holds outside the JS heap (device tables, mirror buffers), if anything. */
  release?(): void;
  /**
   * True when step and stepAsync check every array for detachment themselves before they change
   * anything (a native plan does, throwing a plain Error): the optimizer then skips its own check
   * and, when the executor throws, names the parameter as that check would have.
   */
  readonly checksArrays?: boolean;
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
  /** 'js', 'native/<isa>' or 'cuda'. */
  readonly name: string;
  prepare(rule: Rule<never>, groups: TensorGroups): Executor;
  /** Allocates a zeroed state tensor (native memory where the backend has it, device memory for 'cuda'). */
  alloc(n: number): Tensor;
  /** Zeroed state tensors of these lengths at once, where the backend can place them together (lib/arena.ts). */
  allocMany?(lengths: readonly number[]): Tensor[];
  readonly grads: GradOps;
  /**
   * Runs the rule on the touched rows of one row-sparse tensor: `slots` as a tensor's (param, the
   * grad as given, state...), the grad rows summed as `plan` says (lib/sparse.ts RowPlan: rows
   * ascending and distinct, duplicates in order of appearance). Absent: the backend takes no
   * sparse parameters.
   */
  stepRows?(rule: Rule<never>, scalars: Float32Array, flags: number, slots: ReadonlyArray<Float32Array | null>, plan: RowPlan, rowSize: number): void;
  /** Plans the coalescing for stepRows; absent: lib/sparse.ts planRowsJs. */
  planRows?: RowPlanner;
}
