import { type BackendOption, checkBackendOptions, selectBackend } from './backends';
import type { IsaOption } from './backends/native';
import type { Backend, Executor } from './backends/types';
import { type Entry, type Param, checkParamLists, isGroupList } from './params';
import type { GradOptions } from './rules/grad';
import type { Rule } from './rules/types';
import { type LearningRate, checkLearningRate, learningRateAt } from './schedules';
import { type Tensor, fillTensor, readTensor, tensorProblem, writeTensor, zeroTensor } from './tensor';
import {
  type NumberRule,
  checkBoolean,
  checkFloat32Array,
  checkKnownKeys,
  checkNumber,
  checkPlainObject,
  describe,
} from './validate';

export type { Param } from './params';

/** Options every optimizer takes besides its hyperparameters. */
export interface BackendOptions {
  /**
   * 'auto' (default): 'cuda' for params on the GPU, else native when the addon loads, else
   * TypeScript with one warning. 'cuda' with Float32Array params: host-mirror mode (the device
   * keeps params and state; each step uploads the grads and downloads the params).
   */
  backend?: BackendOption;
  /** 'auto' (default: ADAM_NATIVE_ISA, else the best the CPU has), or a specific ISA. */
  isa?: IsaOption;
  /** Threads for the native step (default: os.availableParallelism()). Results never depend on it. */
  threads?: number;
}

/** Gradient hygiene, for the whole optimizer (not per group). */
export interface TrainingOptions {
  /** Check every grad before a step; if any is NaN or ±Inf, change nothing and return false. */
  skipNonFinite?: boolean;
  /** Loss scale: grads are divided by it inside the update (default 1: left as they are). */
  gradScale?: number;
}

/** How one hyperparameter is checked. */
export type HyperSpec = { kind: 'number'; rule: NumberRule } | { kind: 'boolean' };

/** Hyperparameters every optimizer has. */
export interface BaseHyper {
  lr: number;
}

/** Hyperparameters as the user gives them: `lr` may be a schedule. */
export type Hyperparameters<H> = { [K in keyof H]: K extends 'lr' ? LearningRate : H[K] };

/** A parameter group: its parameters, and any hyperparameters that differ from the defaults. */
export type ParamGroupInit<H> = Partial<Hyperparameters<H>> & { params: readonly Param[] };

/** Constructor options: default hyperparameters for every group, backend and training options. */
export type OptimizerOptions<H> = Partial<Hyperparameters<H>> & BackendOptions & TrainingOptions;

/** A group as `opt.paramGroups` shows it; `lr` (a number or a schedule) may be set at any time. */
export interface ParamGroup<H> {
  readonly params: readonly Param[];
  lr: LearningRate;
  /** This group's hyperparameters (a copy). */
  readonly options: Hyperparameters<H>;
}

/** What an optimizer class tells the base: its name, rule, defaults and checks. */
export interface OptimizerSpec<H extends BaseHyper, R extends GradOptions> {
  name: string;
  rule: Rule<R>;
  /** lr undefined: the user must give one (SGD). */
  defaults: Omit<H, 'lr'> & { lr: number | undefined };
  hyper: { readonly [K in keyof H]: HyperSpec };
  /** The rule's options from the hyperparameters (e.g. AdamW adds decoupled: true). */
  ruleOptions(h: H): Omit<R, 'gradScale'>;
  /** Checks between options (SGD: nesterov needs momentum); throws naming `where`. */
  check?(h: Hyperparameters<H>, where: string): void;
}

export interface StateDict<H = Record<string, number | boolean>> {
  optimizer: string;
  step: number;
  /**
   * Per group, its parameters' names and its hyperparameters (a schedule is kept by reference).
   * loadStateDict also takes `options` in its place (applied to every group), as dicts had before.
   */
  groups: Array<{ params: string[]; options: Hyperparameters<H> }>;
  /** Per parameter name, its state slots by PyTorch name (copies). */
  state: Record<string, Record<string, Float32Array>>;
}

interface Group<H> {
  /** How messages name this group's lr: `lr`, or `paramGroups[1].lr`. */
  lrWhere: string;
  hyper: Hyperparameters<H>;
  entries: Entry[];
  /** This group's per-step scalars: a view into the optimizer's packed array. */
  scalars: Float32Array;
  view: ParamGroup<H>;
}

const BACKEND_KEYS = ['backend', 'isa', 'threads'] as const;
const TRAINING_KEYS = ['skipNonFinite', 'gradScale'] as const;

function checkGradScale(where: string, v: unknown): number {
  const scale = checkNumber(where, v, { min: 0 });
  if (scale === 0) throw new RangeError(`${where} must be > 0, got 0`);
  return scale;
}

/**
 * The shared machinery of every optimizer: checks before anything changes, owns the state, computes
 * the per-step scalars once on the host and hands every tensor, of every group, to the backend in
 * one call.
 */
export abstract class Optimizer<H extends BaseHyper, R extends GradOptions = GradOptions> {
  readonly #spec: OptimizerSpec<H, R>;
  readonly #backend: Backend;
  readonly #groups: Array<Group<H>>;
  /** Every group's scalars, group after group, and flags: what a step hands the backend. */
  readonly #scalars: Float32Array;
  readonly #flags: Uint32Array;
  #executor: Executor | null = null;
  readonly #grads: Tensor[];
  #step = 0;
  #busy = false;
  #skipNonFinite: boolean;
  #gradScale: number;

  protected constructor(spec: OptimizerSpec<H, R>, params: readonly Param[] | ReadonlyArray<ParamGroupInit<H>>, options: unknown) {
    this.#spec = spec;
    const owner = spec.name;
    const opts = checkPlainObject(`${owner}: options`, options ?? {});
    checkKnownKeys(owner, opts, [...Object.keys(spec.hyper), ...BACKEND_KEYS, ...TRAINING_KEYS]);
    const defaults = this.#checkHyper(`${owner}: option`, { ...spec.defaults } as unknown as Hyperparameters<H>, opts);
    const { backend, isa, threads } = checkBackendOptions(owner, opts);
    this.#skipNonFinite = opts.skipNonFinite === undefined ? false : checkBoolean(`${owner}: option 'skipNonFinite'`, opts.skipNonFinite);
    this.#gradScale = opts.gradScale === undefined ? 1 : checkGradScale(`${owner}: option 'gradScale'`, opts.gradScale);

    const grouped = isGroupList(owner, params);
    const inits: Array<Record<string, unknown>> = grouped
      ? (params as readonly unknown[]).map((g, i) => {
          const group = checkPlainObject(`${owner}: paramGroups[${i}]`, g);
          checkKnownKeys(`${owner}: paramGroups[${i}]`, group, ['params', ...Object.keys(spec.hyper)]);
          return group;
        })
      : [{ params }];
    const prefixes = grouped ? inits.map((_, i) => `paramGroups[${i}].params`) : ['params'];
    const hypers = inits.map((init, i) => {
      const where = grouped ? `${owner}: paramGroups[${i}] option` : `${owner}: option`;
      const hyper = this.#checkHyper(where, { ...defaults }, init);
      if (hyper.lr === undefined) throw new TypeError(`${where} 'lr' is required (a number or a schedule)`);
      spec.check?.(hyper, where);
      return hyper;
    });
    const entries = checkParamLists(owner, inits.map((g) => g.params), prefixes);

    const onDevice = entries.flat().find((e) => !(e.data instanceof Float32Array));
    this.#backend = selectBackend(owner, backend, isa, threads, onDevice ? onDevice.where : null);
    const perGroup = spec.rule.scalarCount;
    this.#scalars = new Float32Array(perGroup * hypers.length);
    this.#flags = new Uint32Array(hypers.length);
    this.#groups = hypers.map((hyper, i) =>
      this.#makeGroup(grouped ? `paramGroups[${i}].lr` : 'lr', hyper, entries[i], this.#scalars.subarray(i * perGroup, (i + 1) * perGroup)),
    );
    this.#grads = entries.flat().map((e) => e.grad);
    for (const g of this.#groups) this.#allocState(g);
  }

  /** 'js', 'native/<isa>' or 'cuda'. */
  get backend(): string {
    return this.#backend.name;
  }

  /** Steps taken so far (the t of the bias corrections); skipped steps do not count. */
  get stepCount(): number {
    return this.#step;
  }

  /** The parameter groups (one for a plain parameter list), each with a writable `lr`. */
  get paramGroups(): ReadonlyArray<ParamGroup<H>> {
    return this.#groups.map((g) => g.view);
  }

  /** The first group's lr (a number or a schedule). Setting it sets every group's lr. */
  get lr(): LearningRate {
    return this.#groups[0].hyper.lr;
  }

  set lr(value: LearningRate) {
    const lr = checkLearningRate(`${this.#spec.name}: lr`, value);
    for (const g of this.#groups) g.hyper.lr = lr;
  }

  /** The first group's hyperparameters (a copy); see paramGroups for the others. */
  get options(): Hyperparameters<H> {
    return { ...this.#groups[0].hyper };
  }

  get gradScale(): number {
    return this.#gradScale;
  }

  /** The loss scale grads are divided by from the next step on (dynamic loss scaling sets it). */
  set gradScale(value: number) {
    this.#gradScale = checkGradScale(`${this.#spec.name}: gradScale`, value);
  }

  get skipNonFinite(): boolean {
    return this.#skipNonFinite;
  }

  set skipNonFinite(value: boolean) {
    this.#skipNonFinite = checkBoolean(`${this.#spec.name}: skipNonFinite`, value);
  }

  /**
   * Updates every parameter in place from its grad, and the state. Returns false, having changed
   * nothing, when skipNonFinite is on and a grad holds NaN or ±Inf; true otherwise.
   */
  step(): boolean {
    this.#beginStep('step');
    const t = this.#step + 1;
    this.#prepareScalars(t);
    if (!this.#gradsFinite()) return false;
    this.#ensureExecutor().step(this.#scalars, this.#flags);
    this.#step = t;
    return true;
  }

  /**
   * The same step on the native thread pool, off the JavaScript thread. Until it settles, the
   * optimizer refuses other calls that touch the arrays; do not write to them meanwhile.
   */
  async stepAsync(): Promise<boolean> {
    this.#beginStep('stepAsync');
    const t = this.#step + 1;
    this.#prepareScalars(t);
    if (!this.#gradsFinite()) return false;
    const pending = this.#ensureExecutor().stepAsync(this.#scalars, this.#flags);
    this.#busy = true;
    try {
      await pending;
      this.#step = t;
    } finally {
      this.#busy = false;
    }
    return true;
  }

  /** Sets every grad to zero. */
  zeroGrad(): void {
    this.#checkIdle('zeroGrad');
    for (const grad of this.#grads) zeroTensor(grad);
  }

  stateDict(): StateDict<H> {
    this.#checkIdle('stateDict');
    const state: StateDict<H>['state'] = {};
    for (const g of this.#groups)
      for (const e of g.entries) {
        const slots: Record<string, Float32Array> = {};
        for (const [slot, array] of e.state) slots[slot] = readTensor(array);
        state[e.name] = slots;
      }
    const groups = this.#groups.map((g) => ({ params: g.entries.map((e) => e.name), options: { ...g.hyper } }));
    return { optimizer: this.#spec.name, step: this.#step, groups, state };
  }

  /** Restores a stateDict(): stepping on is bitwise identical to never having stopped. Checks all first. */
  loadStateDict(sd: unknown): void {
    const owner = `${this.#spec.name}.loadStateDict`;
    this.#checkIdle('loadStateDict');
    const dict = checkPlainObject(`${owner}: state dict`, sd);
    checkKnownKeys(`${owner}: state dict`, dict, ['optimizer', 'step', 'groups', 'options', 'state']);
    if (dict.optimizer !== undefined && dict.optimizer !== this.#spec.name)
      throw new Error(`${owner}: the state dict is for ${describe(dict.optimizer)}, not '${this.#spec.name}'`);
    const step = checkNumber(`${owner}: step`, dict.step, { min: 0, integer: true });
    const hypers = this.#checkGroupsEntry(owner, dict.groups, dict.options);
    const state = checkPlainObject(`${owner}: state`, dict.state);
    const names = new Set(this.#groups.flatMap((g) => g.entries.map((e) => e.name)));
    for (const key of Object.keys(state))
      if (!names.has(key)) throw new Error(`${owner}: state has an entry "${key}" that matches no parameter`);
    const loaded = this.#groups.map((g, gi) => {
      const ruleOptions = this.#ruleOptions(hypers[gi], 0);
      return g.entries.map((e) => {
        if (!(e.name in state)) throw new Error(`${owner}: state has no entry for ${e.where}`);
        const slots = checkPlainObject(`${owner}: state["${e.name}"]`, state[e.name]);
        checkKnownKeys(`${owner}: state["${e.name}"]`, slots, this.#spec.rule.stateSlots);
        const map = new Map<string, Float32Array>();
        for (const slot of this.#spec.rule.stateSlots) {
          if (!this.#spec.rule.needsSlot(slot, ruleOptions)) continue;
          const where = `${owner}: state["${e.name}"].${slot}`;
          if (slots[slot] === undefined) throw new Error(`${where} is missing`);
          const array = checkFloat32Array(where, slots[slot]);
          if (array.length !== e.length)
            throw new RangeError(`${where} has length ${array.length}, but ${e.where} has ${e.length}`);
          map.set(slot, array);
        }
        return map;
      });
    });
    // Everything checked: now change.
    this.#groups.forEach((g, gi) => {
      g.hyper = hypers[gi];
      g.entries.forEach((e, i) => {
        for (const slot of [...e.state.keys()]) if (!loaded[gi][i].has(slot)) e.state.delete(slot);
        for (const [slot, array] of loaded[gi][i]) {
          let mine = e.state.get(slot);
          if (!mine) e.state.set(slot, (mine = this.#backend.alloc(e.length)));
          writeTensor(mine, array);
        }
      });
    });
    // A fresh executor sees the new slots, and in host-mirror mode re-uploads the current params.
    this.#dropExecutor();
    this.#step = step;
  }

  // The `groups` of a state dict: the same groups with the same parameters; returns each group's
  // hyperparameters after applying the dict's (absent: unchanged). A dict from before parameter
  // groups has `options` instead, applied to every group.
  #checkGroupsEntry(owner: string, groups: unknown, legacy: unknown): Array<Hyperparameters<H>> {
    const current = this.#groups.map((g) => ({ ...g.hyper }));
    if (legacy !== undefined) {
      if (groups !== undefined) throw new Error(`${owner}: the state dict has both groups and options; give either groups or options`);
      return current.map((hyper) => this.#applyOptions(`${owner}: options`, hyper, legacy));
    }
    if (groups === undefined) return current;
    if (!Array.isArray(groups)) throw new TypeError(`${owner}: groups must be an array, got ${describe(groups)}`);
    if (groups.length !== this.#groups.length)
      throw new Error(`${owner}: the state dict has ${groups.length} parameter groups, this optimizer ${this.#groups.length}`);
    return groups.map((raw, i) => {
      const at = `${owner}: groups[${i}]`;
      const group = checkPlainObject(at, raw);
      checkKnownKeys(at, group, ['params', 'options']);
      if (group.params !== undefined) {
        const mine = this.#groups[i].entries.map((e) => e.name);
        const theirs = group.params;
        if (!Array.isArray(theirs) || theirs.length !== mine.length || theirs.some((n, k) => n !== mine[k]))
          throw new Error(`${at}.params names other parameters (${describe(theirs)}) than this group's [${mine.join(', ')}]`);
      }
      return this.#applyOptions(`${at}.options`, current[i], group.options ?? {});
    });
  }

  // A state dict's options object: known keys only, each value checked, then the cross-option check.
  #applyOptions(where: string, into: Hyperparameters<H>, raw: unknown): Hyperparameters<H> {
    const options = checkPlainObject(where, raw);
    checkKnownKeys(where, options, Object.keys(this.#spec.hyper));
    const hyper = this.#checkHyper(where, into, options);
    this.#spec.check?.(hyper, where);
    return hyper;
  }

  #makeGroup(lrWhere: string, hyper: Hyperparameters<H>, entries: Entry[], scalars: Float32Array): Group<H> {
    const owner = this.#spec.name;
    const group = { lrWhere, hyper, entries, scalars } as Group<H>;
    group.view = Object.freeze({
      params: Object.freeze(entries.map((e) => e.param)),
      get lr(): LearningRate {
        return group.hyper.lr;
      },
      set lr(value: LearningRate) {
        group.hyper.lr = checkLearningRate(`${owner}: ${lrWhere}`, value);
      },
      get options(): Hyperparameters<H> {
        return { ...group.hyper };
      },
    });
    return group;
  }

  #checkHyper(where: string, into: Hyperparameters<H>, from: Record<string, unknown>): Hyperparameters<H> {
    for (const key of Object.keys(this.#spec.hyper) as Array<keyof H & string>) {
      if (from[key] === undefined) continue;
      const spec = this.#spec.hyper[key];
      const label = `${where} '${key}'`;
      (into as Record<string, unknown>)[key] =
        key === 'lr'
          ? checkLearningRate(label, from[key])
          : spec.kind === 'number'
            ? checkNumber(label, from[key], spec.rule)
            : checkBoolean(label, from[key]);
    }
    return into;
  }

  // The rule's options for one group at step t (its lr evaluated there).
  #ruleOptions(hyper: Hyperparameters<H>, lr: number): R {
    return { ...this.#spec.ruleOptions({ ...hyper, lr } as H), gradScale: this.#gradScale } as R;
  }

  // Allocates the state slots the group's options need that its entries lack: per slot, all
  // entries at once (one arena on the host backends, so many small tensors stream contiguously).
  #allocState(g: Group<H>): void {
    const options = this.#ruleOptions(g.hyper, 0);
    for (const slot of this.#spec.rule.stateSlots) {
      if (!this.#spec.rule.needsSlot(slot, options)) continue;
      const missing = g.entries.filter((e) => !e.state.has(slot));
      if (missing.length === 0) continue;
      const lengths = missing.map((e) => e.length);
      const arrays = this.#backend.allocMany?.(lengths) ?? lengths.map((n) => this.#backend.alloc(n));
      const initial = this.#spec.rule.initialValue?.(slot, options) ?? 0;
      missing.forEach((e, i) => {
        if (initial !== 0) fillTensor(arrays[i], initial);
        e.state.set(slot, arrays[i]);
      });
      this.#dropExecutor();
    }
  }

  #checkIdle(what: string): void {
    if (this.#busy) throw new Error(`${this.#spec.name}.${what}: a stepAsync is in flight; await it first`);
  }

  // Everything a step relies on, checked before anything changes.
  #beginStep(what: string): void {
    this.#checkIdle(what);
    for (const g of this.#groups)
      for (const e of g.entries) {
        const problem = tensorProblem(e.data, e.grad, e.length);
        if (problem) throw new Error(`${this.#spec.name}.${what}: ${e.where}: ${problem}`);
      }
  }

  // Every group's scalars and flags for step t (schedules evaluated once, here, all before any write).
  #prepareScalars(t: number): void {
    const rule = this.#spec.rule;
    const options = this.#groups.map((g) =>
      this.#ruleOptions(g.hyper, learningRateAt(`${this.#spec.name}: ${g.lrWhere}`, g.hyper.lr, t)),
    );
    this.#groups.forEach((g, i) => {
      rule.scalars(options[i], t, g.scalars);
      this.#flags[i] = rule.flags(options[i], t);
    });
  }

  #gradsFinite(): boolean {
    if (!this.#skipNonFinite) return true;
    if (this.#grads.some((g) => !(g instanceof Float32Array)))
      throw new Error(`${this.#spec.name}.step: skipNonFinite needs the grads on the host; DeviceTensor grads do not support it yet`);
    return Number.isFinite(this.#backend.grads.sumSquares(this.#grads as Float32Array[]));
  }

  #dropExecutor(): void {
    this.#executor?.release?.();
    this.#executor = null;
  }

  #ensureExecutor(): Executor {
    if (!this.#executor) {
      const slots = this.#spec.rule.stateSlots;
      const groups = this.#groups.map((g) => g.entries.map((e) => [e.data, e.grad, ...slots.map((s) => e.state.get(s) ?? null)]));
      this.#executor = this.#backend.prepare(this.#spec.rule as Rule<never>, groups);
    }
    return this.#executor;
  }
}
