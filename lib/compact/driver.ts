import type { Rule } from '../rules/types';
import { requiredState } from './required';
import { BLOCK, CompactSlot } from './slot';

/** A tensor's slots as the compact backends take them: param, grad, state (float32 or compact). */
export type CompactSlots = ReadonlyArray<Float32Array | CompactSlot | null>;

export const hasCompact = (groups: ReadonlyArray<ReadonlyArray<ReadonlyArray<unknown>>>): boolean =>
  groups.some((tensors) => tensors.some((slots) => slots.some((s) => s instanceof CompactSlot)));

/**
 * The 'js' mirror of native/kernels/compact.h: per block of BLOCK elements, each compact slot the
 * rule uses is widened into float32 scratch (float32 slots are used in place through a view), the
 * unchanged rule updates the block, and the compact slots are narrowed back.
 */
export function stepCompactJs(rule: Rule<never>, scalars: Float32Array, flags: number, slots: CompactSlots, scratch: Float32Array[]): void {
  const n = (slots[0] as Float32Array).length;
  const used = slots.map((s, k) => s !== null && (k < 2 || requiredState(rule.name, flags, rule.slotNames[k])));
  const view: Array<Float32Array | null> = slots.map(() => null);
  for (let at = 0; at < n; at += BLOCK) {
    const len = Math.min(BLOCK, n - at);
    slots.forEach((s, k) => {
      if (!used[k]) view[k] = null;
      else if (s instanceof CompactSlot) {
        s.widen(at, len, scratch[k]);
        view[k] = scratch[k];
      } else view[k] = s!.subarray(at, at + len);
    });
    rule.update(scalars, flags, view, len);
    slots.forEach((s, k) => {
      if (used[k] && s instanceof CompactSlot) s.narrow(at, len, scratch[k]);
    });
  }
}
