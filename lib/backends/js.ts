import { allocArena } from '../arena';
import { gradOps } from '../gradops';
import type { Rule } from '../rules/types';
import type { Backend, Executor, TensorSlots } from './types';

/** The TypeScript reference: the correctness oracle, and the fallback when the addon is absent. */
export const jsBackend: Backend = {
  name: 'js',
  prepare(rule: Rule<never>, tensors: ReadonlyArray<TensorSlots>): Executor {
    // The optimizer gives DeviceTensors only to the 'cuda' backend: here every slot is on the host.
    const host = tensors as ReadonlyArray<ReadonlyArray<Float32Array | null>>;
    const step = (scalars: Float32Array, flags: number): void => {
      for (const slots of host) rule.update(scalars, flags, slots, slots[0]!.length);
    };
    return {
      step,
      // Runs on the calling thread: there is no worker to move plain TypeScript to.
      stepAsync: async (scalars, flags) => step(scalars, flags),
    };
  },
  alloc: (n) => new Float32Array(n),
  allocMany: (lengths) => allocArena((n) => new Float32Array(n), lengths),
  grads: gradOps,
};
