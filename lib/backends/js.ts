import { allocArena } from '../arena';
import { prepareCompactJs } from '../compact/backend';
import { hasCompact } from '../compact/driver';
import { gradOps } from '../gradops';
import type { Rule } from '../rules/types';
import { stepRowsJs } from '../sparse';
import type { Backend, Executor, TensorGroups } from './types';

/** The TypeScript reference: the correctness oracle, and the fallback when the addon is absent. */
export const jsBackend: Backend = {
  name: 'js',
  prepare(rule: Rule<never>, groups: TensorGroups): Executor {
    if (hasCompact(groups)) return prepareCompactJs(rule, groups);
    // The optimizer gives DeviceTensors only to the 'cuda' backend: here every slot is on the host.
    const host = groups as ReadonlyArray<ReadonlyArray<ReadonlyArray<Float32Array | null>>>;
    // Each group's scalars as views of the packed array (group after group), made once per array.
    let packed: Float32Array | null = null;
    let perGroup: Float32Array[] = [];
    const step = (scalars: Float32Array, flags: Uint32Array): void => {
      if (scalars !== packed) {
        packed = scalars;
        perGroup = host.map((_, g) => scalars.subarray(g * rule.scalarCount, (g + 1) * rule.scalarCount));
      }
      host.forEach((tensors, g) => {
        for (const slots of tensors) rule.update(perGroup[g], flags[g], slots, slots[0]!.length);
      });
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
  stepRows: stepRowsJs,
};
