import type { Binding } from '../../binding';
import type { Executor, TensorGroups } from '../backends/types';
import type { Rule } from '../rules/types';
import { pinner } from '../pin';
import { type CompactSlots, stepCompactJs } from './driver';
import { HalfParamSlot, HalfTensor, type RoundingClock } from './half';
import { BLOCK, CompactSlot, Storage } from './slot';

type HostSlots = CompactSlots;

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
  // Half-precision parameters (native/kernels/stochastic.h): per tensor null or {index, mirror}.
  const halves: Array<{ index: number; mirror: Uint16Array | null } | null> = [];
  let clock: RoundingClock | null = null;
  for (const tensors of groups as ReadonlyArray<ReadonlyArray<HostSlots>>)
    for (const tensor of tensors) {
      const param = tensor[0];
      halves.push(param instanceof HalfParamSlot ? { index: param.index, mirror: param.master ? param.half.bits : null } : null);
      if (param instanceof HalfParamSlot) clock = param.clock;
      for (let k = 0; k < rule.slotNames.length; k++) {
        const x = tensor[k] ?? null;
        if (x instanceof HalfParamSlot) {
          arrays.push(x.master ?? x.half.bits);
          absmax.push(null);
          storages.push(x.master ? Storage.f32 : x.half.storage);
        } else if (x instanceof HalfTensor) {
          arrays.push(x.bits);
          absmax.push(null);
          storages.push(x.storage);
        } else {
          arrays.push(x instanceof CompactSlot ? x.codes : x);
          absmax.push(x instanceof CompactSlot ? x.absmax : null);
          storages.push(x instanceof CompactSlot ? x.storage : Storage.f32);
        }
      }
    }
  const half = clock ? { seed: clock.seed, params: halves } : null;
  const plan = new binding.CompactPlan(binding.rules[rule.name].id, arrays, Uint8Array.from(storages), absmax, groups.map((g) => g.length), isaIndex, threads, half);
  // The user's arrays to pin: a half parameter's bits (its master is the library's own memory).
  const raw = (x: unknown): unknown => (x instanceof HalfParamSlot ? x.half.bits : x instanceof HalfTensor ? x.bits : x);
  const pin = pinner((groups as ReadonlyArray<ReadonlyArray<HostSlots>>).map((tensors) => tensors.map((slots) => slots.map(raw))));
  if (!clock)
    return {
      step: (scalars, flags) => plan.step(scalars, flags),
      stepAsync: (scalars, flags) => (pin(), plan.stepAsync(scalars, flags)),
    };
  const c = clock;
  return {
    step: (scalars, flags) => plan.step(scalars, flags, c.step % 2 ** 32),
    stepAsync: (scalars, flags) => (pin(), plan.stepAsync(scalars, flags, c.step % 2 ** 32)),
  };
}
