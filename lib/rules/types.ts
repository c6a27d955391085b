import type { GradOptions } from './grad';
import type { RuleNames } from './names';

/**
 * The options a rule's state depends on: its hyperparameters without the per-step `lr` (a
 * schedule's value) and the optimizer-wide `gradScale`.
 */
export type SlotOptions<O extends GradOptions> = Omit<O, 'lr' | 'gradScale'>;

/**
 * An update rule as the backends see it: tensors of `slots` float32 arrays (param, grad, then the
 * state slots), per-step float32 scalars computed once on the host, and option bits.
 */
export interface Rule<O extends GradOptions = GradOptions> extends RuleNames {
  /** Key of the rule in the native addon's table (`adam`, `adamax`, ...). */
  readonly name: string;
  /** Whether the options need this state slot (e.g. `max_exp_avg_sq` only with amsgrad). */
  needsSlot(slot: string, hyper: SlotOptions<O>): boolean;
  /** The value a new state slot starts at (0 unless given; AdaGrad's initialAccumulatorValue). */
  initialValue?(slot: string, hyper: SlotOptions<O>): number;
  /** Option bits for step t (1-based; SGD marks its first step). */
  flags(options: O, step: number): number;
  /**
   * Values a group carries from step to step on the host, in float64, by name, with their starting
   * values (NAdam's running product `mu_product`: 1); saved in stateDict as groups[i].hostState.
   */
  readonly hostState?: Readonly<Record<string, number>>;
  /**
   * Writes the step-t scalars into `out`: float64 math, each value rounded to float32 once. `host`
   * (a copy of the group's host state before step t) is updated to after step t.
   */
  scalars(options: O, step: number, out: Float32Array, host: Record<string, number>): void;
  /** The 'js' backend: the rule in TypeScript, float32 after every operation. */
  update(scalars: Float32Array, flags: number, slots: ReadonlyArray<Float32Array | null>, n: number): void;
}
