import { type AnyParam, type Entry, checkParamLists, isGroupList } from './params';
import type { GradOptions } from './rules/grad';
import { type LearningRate, checkLearningRate } from './schedules';
import { type BaseHyper, type Hyperparameters, type OptimizerSpec, checkHyper } from './spec';
import { checkKnownKeys, checkPlainObject } from './validate';

/** A parameter group: its parameters, and any hyperparameters that differ from the defaults. */
export type ParamGroupInit<H> = Partial<Hyperparameters<H>> & { params: readonly AnyParam[] };

/** A group as `opt.paramGroups` shows it; `lr` (a number or a schedule) may be set at any time. */
export interface ParamGroup<H> {
  readonly params: readonly AnyParam[];
  lr: LearningRate;
  /** This group's hyperparameters (a copy). */
  readonly options: Hyperparameters<H>;
}

/** One group as the optimizer keeps it. */
export interface Group<H> {
  /** How messages name this group's lr: `lr`, or `paramGroups[1].lr`. */
  lrWhere: string;
  hyper: Hyperparameters<H>;
  entries: Entry[];
  /** This group's per-step scalars: a view into the optimizer's packed array. */
  scalars: Float32Array;
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
): Array<{ lrWhere: string; hyper: Hyperparameters<H>; entries: Entry[] }> {
  const owner = spec.name;
  const grouped = isGroupList(owner, params);
  const inits: Array<Record<string, unknown>> = grouped
    ? (params as readonly unknown[]).map((g, i) => {
        const group = checkPlainObject(`${owner}: paramGroups[${i}]`, g);
        checkKnownKeys(`${owner}: paramGroups[${i}]`, group, ['params', ...Object.keys(spec.hyper)]);
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
  const prefixes = grouped ? inits.map((_, i) => `paramGroups[${i}].params`) : ['params'];
  const entries = checkParamLists(owner, inits.map((g) => g.params), prefixes);
  return hypers.map((hyper, i) => ({ lrWhere: grouped ? `paramGroups[${i}].lr` : 'lr', hyper, entries: entries[i] }));
}

/** A group with its user-facing view (params frozen, lr settable through the checks). */
export function makeGroup<H>(
  owner: string,
  init: { lrWhere: string; hyper: Hyperparameters<H>; entries: Entry[] },
  scalars: Float32Array,
): Group<H> {
  const group = { ...init, scalars } as Group<H>;
  group.view = Object.freeze({
    params: Object.freeze(init.entries.map((e) => e.param)),
    get lr(): LearningRate {
      return (group.hyper as { lr: LearningRate }).lr;
    },
    set lr(value: LearningRate) {
      (group.hyper as { lr: LearningRate }).lr = checkLearningRate(`${owner}: ${init.lrWhere}`, value);
    },
    get options(): Hyperparameters<H> {
      return { ...group.hyper };
    },
  });
  return group;
}
