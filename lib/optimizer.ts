import { type BackendOption, checkBackendOptions, defaultThreads, selectBackend } from './backends';
import type { IsaOption } from './backends/native';
import type { Backend, Executor } from './backends/types';
import type { DeviceTensor } from './cuda';
import type { Rule } from './rules/types';
import { type Tensor, checkDistinct, checkTensor, readTensor, tensorProblem, writeTensor, zeroTensor } from './tensor';
import {
  type NumberRule,
  checkBoolean,
  checkFloat32Array,
  checkKnownKeys,
  checkNumber,
  checkPlainObject,
  describe,
} from './validate';

/**
 * A parameter: the user's own arrays, updated in place. `name` keys its state (default: its index).
 * DeviceTensors (both data and grad) keep the parameter on the GPU, with backend 'cuda'.
 */
export interface Param {
  name?: string;
  data: Float32Array | DeviceTensor;
  grad: Float32Array | DeviceTensor;
}

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

/** How one hyperparameter is checked. */
export type HyperSpec = { kind: 'number'; rule: NumberRule } | { kind: 'boolean' };

/** Hyperparameters every optimizer has. */
export interface BaseHyper {
  lr: number;
}

/** What an optimizer class tells the base: its name, rule, defaults and checks. */
export interface OptimizerSpec<H extends BaseHyper, R> {
  name: string;
  rule: Rule<R>;
  defaults: H;
  hyper: { readonly [K in keyof H]: HyperSpec };
  /** The rule's options from the hyperparameters (e.g. AdamW adds decoupled: true). */
  ruleOptions(h: H): R;
}

export interface StateDict<H = Record<string, number | boolean>> {
  optimizer: string;
  step: number;
  options: H;
  /** Per parameter name, its state slots by PyTorch name (copies). */
  state: Record<string, Record<string, Float32Array>>;
}

interface Entry {
  where: string;
  name: string;
  length: number;
  data: Tensor;
  grad: Tensor;
  state: Map<string, Tensor>;
}

const BACKEND_KEYS = ['backend', 'isa', 'threads'] as const;

/**
 * The shared machinery of every optimizer: checks before anything changes, owns the state, computes
 * the per-step scalars once on the host and hands every tensor to the backend in one call.
 */
export abstract class Optimizer<H extends BaseHyper, R = unknown> {
  readonly #spec: OptimizerSpec<H, R>;
  readonly #backend: Backend;
  readonly #entries: Entry[];
  readonly #scalars: Float32Array;
  #hyper: H;
  #step = 0;
  #executor: Executor | null = null;
  #busy = false;

  protected constructor(spec: OptimizerSpec<H, R>, params: readonly Param[], options: unknown) {
    this.#spec = spec;
    const owner = spec.name;
    const opts = checkPlainObject(`${owner}: options`, options ?? {});
    checkKnownKeys(owner, opts, [...Object.keys(spec.hyper), ...BACKEND_KEYS]);
    this.#hyper = this.#checkHyper(`${owner}: option`, { ...spec.defaults }, opts);
    const [backend, isa] = checkBackendOptions(owner, opts.backend ?? 'auto', opts.isa ?? 'auto');
    const threads =
      opts.threads === undefined
        ? defaultThreads()
        : checkNumber(`${owner}: option 'threads'`, opts.threads, { min: 1, integer: true, below: 1025 });
    this.#entries = this.#checkParams(owner, params);
    const onDevice = this.#entries.find((e) => !(e.data instanceof Float32Array));
    this.#backend = selectBackend(owner, backend, isa, threads, onDevice ? onDevice.where : null);
    this.#scalars = new Float32Array(spec.rule.scalarCount);
    for (const e of this.#entries) this.#allocState(e);
  }

  /** 'js', 'native/<isa>' or 'cuda'. */
  get backend(): string {
    return this.#backend.name;
  }

  /** Steps taken so far (the t of the bias corrections). */
  get stepCount(): number {
    return this.#step;
  }

  get lr(): number {
    return this.#hyper.lr;
  }

  set lr(value: number) {
    this.#hyper.lr = checkNumber(`${this.#spec.name}: lr`, value, this.#numberRule('lr'));
  }

  /** The hyperparameters in use (a copy). */
  get options(): H {
    return { ...this.#hyper };
  }

  /** Updates every parameter in place from its grad, and the state. */
  step(): void {
    this.#beginStep('step');
    const t = this.#step + 1;
    const { rule, flags } = this.#prepareScalars(t);
    this.#ensureExecutor(rule).step(this.#scalars, flags);
    this.#step = t;
  }

  /**
   * The same step on the native thread pool, off the JavaScript thread. Until it settles, the
   * optimizer refuses other calls that touch the arrays; do not write to them meanwhile.
   */
  async stepAsync(): Promise<void> {
    this.#beginStep('stepAsync');
    const t = this.#step + 1;
    const { rule, flags } = this.#prepareScalars(t);
    const pending = this.#ensureExecutor(rule).stepAsync(this.#scalars, flags);
    this.#busy = true;
    try {
      await pending;
      this.#step = t;
    } finally {
      this.#busy = false;
    }
  }

  /** Sets every grad to zero. */
  zeroGrad(): void {
    this.#checkIdle('zeroGrad');
    for (const e of this.#entries) zeroTensor(e.grad);
  }

  stateDict(): StateDict<H> {
    this.#checkIdle('stateDict');
    const state: StateDict<H>['state'] = {};
    for (const e of this.#entries) {
      const slots: Record<string, Float32Array> = {};
      for (const [slot, array] of e.state) slots[slot] = readTensor(array);
      state[e.name] = slots;
    }
    return { optimizer: this.#spec.name, step: this.#step, options: { ...this.#hyper }, state };
  }

  /** Restores a stateDict(): stepping on is bitwise identical to never having stopped. Checks all first. */
  loadStateDict(sd: StateDict<Partial<H>> | unknown): void {
    const owner = `${this.#spec.name}.loadStateDict`;
    this.#checkIdle('loadStateDict');
    const dict = checkPlainObject(`${owner}: state dict`, sd);
    checkKnownKeys(`${owner}: state dict`, dict, ['optimizer', 'step', 'options', 'state']);
    if (dict.optimizer !== undefined && dict.optimizer !== this.#spec.name)
      throw new Error(`${owner}: the state dict is for ${describe(dict.optimizer)}, not '${this.#spec.name}'`);
    const step = checkNumber(`${owner}: step`, dict.step, { min: 0, integer: true });
    const options = checkPlainObject(`${owner}: options`, dict.options ?? {});
    checkKnownKeys(`${owner}: options`, options, Object.keys(this.#spec.hyper));
    const hyper = this.#checkHyper(`${owner}: options`, { ...this.#hyper }, options);
    const ruleOptions = this.#spec.ruleOptions(hyper);
    const state = checkPlainObject(`${owner}: state`, dict.state);
    const names = new Set(this.#entries.map((e) => e.name));
    for (const key of Object.keys(state))
      if (!names.has(key)) throw new Error(`${owner}: state has an entry "${key}" that matches no parameter`);
    const loaded: Array<Map<string, Float32Array>> = [];
    for (const e of this.#entries) {
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
      loaded.push(map);
    }
    // Everything checked: now change.
    this.#hyper = hyper;
    this.#entries.forEach((e, i) => {
      for (const slot of [...e.state.keys()]) if (!loaded[i].has(slot)) e.state.delete(slot);
      for (const [slot, array] of loaded[i]) {
        let mine = e.state.get(slot);
        if (!mine) e.state.set(slot, (mine = this.#backend.alloc(e.length)));
        writeTensor(mine, array);
      }
    });
    // A fresh executor sees the new slots, and in host-mirror mode re-uploads the current params.
    this.#dropExecutor();
    this.#step = step;
  }

  #numberRule(key: string): NumberRule {
    const spec = this.#spec.hyper[key as keyof H];
    return spec.kind === 'number' ? spec.rule : {};
  }

  #checkHyper(where: string, into: H, from: Record<string, unknown>): H {
    for (const key of Object.keys(this.#spec.hyper) as Array<keyof H & string>) {
      if (from[key] === undefined) continue;
      const spec = this.#spec.hyper[key];
      const label = `${where} '${key}'`;
      (into as Record<string, unknown>)[key] =
        spec.kind === 'number' ? checkNumber(label, from[key], spec.rule) : checkBoolean(label, from[key]);
    }
    return into;
  }

  #checkParams(owner: string, params: readonly Param[]): Entry[] {
    if (!Array.isArray(params)) throw new TypeError(`${owner}: params must be an array of {name?, data, grad}, got ${describe(params)}`);
    if (params.length === 0) throw new RangeError(`${owner}: params is empty; give at least one parameter`);
    const entries: Entry[] = [];
    const seen = new Map<string, number>();
    const arrays: Array<{ where: string; array: Tensor }> = [];
    params.forEach((p, i) => {
      const at = `${owner}: params[${i}]`;
      const param = checkPlainObject(at, p);
      checkKnownKeys(at, param, ['name', 'data', 'grad']);
      if (param.name !== undefined && typeof param.name !== 'string')
        throw new TypeError(`${at}: name must be a string, got ${describe(param.name)}`);
      const name = (param.name as string | undefined) ?? String(i);
      const where = `params[${i}] "${name}"`;
      if (seen.has(name)) throw new Error(`${owner}: ${where} has the same name as params[${seen.get(name)}]; names must be unique`);
      seen.set(name, i);
      const data = checkTensor(`${owner}: ${where}: data`, param.data);
      const grad = checkTensor(`${owner}: ${where}: grad`, param.grad);
      if (data instanceof Float32Array !== grad instanceof Float32Array)
        throw new TypeError(`${owner}: ${where}: data and grad must both be Float32Arrays or both DeviceTensors`);
      if (grad.length !== data.length)
        throw new RangeError(`${owner}: ${where}: grad has length ${grad.length}, data has ${data.length}`);
      arrays.push({ where: `${where} data`, array: data }, { where: `${where} grad`, array: grad });
      entries.push({ where, name, length: data.length, data, grad, state: new Map() });
    });
    try {
      checkDistinct(arrays);
    } catch (e) {
      throw new Error(`${owner}: ${(e as Error).message}`);
    }
    return entries;
  }

  #allocState(e: Entry): void {
    const options = this.#spec.ruleOptions(this.#hyper);
    for (const slot of this.#spec.rule.stateSlots)
      if (this.#spec.rule.needsSlot(slot, options) && !e.state.has(slot)) {
        e.state.set(slot, this.#backend.alloc(e.length));
        this.#dropExecutor();
      }
  }

  #checkIdle(what: string): void {
    if (this.#busy) throw new Error(`${this.#spec.name}.${what}: a stepAsync is in flight; await it first`);
  }

  // Everything a step relies on, checked before anything changes.
  #beginStep(what: string): void {
    this.#checkIdle(what);
    for (const e of this.#entries) {
      const data = tensorProblem(e.data, e.length), grad = data ? null : tensorProblem(e.grad, e.length);
      if (data || grad) throw new Error(`${this.#spec.name}.${what}: ${e.where}: ${data ? 'data' : 'grad'} ${data ?? grad}`);
    }
  }

  #prepareScalars(t: number): { rule: Rule<R>; flags: number } {
    const rule = this.#spec.rule;
    const options = this.#spec.ruleOptions(this.#hyper);
    rule.scalars(options, t, this.#scalars);
    return { rule, flags: rule.flags(options) };
  }

  #dropExecutor(): void {
    this.#executor?.release?.();
    this.#executor = null;
  }

  #ensureExecutor(rule: Rule<R>): Executor {
    if (!this.#executor) {
      const slots = rule.stateSlots;
      const tensors = this.#entries.map((e) => [e.data, e.grad, ...slots.map((s) => e.state.get(s) ?? null)]);
      this.#executor = this.#backend.prepare(rule as Rule<never>, tensors);
    }
    return this.#executor;
  }
}
