import type { Rule } from './rules/types';
import type { Tensor } from './tensor';

/** Elements per block of the dry run: small enough to stay in L1 with every slot. */
const BLOCK = 1024;

/**
 * Whether a step would leave every param and state value finite: the rule's TypeScript update
 * (the same bits as every backend) run block by block on copies, nothing of the optimizer's written.
 * `groups[g]` lists group g's tensors as the backends see them (param, grad, state slots).
 */
export function updateStaysFinite(
  rule: Rule<never>,
  groups: ReadonlyArray<ReadonlyArray<ReadonlyArray<Tensor | null>>>,
  scalars: Float32Array,
  flags: Uint32Array,
): boolean {
  const count = 2 + rule.stateSlots.length;
  const scratch = Array.from({ length: count }, () => new Float32Array(BLOCK));
  for (let g = 0; g < groups.length; g++) {
    const s = scalars.subarray(g * rule.scalarCount, (g + 1) * rule.scalarCount);
    for (const tensors of groups[g]) {
      const host = tensors as ReadonlyArray<Float32Array | null>;
      const slots = host.map((t, k) => (t ? scratch[k] : null));
      const n = host[0]!.length;
      for (let start = 0; start < n; start += BLOCK) {
        const len = Math.min(BLOCK, n - start);
        host.forEach((t, k) => t && scratch[k].set(t.subarray(start, start + len)));
        rule.update(s, flags[g], slots, len);
        for (let k = 0; k < count; k++) {
          if (k === 1 || !slots[k]) continue;
          const out = scratch[k];
          for (let i = 0; i < len; i++) if (out[i] - out[i] !== 0) return false; // NaN or ±Inf
        }
      }
    }
  }
  return true;
}
