import { checkBackendOptions, selectBackend } from './backends';
import * as checkpoint from './checkpoint';
import type { Backend, Executor } from './backends/types';
import { FiniteCheck } from './finite';
import { type Group, type ParamGroup, type ParamGroupInit, checkGroups, makeGroup } from './groups';
import { BACKEND_KEYS, GRAD_SCALE, TRAINING_KEYS } from './options';
import type { AnyParam } from './params';
import type { GradOptions } from './rules/grad';
import type { Rule } from './rules/types';
import { type LearningRate, checkLearningRate, learningRateAt } from './schedules';
import { type BaseHyper, type Hyperparameters, type OptimizerSpec, checkHyper, slotOptions } from './spec';
import { allocState } from './state';
import { type LoadedState, type StateDict, applyStateDict, checkStateDict, saveStateDict } from './state-dict';
import { type Tensor, tensorProblem, writeTensor, zeroTensor } from './tensor';
import { checkBoolean, checkKnownKeys, checkNumber, checkOptions } from './validate';

export type { AnyParam, Param } from './params';
export type { BackendOptions, OptimizerOptions, TrainingOptions } from './options';
export type { ParamGroup, ParamGroupInit } from './groups';
export type { BaseHyper, Hyperparameters, HyperSpec, OptimizerSpec } from './spec';
export type { StateDict } from './state-dict';
export type { LoadOptions, SaveOptions } from './checkpoint';

/**
 * The shared machinery of every optimizer: checks before anything changes, owns the state, computes
 * the per-step scalars once on the host and hands every tensor, of every group, to the backend in
 * one call. Options and groups (./groups.ts), state (./state.ts) and state dicts (./state-dict.ts)
 * live in their own modules.
 */
export abstract class Optimizer<H extends BaseHyper, R extends GradOptions = GradOptions> {
  readonly #spec: OptimizerSpec<H, R>;
  readonly #backend: Backend;
  readonly #groups: Array<Group<H>>;
  /** Every group's scalars, group after group, and flags: what a step hands the backend. */
  readonly #scalars: Float32Array;
  readonly #flags: Uint32Array;
  #executor: Executor | null = null;
  /** skipNonFinite's dry run of the update, made on first use. */
  #finiteCheck: FiniteCheck | null = null;
  readonly #grads: Tensor[];
  #step = 0;
  /** Why other calls must wait: a stepAsync in flight, or a schedule running inside a step. */
  #busy: string | null = null;
  #skipNonFinite: boolean;
  #gradScale: number;

  protected constructor(spec: OptimizerSpec<H, R>, params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<H>>, options: unknown) {
    this.#spec = spec;
    const owner = spec.name;
    const opts = checkOptions(`${owner}: options`, options);
    checkKnownKeys(owner, opts, [...Object.keys(spec.hyper), ...BACKEND_KEYS, ...TRAINING_KEYS]);
    const defaults = checkHyper(spec, `${owner}: option`, { ...spec.defaults } as unknown as Hyperparameters<H>, opts);
    const { backend, isa, threads } = checkBackendOptions(owner, opts);
    this.#skipNonFinite = opts.skipNonFinite === undefined ? false : checkBoolean(`${owner}: option 'skipNonFinite'`, opts.skipNonFinite);
    this.#gradScale = opts.gradScale === undefined ? 1 : checkNumber(`${owner}: option 'gradScale'`, opts.gradScale, GRAD_SCALE);

    const inits = checkGroups(spec, params, defaults);
    const onDevice = inits.flatMap((g) => g.entries).find((e) => !(e.data instanceof Float32Array));
    this.#backend = selectBackend(owner, backend, isa, threads, onDevice ? onDevice.where : null);
    const perGroup = spec.rule.scalarCount;
    this.#scalars = new Float32Array(perGroup * inits.length);
    this.#flags = new Uint32Array(inits.length);
    this.#groups = inits.map((init, i) => makeGroup(owner, init, this.#scalars.subarray(i * perGroup, (i + 1) * perGroup)));
    this.#grads = this.#groups.flatMap((g) => g.entries.map((e) => e.grad));
    for (const g of this.#groups) allocState(spec.rule, slotOptions(spec, g.hyper), g.entries, this.#backend);
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
    this.#gradScale = checkNumber(`${this.#spec.name}: gradScale`, value, GRAD_SCALE);
  }

  get skipNonFinite(): boolean {
    return this.#skipNonFinite;
  }

  set skipNonFinite(value: boolean) {
    this.#skipNonFinite = checkBoolean(`${this.#spec.name}: skipNonFinite`, value);
  }

  /**
   * Updates every parameter in place from its grad, and the state. Returns false, having changed
   * nothing, when skipNonFinite is on and a grad holds NaN or ±Inf or the update would overflow;
   * true otherwise.
   */
  step(): boolean {
    const t = this.#beginStep('step');
    if (!this.#stepIsFinite()) return false;
    this.#ensureExecutor().step(this.#scalars, this.#flags);
    this.#step = t;
    return true;
  }

  /**
   * The same step on the native thread pool, off the JavaScript thread. Until it settles, the
   * optimizer refuses other calls that touch the arrays; do not write to them meanwhile.
   */
  async stepAsync(): Promise<boolean> {
    const t = this.#beginStep('stepAsync');
    if (!this.#stepIsFinite()) return false;
    const pending = this.#ensureExecutor().stepAsync(this.#scalars, this.#flags);
    this.#busy = 'a stepAsync is in flight; await it first';
    try {
      await pending;
      this.#step = t;
    } finally {
      this.#busy = null;
    }
    return true;
  }

  /** Sets every grad to zero. */
  zeroGrad(): void {
    this.#checkIdle('zeroGrad');
    for (const g of this.#groups)
      for (const e of g.entries) {
        const problem = tensorProblem(e.data, e.grad, e.length);
        if (problem) throw new Error(`${this.#spec.name}.zeroGrad: ${e.where}: ${problem}`);
      }
    for (const grad of this.#grads) zeroTensor(grad);
  }

  /** The step count, each group's parameter names and hyperparameters, and copies of the state. */
  stateDict(): StateDict<H> {
    this.#checkIdle('stateDict');
    return saveStateDict(this.#spec.name, this.#step, this.#groups);
  }

  /** Restores a stateDict(): stepping on is bitwise identical to never having stopped. Checks all first. */
  loadStateDict(sd: StateDict<H>): void {
    this.#checkIdle('loadStateDict');
    this.#applyState(checkStateDict(this.#spec, this.#groups, sd));
  }

  #applyState(loaded: LoadedState<H>): void {
    applyStateDict(loaded, this.#groups, this.#backend);
    // A fresh executor sees the new slots, and in host-mirror mode re-uploads the current params.
    this.#dropExecutor();
    this.#step = loaded.step;
  }

  /**
   * Writes a checkpoint: one safetensors file (state.<param>.<slot>, and param.<name> with
   * `params: true`), durably (a crash leaves the old file or the new one). Other calls wait for it.
   */
  async save(path: string, options?: checkpoint.SaveOptions): Promise<void> {
    const owner = `${this.#spec.name}.save`;
    this.#checkIdle('save');
    const file = checkpoint.checkPath(owner, path);
    const pieces = checkpoint.planSave(owner, this.#checkpointSubject(), options);
    this.#busy = 'a save is in flight; await it first';
    try {
      await checkpoint.writeFileDurable(file, pieces);
    } finally {
      this.#busy = null;
    }
  }

  saveSync(path: string, options?: checkpoint.SaveOptions): void {
    const owner = `${this.#spec.name}.saveSync`;
    this.#checkIdle('saveSync');
    const file = checkpoint.checkPath(owner, path);
    checkpoint.writeFileDurableSync(file, checkpoint.planSave(owner, this.#checkpointSubject(), options));
  }

  /**
   * Restores a checkpoint (and the parameters, when the file has them), after checking all of it:
   * on any problem it throws and the optimizer is unchanged. Stepping on is bitwise identical to
   * never having stopped. A custom schedule function is not in the file: give it again first.
   */
  async load(path: string, options?: checkpoint.LoadOptions): Promise<void> {
    const owner = `${this.#spec.name}.load`;
    this.#checkIdle('load');
    const reader = checkpoint.checkpointReader(owner, checkpoint.checkPath(owner, path), this.#checkpointSubject(), options);
    this.#busy = 'a load is in flight; await it first';
    let loaded: checkpoint.LoadedCheckpoint<H>;
    try {
      loaded = await checkpoint.readFile(path, reader);
    } finally {
      this.#busy = null;
    }
    this.#applyCheckpoint(loaded);
  }

  loadSync(path: string, options?: checkpoint.LoadOptions): void {
    const owner = `${this.#spec.name}.loadSync`;
    this.#checkIdle('loadSync');
    const reader = checkpoint.checkpointReader(owner, checkpoint.checkPath(owner, path), this.#checkpointSubject(), options);
    this.#applyCheckpoint(checkpoint.readFileSync(path, reader));
  }

  #checkpointSubject(): checkpoint.CheckpointSubject<H, R> {
    return { spec: this.#spec, groups: this.#groups, step: this.#step, gradScale: this.#gradScale };
  }

  #applyCheckpoint(loaded: checkpoint.LoadedCheckpoint<H>): void {
    this.#applyState(loaded.state);
    // After the state (which allocates): the next step's fresh executor sees these values.
    for (const { entry, values } of loaded.params) writeTensor(entry.data, values);
    this.#gradScale = loaded.gradScale;
  }

  #checkIdle(what: string): void {
    if (this.#busy) throw new Error(`${this.#spec.name}.${what}: ${this.#busy}`);
  }

  // Schedules first (user code: it may detach an array or call back in, and must see the
  // optimizer busy), then everything the step relies on, checked before anything changes.
  // Returns the step's t.
  #beginStep(what: string): number {
    this.#checkIdle(what);
    const t = this.#step + 1;
    this.#busy = 'called from a schedule function during a step; a schedule must only compute the lr';
    try {
      this.#prepareScalars(t);
    } finally {
      this.#busy = null;
    }
    for (const g of this.#groups)
      for (const e of g.entries) {
        const problem = tensorProblem(e.data, e.grad, e.length);
        if (problem) throw new Error(`${this.#spec.name}.${what}: ${e.where}: ${problem}`);
      }
    return t;
  }

  // Every group's scalars and flags for step t (schedules evaluated once, here, all before any write).
  #prepareScalars(t: number): void {
    const { rule, name } = this.#spec;
    const options = this.#groups.map((g) => {
      const lr = learningRateAt(`${name}: ${g.lrWhere}`, g.hyper.lr, t);
      return { ...slotOptions(this.#spec, g.hyper), lr, gradScale: this.#gradScale } as unknown as R;
    });
    this.#groups.forEach((g, i) => {
      rule.scalars(options[i], t, g.scalars);
      this.#flags[i] = rule.flags(options[i], t);
    });
  }

  // With skipNonFinite: finite grads, and an update that stays finite.
  #stepIsFinite(): boolean {
    if (!this.#skipNonFinite) return true;
    if (this.#grads.some((g) => !(g instanceof Float32Array)))
      throw new Error(`${this.#spec.name}.step: skipNonFinite needs the grads on the host; DeviceTensor grads do not support it yet`);
    if (!Number.isFinite(this.#backend.grads.sumSquares(this.#grads as Float32Array[]))) return false;
    const groups = this.#tensorGroups();
    // Host-mirror CUDA keeps the state on the device: there only the grads are checked.
    if (groups.some((tensors) => tensors.some((slots) => slots.some((t) => t !== null && !(t instanceof Float32Array))))) return true;
    this.#finiteCheck ??= new FiniteCheck(this.#spec.rule as Rule<never>, this.#backend);
    return this.#finiteCheck.check(groups, this.#scalars, this.#flags);
  }

  #tensorGroups(): Array<Array<Array<Tensor | null>>> {
    const slots = this.#spec.rule.stateSlots;
    return this.#groups.map((g) => g.entries.map((e) => [e.data, e.grad, ...slots.map((s) => e.state.get(s) ?? null)]));
  }

  #dropExecutor(): void {
    this.#executor?.release?.();
    this.#executor = null;
    this.#finiteCheck?.release();
  }

  #ensureExecutor(): Executor {
    this.#executor ??= this.#backend.prepare(this.#spec.rule as Rule<never>, this.#tensorGroups());
    return this.#executor;
  }
}
