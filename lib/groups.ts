import { GROUP_STORAGE_KEYS, type GroupStorage, checkGroupStorage } from './compact/options';
import { type AnyParam, type Entry, checkParamLists, isGroupList } from './params';
import type { GradOptions } from './rules/grad';
import { type BaseHyper, type Hyperparameters, type OptimizerSpec, checkHyper } from './spec';
import { checkKnownKeys, checkPlainObject } from './validate';

/**
 * A parameter group: its parameters, and any hyperparameters or storage options (`stateDtype`,
 * `masterWeights`) that differ from the optimizer's.
 */
export type ParamGroupInit<H> = Partial<Hyperparameters<H>> & Partial<GroupStorage> & { params: readonly AnyParam[] };

/**
 * A group as `opt.paramGroups` shows it: every hyperparameter is a property that may be set at any
 * time (checked; applied from the next step), `lr` a number or a schedule.
 */
export type ParamGroup<H> = Hyperparameters<H> & {
  readonly params: readonly AnyParam[];
  /** How the group's state is stored, and whether its half-precision parameters keep a master: fixed at creation. */
  readonly stateDtype: GroupStorage['stateDtype'];
  readonly masterWeights: boolean;
  /** This group's hyperparameters (a copy). */
  readonly options: Hyperparameters<H>;
};

/** One group as the optimizer keeps it. */
export interface Group<H> extends GroupStorage {
  /** How messages name this group's lr: `lr`, or `paramGroups[1].lr`. */
  lrWhere: string;
  /**
   * Steps the optimizer had taken when this group was added (addParamGroup): its state counts its
   * own steps (PyTorch's per-parameter `step`), t - stepsBefore; schedules see the optimizer's t.
   */
  stepsBefore: number;
  hyper: Hyperparameters<H>;
  entries: Entry[];
  /** This group's per-step scalars: a view into the optimizer's packed array. */
  scalars: Float32Array;
  /** The rule's host state after this group's last step (Rule.hostState; empty for most rules). */
  host: Record<string, number>;
  /** The host state after the step being prepared: becomes `host` once that step is taken. */
  nextHost?: Record<string, number>;
  view: ParamGroup<H>;
}

/**
 * The constructor's `params` (a parameter list, or a list of groups), checked against the spec:
 * each group's hyperparameters (the defaults, then the group's own) and checked entries.
 */
export function checkGroups<H extends BaseHyper, R extends GradOptions>(
  spec: OptimizerSpec<H, R>,
  params: unknown,
  defaults: Hyperparameters<H>,
  storage: GroupStorage,
): Array<{ lrWhere: string; hyper: Hyperparameters<H>; entries: Entry[]; storage: GroupStorage }> {
  const owner = spec.name;
  const grouped = isGroupList(owner, params);
  const inits: Array<Record<string, unknown>> = grouped
    ? (params as readonly unknown[]).map((g, i) => {
        const group = checkPlainObject(`${owner}: paramGroups[${i}]`, g);
        checkKnownKeys(`${owner}: paramGroups[${i}]`, group, ['params', ...Object.keys(spec.hyper), ...GROUP_STORAGE_KEYS]);
        return group;
      })
    : [{ params }];
  const hypers = inits.map((init, i) => {
    const where = grouped ? `${owner}: paramGroups[${i}] option` : `${owner}: option`;
    const hyper = checkHyper(spec, where, { ...defaults }, init);
    if (hyper.lr === undefined) throw new TypeError(`${where} 'lr' is required (a number or a schedule)`);
    spec.check?.(hyper, where);
    return hyper;
  });
  const storages = inits.map((init, i) => (grouped ? checkGroupStorage(`${owner}: paramGroups[${i}] option`, init, storage) : storage));
  const prefixes = grouped ? inits.map((_, i) => `paramGroups[${i}].params`) : ['params'];
  const entries = checkParamLists(owner, inits.map((g) => g.params), prefixes);
  return hypers.map((hyper, i) => ({ lrWhere: grouped ? `paramGroups[${i}].lr` : 'lr', hyper, entries: entries[i], storage: storages[i] }));
}

/**
 * A group with its user-facing view: params frozen, each hyperparameter an accessor whose setter is
 * `set` (the optimizer checks, allocates any state the new value needs, then assigns); the storage
 * options read-only (changing them would convert the state: stateDict() into a new optimizer does).
 */
export function makeGroup<H>(
  init: { lrWhere: string; hyper: Hyperparameters<H>; entries: Entry[]; stepsBefore?: number; host: Record<string, number> } & GroupStorage,
  scalars: Float32Array,
  keys: readonly string[],
  set: (group: Group<H>, key: string, value: unknown) => void,
): Group<H> {
  const group = { stepsBefore: 0, ...init, scalars } as Group<H>;
  const hyper = () => group.hyper as Record<string, unknown>;
  const view: Record<string, unknown> = { params: Object.freeze(init.entries.map((e) => e.param)) };
  Object.defineProperty(view, 'options', { enumerable: true, get: () => ({ ...group.hyper }) });
  for (const key of keys)
    Object.defineProperty(view, key, { enumerable: true, get: () => hyper()[key], set: (value: unknown) => set(group, key, value) });
  for (const key of GROUP_STORAGE_KEYS)
    Object.defineProperty(view, key, {
      enumerable: true,
      get: () => group[key],
      set: () => {
        throw new TypeError(`${key} of a parameter group is fixed when the group is made; to change it, load this optimizer's stateDict() into a new one (loadStateDict converts the state)`);
      },
    });
  group.view = Object.freeze(view) as unknown as ParamGroup<H>;
  return group;
}
