import type { Rule } from '../rules/types';
import { requiredState } from './required';
import { HalfParamSlot, HalfTensor } from './half';
import { BLOCK, CompactSlot } from './slot';

/**
 * A tensor's slots as the compact backends take them: param (float32, or a half-precision
 * parameter's HalfParamSlot), grad (float32 or HalfTensor), state (float32 or compact).
 */
export type CompactSlots = ReadonlyArray<Float32Array | CompactSlot | HalfParamSlot | HalfTensor | null>;

export const hasCompact = (groups: ReadonlyArray<ReadonlyArray<ReadonlyArray<unknown>>>): boolean =>
  groups.some((tensors) => tensors.some((slots) => slots.some((s) => s instanceof CompactSlot || s instanceof HalfParamSlot || s instanceof HalfTensor)));

/**
 * The 'js' mirror of native/kernels/compact.h: per block of BLOCK elements, each compact slot the
 * rule uses is widened into float32 scratch (float32 slots are used in place through a view), the
 * unchanged rule updates the block, and the compact slots are narrowed back. A half-precision
 * parameter (native/kernels/stochastic.h): the rule runs on its master in place, then the half
 * copy is written from it; or on its widened bits, written back by stochastic rounding.
 */
export function stepCompactJs(rule: Rule<never>, scalars: Float32Array, flags: number, slots: CompactSlots, scratch: Float32Array[]): void {
  const param = slots[0] instanceof HalfParamSlot ? slots[0] : null;
  const key = param && !param.master ? param.key : 0;
  const n = (param ? param.half : (slots[0] as Float32Array)).length;
  const used = slots.map((s, k) => s !== null && (k < 2 || requiredState(rule.name, flags, rule.slotNames[k])));
  const view: Array<Float32Array | null> = slots.map(() => null);
  for (let at = 0; at < n; at += BLOCK) {
    const len = Math.min(BLOCK, n - at);
    slots.forEach((s, k) => {
      if (!used[k]) view[k] = null;
      else if (s instanceof HalfParamSlot) {
        if (s.master) view[k] = s.master.subarray(at, at + len);
        else {
          s.half.widen(at, len, scratch[k]);
          view[k] = scratch[k];
        }
      } else if (s instanceof CompactSlot || s instanceof HalfTensor) {
        s.widen(at, len, scratch[k]);
        view[k] = scratch[k];
      } else view[k] = (s as Float32Array).subarray(at, at + len);
    });
    rule.update(scalars, flags, view, len);
    if (param) {
      if (param.master) param.half.narrow(at, len, view[0]!);
      else param.half.narrowStochastic(at, len, scratch[0], key);
    }
    slots.forEach((s, k) => {
      if (used[k] && s instanceof CompactSlot) s.narrow(at, len, scratch[k]);
    });
  }
}
