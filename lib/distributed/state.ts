import type { StateDict } from '../state-dict';
import { checkFloat32Array, checkPlainObject, describe } from '../validate';
import type { Comm } from './comm';
import { pieceOf, slicePlan } from './plan';
import type { Shard, ShardInfo } from './shard';

/**
 * A state dict for this rank's local optimizer: a sharded one (its `shard` must describe this very
 * slice: same world size, rank and parameter lengths), or a full one, of which each slot's slice
 * is taken. Checks only what the sharding adds; loadStateDict checks the rest.
 */
export function localStateDict(owner: string, shard: Shard, sd: unknown): unknown {
  const dict = checkPlainObject(`${owner}: state dict`, sd);
  const { shard: given, ...rest } = dict;
  const mine = shard.info();
  if (given !== undefined) {
    const info = checkPlainObject(`${owner}: shard`, given) as Partial<ShardInfo>;
    for (const key of ['worldSize', 'rank', 'start', 'end'] as const)
      if (info[key] !== mine[key])
        throw new Error(`${owner}: the state dict holds the slice of rank ${describe(info.rank)} of ${describe(info.worldSize)} ([${describe(info.start)}, ${describe(info.end)})); this is rank ${mine.rank} of ${mine.worldSize} ([${mine.start}, ${mine.end})). Load a full state dict (comm.gatherStateDict) to change the world size`);
    if (JSON.stringify(info.lengths) !== JSON.stringify(mine.lengths)) throw new Error(`${owner}: shard.lengths differ from this optimizer's parameter lengths`);
    return rest;
  }
  const state = checkPlainObject(`${owner}: state`, dict.state);
  const names = shard.names();
  const sliced: Record<string, Record<string, Float32Array>> = {};
  for (const [name, slots] of Object.entries(state)) {
    const i = names.indexOf(name);
    const value = i < 0 ? slots : sliceSlots(`${owner}: state["${name}"]`, checkPlainObject(`${owner}: state["${name}"]`, slots), shard.plan.lengths[i], pieceOf(shard.plan, mine.rank, i));
    Object.defineProperty(sliced, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return { ...rest, state: sliced };
}

function sliceSlots(at: string, slots: Record<string, unknown>, length: number, piece: { from: number; to: number }): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [slot, v] of Object.entries(slots)) {
    const a = checkFloat32Array(`${at}.${slot}`, v);
    if (a.length !== length) throw new RangeError(`${at}.${slot} has length ${a.length}, but the parameter has ${length} (a full state dict holds whole parameters)`);
    Object.defineProperty(out, slot, { value: a.subarray(piece.from, piece.to), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * comm.gatherStateDict: every rank's sharded state dict to rank 0, rebuilt there into the full one
 * (null on the other ranks). A collective: every rank calls it.
 */
export function gatherStateDict<H>(comm: Comm, sd: StateDict<H> & { shard?: ShardInfo }): StateDict<H> | null {
  const owner = 'comm.gatherStateDict';
  const info = sd.shard;
  if (!info) throw new Error(`${owner}: the optimizer is not sharded (give it shard: comm); its stateDict() is already full`);
  if (info.worldSize !== comm.size || info.rank !== comm.rank) throw new Error(`${owner}: the optimizer is sharded over another communicator`);
  const names = sd.groups.flatMap((g) => g.params);
  const slotsOf = (name: string) => Object.keys(sd.state[name]);
  const parts = names.flatMap((name) => slotsOf(name).map((slot) => sd.state[name][slot]));
  const local = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) local.set(p, (at += p.length) - p.length);
  const all = comm.binding.gather(local);
  if (all === null) return null;
  const plan = slicePlan(info.lengths, comm.size);
  const state: StateDict<H>['state'] = {};
  names.forEach((name, i) => {
    const slots: Record<string, Float32Array> = {};
    for (const slot of slotsOf(name)) slots[slot] = new Float32Array(info.lengths[i]);
    Object.defineProperty(state, name, { value: slots, enumerable: true, writable: true, configurable: true });
  });
  at = 0;
  for (let r = 0; r < comm.size; r++)
    names.forEach((name, i) => {
      const { from, to } = pieceOf(plan, r, i);
      for (const slot of slotsOf(name)) {
        state[name][slot].set(all.subarray(at, at + to - from), from);
        at += to - from;
      }
    });
  if (at !== all.length) throw new Error(`${owner}: the ranks hold different state slots (rank 0 expected ${at} values, got ${all.length})`);
  const { shard: _, ...full } = sd;
  return { ...full, state };
}
