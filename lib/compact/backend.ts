import type { Binding } from '../../binding';
import type { Executor, TensorGroups } from '../backends/types';
import type { Rule } from '../rules/types';
import { pinner } from '../pin';
import { stepCompactJs } from './driver';
import { BLOCK, CompactSlot, Storage } from './slot';

type HostSlots = ReadonlyArray<Float32Array | CompactSlot | null>;

/** The 'js' backend's executor when some slot is compact: lib/compact/driver.ts per tensor. */
export function prepareCompactJs(rule: Rule<never>, groups: TensorGroups): Executor {
  const host = groups as ReadonlyArray<ReadonlyArray<HostSlots>>;
  const scratch = rule.slotNames.map(() => new Float32Array(BLOCK));
  const step = (scalars: Float32Array, flags: Uint32Array): void => {
    host.forEach((tensors, g) => {
      const s = scalars.subarray(g * rule.scalarCount, (g + 1) * rule.scalarCount);
      for (const slots of tensors) stepCompactJs(rule, s, flags[g], slots, scratch);
    });
  };
  return { step, stepAsync: async (scalars, flags) => step(scalars, flags) };
}

/** The native backend's executor when some slot is compact: one CompactPlan for every group. */
export function prepareCompactNative(binding: Binding, rule: Rule<never>, groups: TensorGroups, isaIndex: number, threads: number): Executor {
  const arrays: Array<Float32Array | Uint16Array | Uint8Array | null> = [];
  const absmax: Array<Float32Array | null> = [];
  const storages: number[] = [];
  for (const tensors of groups as ReadonlyArray<ReadonlyArray<HostSlots>>)
    for (const tensor of tensors)
      for (let k = 0; k < rule.slotNames.length; k++) {
        const x = tensor[k] ?? null;
        arrays.push(x instanceof CompactSlot ? x.codes : x);
        absmax.push(x instanceof CompactSlot ? x.absmax : null);
        storages.push(x instanceof CompactSlot ? x.storage : Storage.f32);
      }
  const plan = new binding.CompactPlan(binding.rules[rule.name].id, arrays, Uint8Array.from(storages), absmax, groups.map((g) => g.length), isaIndex, threads);
  const pin = pinner(groups);
  return {
    step: (scalars, flags) => plan.step(scalars, flags),
    stepAsync: (scalars, flags) => (pin(), plan.stepAsync(scalars, flags)),
  };
}
