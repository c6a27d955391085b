import type { BackendOption } from './backends';
import type { CompactOptions } from './compact/options';
import type { IsaOption } from './backends/native';
import type { Hyperparameters } from './spec';
import type { Comm } from './distributed/comm';

/** Options every optimizer (and clipping) takes besides its hyperparameters. */
export interface BackendOptions {
  /**
   * Where the step runs. Default 'auto': 'cuda' for params on the GPU, else 'native' when the addon
   * loads, else 'js' (TypeScript) with one warning. 'cuda' with Float32Array params: host-mirror
   * mode (the device keeps params and state; each step uploads the grads and downloads the params).
   */
  backend?: BackendOption;
  /** The native kernels' instruction set. Default 'auto': ADAM_NATIVE_ISA, else the best the CPU has. */
  isa?: IsaOption;
  /** Threads for the native step. Default os.availableParallelism(). Results never depend on it. */
  threads?: number;
}

/** Gradient hygiene, for the whole optimizer (not per group). */
export interface TrainingOptions {
  /**
   * Default false. When true, a step whose grads hold NaN or ±Inf, or whose update would overflow
   * to NaN or ±Inf, changes nothing and returns false.
   */
  skipNonFinite?: boolean;
  /** Loss scale: grads are divided by it inside the update. Default 1 (left as they are). */
  gradScale?: number;
  /**
   * A communicator from distributed.mpi(): shard the state over its ranks (ZeRO stage 1). Each
   * step sums the grads over ranks in rank order, updates this rank's slice and gathers the
   * parameters, bitwise equal to one process stepping the summed (averaged) grads.
   */
  shard?: Comm;
  /** With shard: divide the summed grads by the world size. Default true. */
  gradAverage?: boolean;
}

/** Constructor options: default hyperparameters for every group, backend and training options. */
export type OptimizerOptions<H> = Partial<Hyperparameters<H>> & BackendOptions & TrainingOptions & CompactOptions;

export const BACKEND_KEYS = ['backend', 'isa', 'threads'] as const;
export const TRAINING_KEYS = ['skipNonFinite', 'gradScale', 'shard', 'gradAverage'] as const;

/** gradScale: > 0 and a nonzero finite float32. */
export const GRAD_SCALE = { min: 0, positive: true, float32: true };
