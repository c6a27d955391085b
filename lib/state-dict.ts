import type { Backend } from './backends/types';
import { type StateArray, absmaxKey, readSlot, saveCompactSlot } from './compact/state-dict';
import { GROUP_STORAGE_KEYS, checkGroupStorage } from './compact/options';
import { CompactSlot, type StateDtype } from './compact/slot';
import { HalfTensor, halfStorage, noMasterReason } from './compact/half';
import type { Group } from './groups';
import type { GradOptions } from './rules/grad';
import { type BaseHyper, type Hyperparameters, type OptimizerSpec, applyOptions, slotOptions } from './spec';
import type { BuiltInSchedule } from './schedules';
import type { ShardInfo } from './distributed/shard';
import { neededSlots } from './state';
import { type Tensor, readTensor, writeTensor } from './tensor';
import { checkFloat32Array, checkKnownKeys, checkNumber, checkPlainObject, describe, lengthOf } from './validate';

export interface StateDict<H = Record<string, number | boolean>> {
  optimizer: string;
  step: number;
  /**
   * Per group, its parameters' names and its hyperparameters (a schedule is kept by reference);
   * `step`, the group's own step count, only for a group added after steps were taken;
   * `hostState`, float64 values the rule carries between steps (NAdam's `mu_product`), for rules that have them;
   * `stateDtype` and `masterWeights`, how the group stored its state when saved (a record: loading
   * converts the state to the loading optimizer's own storage).
   */
  groups: Array<{
    params: string[];
    options: Hyperparameters<H>;
    step?: number;
    lrState?: Record<string, number>;
    hostState?: Record<string, number>;
    stateDtype?: StateDtype;
    masterWeights?: boolean;
  }>;
  /**
   * Per parameter name, its state slots by PyTorch name (copies), each in its storage: a
   * Float32Array, a Uint16Array of bf16 bits, or a Uint8Array of int8 codes with `<slot>_absmax`.
   */
  state: Record<string, Record<string, StateArray>>;
  /** A sharded optimizer's: which slice `state` holds (lib/distributed). */
  shard?: ShardInfo;
}

/** The group's lr if it is a schedule with state (reduceOnPlateau), else null. */
function scheduleState(hyper: unknown): BuiltInSchedule | null {
  const lr = (hyper as { lr: unknown }).lr;
  if (typeof lr !== 'function') return null;
  const s = lr as Partial<BuiltInSchedule>;
  return typeof s.state === 'function' && typeof s.loadState === 'function' ? (s as BuiltInSchedule) : null;
}

/** The largest step count a dict may hold: the next step's t must still be an exact integer. */
const MAX_STEP = Number.MAX_SAFE_INTEGER - 1;

// Own data properties only: a parameter named "__proto__" is a key like any other.
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The optimizer's state as a dict of copies. */
export function saveStateDict<H>(name: string, step: number, groups: ReadonlyArray<Group<H>>): StateDict<H> {
  const state: StateDict<H>['state'] = {};
  for (const g of groups)
    for (const e of g.entries) {
      const slots: Record<string, StateArray> = {};
      for (const [slot, array] of e.state)
        if (array instanceof CompactSlot) for (const [key, a] of saveCompactSlot(slot, array)) define(slots, key, a);
        else define(slots, slot, readTensor(array));
      define(state, e.name, slots);
    }
  return { optimizer: name, step, groups: groups.map((g) => groupEntry(g, step)), state };
}

/** A group as a state dict (and a checkpoint) records it: everything but the tensors. */
export function groupEntry<H>(g: Group<H>, step: number): StateDict<H>['groups'][number] {
  const schedule = scheduleState(g.hyper);
  return {
    params: g.entries.map((e) => e.name),
    options: { ...g.hyper },
    ...(g.stepsBefore > 0 ? { step: step - g.stepsBefore } : {}),
    // A schedule that changes with what the caller reports (reduceOnPlateau): its state, a copy.
    ...(schedule ? { lrState: schedule.state!() } : {}),
    ...(Object.keys(g.host).length > 0 ? { hostState: { ...g.host } } : {}),
    stateDtype: g.stateDtype,
    masterWeights: g.masterWeights,
  };
}

/** A checked state dict, ready to apply: nothing of the user's is read again. */
export interface LoadedState<H> {
  step: number;
  hypers: Array<Hyperparameters<H>>;
  /** Per group, the optimizer's steps before the group's first. */
  stepsBefore: number[];
  /** Per group, the lr schedule's state to restore (already checked on a trial copy), or undefined. */
  lrStates: unknown[];
  /** Per group, the rule's host state (Rule.hostState). */
  hosts: Array<Record<string, number>>;
  /** Per group, per entry: each needed slot's values, in the storage the optimizer keeps it in. */
  slots: Array<Array<Map<string, Float32Array | CompactSlot>>>;
}

/** Checks everything in a state dict against the optimizer; throws naming the first problem. */
export function checkStateDict<H extends BaseHyper, R extends GradOptions>(
  spec: OptimizerSpec<H, R>,
  groups: ReadonlyArray<Group<H>>,
  sd: unknown,
  owner = `${spec.name}.loadStateDict`,
): LoadedState<H> {
  const dict = checkPlainObject(`${owner}: state dict`, sd);
  checkKnownKeys(`${owner}: state dict`, dict, ['optimizer', 'step', 'groups', 'state']);
  const optimizer = dict.optimizer;
  if (optimizer !== undefined && optimizer !== spec.name)
    throw new Error(`${owner}: the state dict is for ${describe(optimizer)}, not '${spec.name}'`);
  const step = checkNumber(`${owner}: step`, dict.step, { min: 0, integer: true });
  if (step > MAX_STEP) throw new RangeError(`${owner}: step must be <= ${MAX_STEP} (2^53 - 2), got ${step}`);
  const { hypers, stepsBefore, lrStates, hosts } = checkGroupsEntry(spec, owner, groups, dict.groups, step);
  const state = checkPlainObject(`${owner}: state`, dict.state);
  const names = new Set(groups.flatMap((g) => g.entries.map((e) => e.name)));
  for (const key of Object.keys(state))
    if (!names.has(key)) throw new Error(`${owner}: state has an entry "${key}" that matches no parameter`);
  const slots = groups.map((g, gi) => {
    const needed = neededSlots(spec.rule, slotOptions(spec, hypers[gi]));
    const { stateDtype } = g;
    return g.entries.map((e) => {
      if (!Object.hasOwn(state, e.name)) throw new Error(`${owner}: state has no entry for ${e.where}`);
      const at = `${owner}: state["${e.name}"]`;
      const given = checkPlainObject(at, state[e.name]);
      const master = e.state.has('master');
      if (!master && Object.hasOwn(given, 'master')) throw new TypeError(`${at}.master is given, but ${e.where} keeps no fp32 master (${noMasterReason(e.dtype)})`);
      checkKnownKeys(at, given, [...spec.rule.stateSlots, ...spec.rule.stateSlots.map(absmaxKey), ...(master ? ['master'] : [])]);
      const map = new Map<string, Float32Array | CompactSlot>();
      if (master) map.set('master', readMaster(`${at}.master`, given, e));
      for (const slot of needed) {
        const where = `${at}.${slot}`;
        const value = Object.hasOwn(given, slot) ? given[slot] : undefined;
        if (value === undefined) throw new Error(`${where} is missing`);
        if (!(value instanceof Float32Array) || stateDtype !== 'fp32' || Object.hasOwn(given, absmaxKey(slot))) {
          // Any storage, converted to this optimizer's (lib/compact/state-dict.ts); copies.
          const slotValues = { [slot]: value, ...(Object.hasOwn(given, absmaxKey(slot)) ? { [absmaxKey(slot)]: given[absmaxKey(slot)] } : {}) };
          map.set(slot, readSlot(where, slotValues, slot, e.length, stateDtype));
          continue;
        }
        const array = checkFloat32Array(where, value);
        const length = lengthOf(array);
        if (length !== e.length) throw new RangeError(`${where} has length ${length}, but ${e.where} has ${e.length}`);
        // A copy now: nothing the user can change (a getter, a detach) reaches the apply step.
        map.set(slot, new Float32Array(array));
      }
      return map;
    });
  });
  return { step, hypers, stepsBefore, lrStates, hosts, slots };
}

// A half-precision parameter's fp32 master (lib/compact/half.ts): the dict's (a copy of its bits),
// or, when the dict has none, the parameter's data widened exactly.
function readMaster(where: string, given: Record<string, unknown>, e: { length: number; dtype: string; data: unknown }): Float32Array {
  const value = Object.hasOwn(given, 'master') ? given.master : undefined;
  if (value === undefined) return new HalfTensor(halfStorage(e.dtype as 'bf16' | 'fp16'), e.data as Uint16Array).toFloat32();
  const array = checkFloat32Array(where, value);
  const length = lengthOf(array);
  if (length !== e.length) throw new RangeError(`${where} has length ${length}, but the parameter has ${e.length}`);
  const copy = new Float32Array(length);
  new Uint32Array(copy.buffer).set(new Uint32Array(array.buffer, array.byteOffset, length));
  return copy;
}

// The `groups` of a state dict: the same groups with the same parameters; returns each group's
// hyperparameters after applying the dict's (absent: unchanged).
function checkGroupsEntry<H extends BaseHyper, R extends GradOptions>(
  spec: OptimizerSpec<H, R>,
  owner: string,
  mine: ReadonlyArray<Group<H>>,
  groups: unknown,
  step: number,
): { hypers: Array<Hyperparameters<H>>; stepsBefore: number[]; lrStates: unknown[]; hosts: Array<Record<string, number>> } {
  const current = mine.map((g) => ({ ...g.hyper }));
  const stepsBefore = mine.map(() => 0);
  const lrStates: unknown[] = mine.map(() => undefined);
  if (groups === undefined) {
    const hosts = mine.map((_, i) => checkHostState(spec, `${owner}: groups[${i}].hostState`, undefined, step));
    return { hypers: current, stepsBefore, lrStates, hosts };
  }
  if (!Array.isArray(groups)) throw new TypeError(`${owner}: groups must be an array, got ${describe(groups)}`);
  const count = groups.length;
  if (count !== mine.length) throw new Error(`${owner}: the state dict has ${count} parameter groups, this optimizer ${mine.length}`);
  const hosts: Array<Record<string, number>> = [];
  const hypers = current.map((hyper, i) => {
    const at = `${owner}: groups[${i}]`;
    const group = checkPlainObject(at, groups[i]);
    checkKnownKeys(at, group, ['params', 'options', 'step', 'lrState', 'hostState', ...GROUP_STORAGE_KEYS]);
    // How the dict's state was stored: checked, not applied (the slots convert to this group's storage).
    checkGroupStorage(at, group, mine[i]);
    if (group.step !== undefined) {
      const own = checkNumber(`${at}.step`, group.step, { min: 0, integer: true });
      if (own > step) throw new RangeError(`${at}.step must be <= the optimizer's step (${step}), got ${own}`);
      stepsBefore[i] = step - own;
    }
    const theirs = group.params;
    if (theirs !== undefined) {
      const names = mine[i].entries.map((e) => e.name);
      if (!Array.isArray(theirs) || theirs.length !== names.length || theirs.some((n, k) => n !== names[k]))
        throw new Error(`${at}.params names other parameters (${listNames(theirs)}) than this group's (${listNames(names)})`);
    }
    const applied = applyOptions(spec, `${at}.options`, hyper, group.options ?? {});
    if (group.lrState !== undefined) {
      const schedule = scheduleState(applied);
      if (!schedule) throw new Error(`${at}.lrState is given, but the group's lr is not a schedule with state (reduceOnPlateau)`);
      // Checked now on the schedule itself, then put back: loading it again cannot throw.
      const saved = schedule.state!();
      try {
        schedule.loadState!(group.lrState);
      } catch (e) {
        const Kind = e instanceof RangeError ? RangeError : e instanceof TypeError ? TypeError : Error;
        throw new Kind(`${at}.lrState: ${(e as Error).message}`);
      } finally {
        if (saved) schedule.loadState!(saved);
      }
      lrStates[i] = group.lrState;
    }
    hosts.push(checkHostState(spec, `${at}.hostState`, group.hostState, step - stepsBefore[i]));
    return applied;
  });
  return { hypers, stepsBefore, lrStates, hosts };
}

// A group's host state (Rule.hostState): every name, each a finite number. Absent is allowed only
// before the group's first step (the starting values); a rule without host state takes none.
function checkHostState<H extends BaseHyper, R extends GradOptions>(
  spec: OptimizerSpec<H, R>,
  where: string,
  given: unknown,
  ownStep: number,
): Record<string, number> {
  const initial = spec.rule.hostState ?? {};
  const names = Object.keys(initial);
  if (given === undefined) {
    if (names.length > 0 && ownStep > 0)
      throw new Error(`${where} is missing: ${spec.name} carries ${names.join(', ')} from step to step (save it with stateDict())`);
    return { ...initial };
  }
  const host = checkPlainObject(where, given);
  checkKnownKeys(where, host, names);
  const out: Record<string, number> = {};
  for (const name of names) {
    if (!Object.hasOwn(host, name)) throw new Error(`${where}.${name} is missing`);
    out[name] = checkNumber(`${where}.${name}`, host[name]);
  }
  return out;
}

/** Up to 8 names, quoted, for a message. */
function listNames(v: unknown): string {
  if (!Array.isArray(v)) return describe(v);
  const shown = v.slice(0, 8).map((n) => (typeof n === 'string' ? JSON.stringify(n) : describe(n)));
  return `[${shown.join(', ')}${v.length > 8 ? `, ... ${v.length - 8} more` : ''}]`;
}

/**
 * Applies a checked state dict: every new slot is allocated before anything changes, then the
 * values are copied in and the slots the dict's options no longer need are dropped.
 */
export function applyStateDict<H>(loaded: LoadedState<H>, groups: ReadonlyArray<Group<H>>, backend: Backend): void {
  const fresh = groups.map((g, gi) =>
    g.entries.map((e, i) => {
      const made = new Map<string, Tensor>();
      for (const [slot, values] of loaded.slots[gi][i]) {
        const current = e.state.get(slot);
        if (!(values instanceof CompactSlot) && (current === undefined || current instanceof CompactSlot)) made.set(slot, backend.alloc(e.length));
      }
      return made;
    }),
  );
  groups.forEach((g, gi) => {
    g.hyper = loaded.hypers[gi];
    g.stepsBefore = loaded.stepsBefore[gi];
    g.host = { ...loaded.hosts[gi] };
    if (loaded.lrStates[gi] !== undefined) scheduleState(g.hyper)!.loadState!(loaded.lrStates[gi]);
    g.entries.forEach((e, i) => {
      const wanted = loaded.slots[gi][i];
      for (const slot of [...e.state.keys()]) if (!wanted.has(slot)) e.state.delete(slot);
      for (const [slot, values] of wanted) {
        if (values instanceof CompactSlot) {
          e.state.set(slot, values);
          continue;
        }
        const current = e.state.get(slot);
        const mine = current instanceof CompactSlot || current === undefined ? fresh[gi][i].get(slot)! : current;
        e.state.set(slot, mine);
        writeTensor(mine, values);
      }
    });
  });
}
