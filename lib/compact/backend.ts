import type { Binding } from '../../binding';
import type { Executor, TensorGroups } from '../backends/types';
import type { Rule } from '../rules/types';
import { pinner } from '../pin';
import { type CompactSlots, stepCompactJs } from './driver';
import { HalfParamSlot, HalfTensor, type RoundingClock } from './half';
import type { Tensor } from '../tensor';
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

/** A compact plan's arguments (native/compact_plan.cc, native/cuda_addon.cc), built once from the groups. */
export interface CompactPlanArgs<W> {
  arrays: Array<W | Uint16Array | Uint8Array | null>;
  storages: Uint8Array;
  absmax: Array<Float32Array | null>;
  /** Half-precision parameters (native/kernels/stochastic.h): per tensor null or {index, mirror}; null when none. */
  half: { seed: number; params: Array<{ index: number; mirror: Uint16Array | null } | null> } | null;
  /** The rounding clock when some parameter rounds stochastically or keeps a master. */
  clock: RoundingClock | null;
  /** Pins the user's arrays (a half parameter's bits; its master is the library's own memory). */
  pin: () => void;
}

/** The plan arguments of `groups`; `wide` maps a float32 slot (host array or, for 'cuda', a DeviceTensor) to what the plan takes. */
export function compactPlanArgs<W>(rule: Rule<never>, groups: TensorGroups, wide: (x: Tensor, where: string) => W): CompactPlanArgs<W> {
  const arrays: Array<W | Uint16Array | Uint8Array | null> = [];
  const absmax: Array<Float32Array | null> = [];
  const storages: number[] = [];
  const halves: Array<{ index: number; mirror: Uint16Array | null } | null> = [];
  let clock: RoundingClock | null = null;
  for (const tensors of groups as ReadonlyArray<ReadonlyArray<HostSlots>>)
    tensors.forEach((tensor, t) => {
      const param = tensor[0];
      halves.push(param instanceof HalfParamSlot ? { index: param.index, mirror: param.master ? param.half.bits : null } : null);
      if (param instanceof HalfParamSlot) clock = param.clock;
      for (let k = 0; k < rule.slotNames.length; k++) {
        const x = tensor[k] ?? null;
        if (x instanceof HalfParamSlot) {
          arrays.push(x.master ? wide(x.master, `tensor ${t} slot ${k}`) : x.half.bits);
          absmax.push(null);
          storages.push(x.master ? Storage.f32 : x.half.storage);
        } else if (x instanceof HalfTensor) {
          arrays.push(x.bits);
          absmax.push(null);
          storages.push(x.storage);
        } else if (x instanceof CompactSlot) {
          arrays.push(x.codes);
          absmax.push(x.absmax);
          storages.push(x.storage);
        } else {
          arrays.push(x === null ? null : wide(x, `tensor ${t} slot ${k}`));
          absmax.push(null);
          storages.push(Storage.f32);
        }
      }
    });
  const raw = (x: unknown): unknown => (x instanceof HalfParamSlot ? x.half.bits : x instanceof HalfTensor ? x.bits : x);
  const pin = pinner((groups as ReadonlyArray<ReadonlyArray<HostSlots>>).map((tensors) => tensors.map((slots) => slots.map(raw))));
  const c = clock as RoundingClock | null;
  return { arrays, storages: Uint8Array.from(storages), absmax, half: c ? { seed: c.seed, params: halves } : null, clock: c, pin };
}

/** Steps a compact plan: with half-precision parameters, keyed by the step being taken (mod 2^32). */
export function compactExecutor(
  plan: { step(s: Float32Array, f: Uint32Array, step?: number): void; stepAsync(s: Float32Array, f: Uint32Array, step?: number): Promise<void> },
  args: CompactPlanArgs<unknown>,
): Executor {
  const { clock: c, pin } = args;
  if (!c)
    return {
      step: (scalars, flags) => plan.step(scalars, flags),
      stepAsync: (scalars, flags) => (pin(), plan.stepAsync(scalars, flags)),
    };
  return {
    step: (scalars, flags) => plan.step(scalars, flags, c.step % 2 ** 32),
    stepAsync: (scalars, flags) => (pin(), plan.stepAsync(scalars, flags, c.step % 2 ** 32)),
  };
}

/** The native backend's executor when some slot is compact: one CompactPlan for every group. */
export function prepareCompactNative(binding: Binding, rule: Rule<never>, groups: TensorGroups, isaIndex: number, threads: number): Executor {
  const args = compactPlanArgs(rule, groups, (x) => x as Float32Array);
  const plan = new binding.CompactPlan(binding.rules[rule.name].id, args.arrays, args.storages, args.absmax, groups.map((g) => g.length), isaIndex, threads, args.half);
  return compactExecutor(plan, args);
}
