import type { Backend } from './backends/types';
import { CompactSlot, Storage, type StateDtype, storageFor } from './compact/slot';
import type { Entry } from './params';
import type { GradOptions } from './rules/grad';
import type { Rule, SlotOptions } from './rules/types';
import { releaseFloat32 } from './memory';
import { fillTensor } from './tensor';

/** The state slots a group with these hyperparameters needs, in the rule's slot order. */
export function neededSlots<R extends GradOptions>(rule: Rule<R>, hyper: SlotOptions<R>): string[] {
  return rule.stateSlots.filter((slot) => rule.needsSlot(slot, hyper));
}

/**
 * Allocates the slots the hyperparameters need that the entries lack: per slot, all entries at
 * once (one arena on the host backends, so many small tensors stream contiguously); under a compact `stateDtype` the slots of that storage
 * (lib/compact/slot.ts storageFor) are CompactSlots instead. Everything is allocated before any
 * entry changes. Returns whether anything was added.
 */
export function allocState<R extends GradOptions>(
  rule: Rule<R>,
  hyper: SlotOptions<R>,
  entries: readonly Entry[],
  backend: Backend,
  stateDtype: StateDtype = 'fp32',
): boolean {
  const added: Array<() => void> = [];
  for (const slot of neededSlots(rule, hyper)) {
    const initial = rule.initialValue?.(slot, hyper) ?? 0;
    const missing = entries.filter((e) => !e.state.has(slot));
    if (missing.length === 0) continue;
    const wide = missing.filter((e) => storageFor(slot, stateDtype, e.length) === Storage.f32);
    const lengths = wide.map((e) => e.length);
    const arrays = lengths.length === 0 ? [] : (backend.allocMany?.(lengths) ?? lengths.map((n) => backend.alloc(n)));
    if (initial !== 0) for (const a of arrays) fillTensor(a, initial);
    const compact = missing
      .filter((e) => !wide.includes(e))
      .map((e) => {
        const s = new CompactSlot(storageFor(slot, stateDtype, e.length) as CompactSlot['storage'], e.length);
        if (initial !== 0) s.fill(initial);
        return [e, s] as const;
      });
    added.push(() => {
      wide.forEach((e, i) => e.state.set(slot, arrays[i]));
      for (const [e, s] of compact) e.state.set(slot, s);
    });
  }
  for (const add of added) add();
  return added.length > 0;
}

/**
 * Frees the entries' state now and empties it: GPU tensors, and native arenas and compact slots'
 * memory (each distinct buffer once; lib/memory.ts). Plain JavaScript arrays (absmax) are left to
 * the garbage collector.
 */
export function freeState(entries: readonly Entry[]): void {
  const buffers = new Map<ArrayBufferLike, Float32Array>();
  for (const e of entries) {
    for (const t of e.state.values()) {
      const array = t instanceof CompactSlot ? t.memory : t;
      if (array instanceof Float32Array) {
        if (!buffers.has(array.buffer)) buffers.set(array.buffer, array);
      } else if (!array.freed) array.free();
    }
    e.state.clear();
  }
  for (const array of buffers.values()) releaseFloat32(array);
}
