import type { GradOptions } from './rules/grad';
import type { Rule, SlotOptions } from './rules/types';
import { type LearningRate, checkLearningRate } from './schedules';
import { type NumberRule, checkBoolean, checkKnownKeys, checkNumber, checkPlainObject } from './validate';

/** How one hyperparameter is checked. */
export type HyperSpec = { kind: 'number'; rule: NumberRule } | { kind: 'boolean' };

/** Hyperparameters every optimizer has. */
export interface BaseHyper {
  lr: number;
}

/** Hyperparameters as the user gives them: `lr` may be a schedule. */
export type Hyperparameters<H> = { [K in keyof H]: K extends 'lr' ? LearningRate : H[K] };

/** What an optimizer class tells the base: its name, rule, defaults and checks. */
export interface OptimizerSpec<H extends BaseHyper, R extends GradOptions> {
  name: string;
  rule: Rule<R>;
  /** lr undefined: the user must give one (SGD). */
  defaults: Omit<H, 'lr'> & { lr: number | undefined };
  hyper: { readonly [K in keyof H]: HyperSpec };
  /** The rule's options but lr and gradScale, from the hyperparameters (AdamW adds decoupled: true). */
  ruleOptions(h: Omit<H, 'lr'>): SlotOptions<R>;
  /** Row-sparse parameters (lib/sparse.ts): 'only' (SparseAdam), 'also' (AdaGrad, SGD); absent: refused. */
  sparse?: 'only' | 'also';
  /** Why these hyperparameters refuse sparse parameters, or null. */
  sparseProblem?(h: Hyperparameters<H>): string | null;
  /** Checks between options (SGD: nesterov needs momentum); throws naming `where`. */
  check?(h: Hyperparameters<H>, where: string): void;
}

/** Copies the hyperparameters `from` gives into `into`, each checked; absent ones are left as they are. */
export function checkHyper<H extends BaseHyper, R extends GradOptions>(
  spec: OptimizerSpec<H, R>,
  where: string,
  into: Hyperparameters<H>,
  from: Record<string, unknown>,
): Hyperparameters<H> {
  for (const key of Object.keys(spec.hyper) as Array<keyof H & string>) {
    if (from[key] === undefined) continue;
    const check = spec.hyper[key];
    const label = `${where} '${key}'`;
    (into as Record<string, unknown>)[key] =
      key === 'lr'
        ? checkLearningRate(label, from[key])
        : check.kind === 'number'
          ? checkNumber(label, from[key], check.rule)
          : checkBoolean(label, from[key]);
  }
  return into;
}

/** An options object (a group's, or a state dict's): known keys only, each value checked, then the cross-option check. */
export function applyOptions<H extends BaseHyper, R extends GradOptions>(
  spec: OptimizerSpec<H, R>,
  where: string,
  into: Hyperparameters<H>,
  raw: unknown,
): Hyperparameters<H> {
  const options = checkPlainObject(where, raw);
  checkKnownKeys(where, options, Object.keys(spec.hyper));
  const hyper = checkHyper(spec, where, into, options);
  spec.check?.(hyper, where);
  return hyper;
}

// One rule-options object per hyperparameters object, reused step after step: a group replaces its
// hyperparameters object on every change but lr's (assigned in place, and set on every step here).
const stepOptionsOf = new WeakMap<object, Record<string, unknown>>();

/** The options a rule's scalars() reads at a step: slotOptions with this step's lr and gradScale. */
export function stepOptions<H extends BaseHyper, R extends GradOptions>(
  spec: OptimizerSpec<H, R>,
  hyper: Hyperparameters<H>,
  lr: number,
  gradScale: number,
): R {
  let options = stepOptionsOf.get(hyper);
  if (!options) stepOptionsOf.set(hyper, (options = { ...slotOptions(spec, hyper) }));
  options.lr = lr;
  options.gradScale = gradScale;
  return options as unknown as R;
}

/** A group's hyperparameters as its rule's state sees them (no lr: that changes every step). */
export function slotOptions<H extends BaseHyper, R extends GradOptions>(spec: OptimizerSpec<H, R>, hyper: Hyperparameters<H>): SlotOptions<R> {
  const { lr: _lr, ...rest } = hyper;
  return spec.ruleOptions(rest as unknown as Omit<H, 'lr'>);
}
