import { checkBackendOptions, selectBackend } from './backends';
import * as checkpoint from './checkpoint';
import type { Backend, Executor } from './backends/types';
import { FiniteCheck } from './finite';
import { type Group, type ParamGroup, type ParamGroupInit, checkGroups, makeGroup } from './groups';
import { BACKEND_KEYS, GRAD_SCALE, TRAINING_KEYS } from './options';
import { type AnyParam, type Entry, checkParamLists, replacedArrays } from './params';
import type { GradOptions } from './rules/grad';
import type { Rule } from './rules/types';
import { type LearningRate, checkLearningRate, learningRateAt } from './schedules';
import { type BaseHyper, type Hyperparameters, type OptimizerSpec, checkHyper, slotOptions, stepOptions } from './spec';
import { allocState, freeState, neededSlots } from './state';
import { COMPACT_KEYS, GROUP_STORAGE_KEYS, type GroupStorage, checkCompactHyper, checkGroupStorage } from './compact/options';
import { CompactSlot, type StateDtype } from './compact/slot';
import { HalfParamSlot, HalfTensor, type RoundingClock, allocMasters, halfStorage } from './compact/half';
import { type CoalescedRows, checkSparseUse, readSparse, rowsStayFinite } from './sparse';
import { type LoadedState, type StateDict, applyStateDict, checkStateDict, saveStateDict } from './state-dict';
import { type ParamTensor, type Tensor, type TensorWatch, checkDistinct, tensorProblem, watchIntact, watchTensors, writeTensor, zeroTensor } from './tensor';
import { Shard } from './distributed/shard';
import { localStateDict } from './distributed/state';
import { checkBoolean, checkFloat32Array, checkKnownKeys, checkNumber, checkOptions, checkPlainObject } from './validate';

// What a rule without hostState gets: writing to it throws.
const NO_HOST_STATE: Record<string, number> = Object.freeze({});

export type { AnyParam, HalfParam, Param } from './params';
export type { SparseParam } from './sparse';
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
  /** The constructor's hyperparameters: what addParamGroup starts from. */
  readonly #defaults: Hyperparameters<H>;
  /** Every group's scalars, group after group, and flags: what a step hands the backend. */
  #scalars: Float32Array;
  #flags: Uint32Array;
  /** Each group's lr at the step being prepared (reused: the step allocates nothing). */
  #lrs = new Float64Array(0);
  #executor: Executor | null = null;
  /** skipNonFinite's dry run of the update, made on first use. */
  #finiteCheck: FiniteCheck | null = null;
  /** The dense parameters' grads (sparse ones are read from their parameter at every step). */
  #grads: ParamTensor[] = [];
  /** The row-sparse entries, in group order (fixed once their group is added). */
  #sparse: Entry[] = [];
  /** The dense data and grads a step re-checks, per buffer (made again when an array is replaced). */
  #watch: TensorWatch | null = null;
  /** The sparse parameters' coalesced rows for the step being taken (read by #beginStep). */
  #rows: CoalescedRows[] = [];
  #step = 0;
  #disposed = false;
  /** Why other calls must wait: a stepAsync in flight, or a schedule running inside a step. */
  #busy: string | null = null;
  #skipNonFinite: boolean;
  /**
   * The storage options every group gets unless it gives its own (lib/compact): how moment slots
   * are stored, and whether half-precision parameters keep an fp32 master (slot `master`), else
   * stochastic rounding. Each group's are fixed for its life.
   */
  readonly #storage: GroupStorage;
  /** Stochastic rounding's seed and the step being taken (lib/compact/stochastic.ts). */
  readonly #clock: RoundingClock;
  #gradScale: number;
  /** With `shard: comm`: the rank's slice, the gradient reduction and the parameter gather. */
  readonly #shard: Shard | null = null;

  protected constructor(spec: OptimizerSpec<H, R>, params: readonly AnyParam[] | ReadonlyArray<ParamGroupInit<H>>, options: unknown) {
    this.#spec = spec;
    const owner = spec.name;
    const opts = checkOptions(`${owner}: options`, options);
    checkKnownKeys(owner, opts, [...Object.keys(spec.hyper), ...BACKEND_KEYS, ...TRAINING_KEYS, ...COMPACT_KEYS]);
    this.#storage = checkGroupStorage(`${owner}: option`, opts, { stateDtype: 'fp32', masterWeights: true });
    this.#clock = { seed: opts.seed === undefined ? 0 : checkNumber(`${owner}: option 'seed'`, opts.seed, { min: 0, below: 2 ** 32, integer: true }), step: 0 };
    const defaults = (this.#defaults = checkHyper(spec, `${owner}: option`, { ...spec.defaults } as unknown as Hyperparameters<H>, opts));
    const { backend, isa, threads } = checkBackendOptions(owner, opts);
    this.#skipNonFinite = opts.skipNonFinite === undefined ? false : checkBoolean(`${owner}: option 'skipNonFinite'`, opts.skipNonFinite);
    this.#gradScale = opts.gradScale === undefined ? 1 : checkNumber(`${owner}: option 'gradScale'`, opts.gradScale, GRAD_SCALE);

    const inits = checkGroups(spec, params, defaults, this.#storage);
    const onDevice = inits.flatMap((g) => g.entries).find((e) => !(e.data instanceof Float32Array) && e.dtype === 'fp32');
    this.#backend = selectBackend(owner, backend, isa, threads, onDevice ? onDevice.where : null);
    for (const init of inits) checkSparseUse(owner, spec, init.entries, init.hyper, !!this.#backend.stepRows);
    const gradAverage = opts.gradAverage === undefined ? true : checkBoolean(`${owner}: option 'gradAverage'`, opts.gradAverage);
    if (opts.gradAverage !== undefined && opts.shard === undefined) throw new TypeError(`${owner}: option 'gradAverage' applies only with 'shard'`);
    const label = (i: number) => (inits.length > 1 ? `paramGroups[${i}]` : 'options');
    inits.forEach((g, i) => this.#checkCompactUse(owner, g.entries, opts.shard !== undefined, g.storage.stateDtype, inits.length > 1 ? `paramGroups[${i}] option` : 'option'));
    if (opts.shard !== undefined) {
      const shard = (this.#shard = new Shard(owner, opts.shard, gradAverage, inits.flatMap((g) => g.entries)));
      for (const init of inits) init.entries = init.entries.map((e) => shard.localEntry(e));
    }
    inits.forEach((g, i) => checkCompactHyper(`${owner}: ${label(i)}`, g.storage.stateDtype, g.hyper));
    const perGroup = spec.rule.scalarCount;
    this.#scalars = new Float32Array(perGroup * inits.length);
    this.#flags = new Uint32Array(inits.length);
    this.#groups = inits.map((init, i) => this.#makeGroup(init, this.#scalars.subarray(i * perGroup, (i + 1) * perGroup)));
    this.#listEntries();
    for (const g of this.#groups) allocState(spec.rule, slotOptions(spec, g.hyper), g.entries, this.#backend, g.stateDtype);
    for (const g of this.#groups) allocMasters(g.entries, g.masterWeights);
  }

  /** 'js', 'native/<isa>' or 'cuda'. */
  get backend(): string {
    return this.#backend.name;
  }

  /** How the moment slots are stored by default: 'fp32', 'bf16' or 'int8' (lib/compact); a group may differ (paramGroups[i].stateDtype). */
  get stateDtype(): StateDtype {
    return this.#storage.stateDtype;
  }

  /** Bytes of optimizer state held now: every state slot's storage, 8-bit absmax arrays included. */
  get stateBytes(): number {
    let bytes = 0;
    for (const g of this.#groups)
      for (const e of g.entries)
        for (const t of e.state.values()) bytes += t instanceof CompactSlot ? t.bytes : 4 * t.length;
    return bytes;
  }

  /** Steps taken so far (the t of the bias corrections); skipped steps do not count. */
  get stepCount(): number {
    return this.#step;
  }

  /**
   * The parameter groups (one for a plain parameter list). Every hyperparameter of a group is a
   * writable property (`opt.paramGroups[1].beta1 = 0.95`), checked, applied from the next step; a
   * value that needs state the group lacks (amsgrad on, momentum from 0) allocates it zeroed.
   */
  get paramGroups(): ReadonlyArray<ParamGroup<H>> {
    return this.#groups.map((g) => g.view);
  }

  /** The first group's lr (a number or a schedule). Setting it sets every group's lr. */
  get lr(): LearningRate {
    return this.#groups[0].hyper.lr;
  }

  set lr(value: LearningRate) {
    this.#checkAlive('lr');
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
    this.#checkAlive('gradScale');
    this.#gradScale = checkNumber(`${this.#spec.name}: gradScale`, value, GRAD_SCALE);
  }

  get skipNonFinite(): boolean {
    return this.#skipNonFinite;
  }

  set skipNonFinite(value: boolean) {
    this.#checkAlive('skipNonFinite');
    this.#skipNonFinite = checkBoolean(`${this.#spec.name}: skipNonFinite`, value);
  }

  /**
   * Updates every parameter in place from its grad, and the state. Returns false, having changed
   * nothing, when skipNonFinite is on and a grad holds NaN or ±Inf or the update would overflow;
   * true otherwise.
   */
  step(): boolean {
    if (this.#shard) return this.#stepSharded();
    const t = this.#beginStep('step', this.#executorChecks());
    if (!this.#stepIsFinite()) return false;
    this.#stepRows();
    if (this.#hasDense()) this.#stepExecutor();
    this.#stepTaken(t);
    return true;
  }

  /**
   * The same step on the native thread pool, off the JavaScript thread. Until it settles, the
   * optimizer refuses other calls that touch the arrays; do not write to them meanwhile.
   */
  async stepAsync(): Promise<boolean> {
    if (this.#shard) return this.#stepShardedAsync();
    const t = this.#beginStep('stepAsync');
    if (!this.#stepIsFinite()) return false;
    // Sparse rows step here, on the calling thread (the native pool still spreads them).
    this.#stepRows();
    if (!this.#hasDense()) {
      this.#stepTaken(t);
      return true;
    }
    const pending = this.#ensureExecutor().stepAsync(this.#scalars, this.#flags);
    this.#busy = 'a stepAsync is in flight; await it first';
    try {
      await pending;
      this.#stepTaken(t);
    } finally {
      this.#busy = null;
    }
    return true;
  }

  // Sharded: grads summed over ranks into the local views, the local update, the gather.
  #stepSharded(): boolean {
    const shard = this.#shard!;
    this.#checkIdle('step');
    shard.sync('step');
    const t = this.#beginStep('step');
    shard.reduce();
    if (this.#skipNonFinite && !shard.agree(this.#stepIsFinite())) return false;
    this.#ensureExecutor().step(this.#scalars, this.#flags);
    shard.gather();
    this.#stepTaken(t);
    return true;
  }

  async #stepShardedAsync(): Promise<boolean> {
    const shard = this.#shard!;
    this.#checkIdle('stepAsync');
    shard.sync('stepAsync');
    const t = this.#beginStep('stepAsync');
    this.#busy = 'a stepAsync is in flight; await it first';
    try {
      await shard.reduceAsync();
      if (this.#skipNonFinite && !shard.agree(this.#stepIsFinite())) return false;
      await this.#ensureExecutor().stepAsync(this.#scalars, this.#flags);
      await shard.gatherAsync();
      this.#stepTaken(t);
      return true;
    } finally {
      this.#busy = null;
    }
  }

  /** Sets every grad (each parameter's `grad` as it is now) to zero. */
  zeroGrad(): void {
    this.#checkIdle('zeroGrad');
    if (this.#shard) {
      this.#shard.sync('zeroGrad');
      this.#shard.zeroGrads();
      return;
    }
    this.#syncArrays('zeroGrad');
    const sparse = this.#sparse.map((e) => checkFloat32Array(`${this.#spec.name}.zeroGrad: ${e.where}: grad`, (e.param as { grad: unknown }).grad));
    for (const grad of this.#grads) zeroTensor(grad);
    for (const grad of sparse) grad.fill(0);
  }

  /**
   * Adds a parameter group, as PyTorch's add_param_group: `params` and any hyperparameters (the
   * others are the constructor's). Its state starts fresh; everything is checked first.
   */
  addParamGroup(group: ParamGroupInit<H>): void {
    const { name } = this.#spec;
    const owner = `${name}.addParamGroup`;
    this.#checkIdle('addParamGroup');
    if (this.#shard) throw new Error(`${owner}: a sharded optimizer's flat index space is fixed at construction; give every group to the constructor`);
    const index = this.#groups.length;
    const init = checkPlainObject(`${owner}: group`, group);
    checkKnownKeys(`${owner}: group`, init, ['params', ...Object.keys(this.#spec.hyper), ...GROUP_STORAGE_KEYS]);
    if (init.params === undefined) throw new TypeError(`${owner}: group.params is required (an array of {name?, data, grad})`);
    const where = `${owner}: option`;
    const hyper = checkHyper(this.#spec, where, { ...this.#defaults }, init);
    if (hyper.lr === undefined) throw new TypeError(`${where} 'lr' is required (a number or a schedule)`);
    this.#spec.check?.(hyper, where);
    const storage = checkGroupStorage(where, init, this.#storage);
    const existing = this.#groups.flatMap((g) => g.entries);
    const [entries] = checkParamLists(owner, [init.params], [`paramGroups[${index}].params`], existing);
    checkSparseUse(owner, this.#spec, entries, hyper, !!this.#backend.stepRows);
    const host = (e: Entry): boolean => e.data instanceof Float32Array || e.data instanceof Uint16Array;
    const onHost = host(existing[0]);
    const odd = entries.find((e) => host(e) !== onHost);
    if (odd)
      throw new TypeError(
        `${owner}: ${odd.where} is ${onHost ? 'a DeviceTensor' : 'a Float32Array'}, but this optimizer's parameters are ${onHost ? 'Float32Arrays' : 'DeviceTensors'}`,
      );
    this.#checkCompactUse(owner, entries, this.#shard !== null, storage.stateDtype, 'option');
    checkCompactHyper(`${owner}: group`, storage.stateDtype, hyper);
    allocState(this.#spec.rule, slotOptions(this.#spec, hyper), entries, this.#backend, storage.stateDtype);
    allocMasters(entries, storage.masterWeights);
    // Nothing has changed so far; from here on nothing throws.
    const perGroup = this.#spec.rule.scalarCount;
    const scalars = new Float32Array(perGroup * (index + 1));
    this.#groups.forEach((g, i) => (g.scalars = scalars.subarray(i * perGroup, (i + 1) * perGroup)));
    this.#groups.push(this.#makeGroup({ lrWhere: `paramGroups[${index}].lr`, hyper, entries, stepsBefore: this.#step, storage }, scalars.subarray(index * perGroup)));
    this.#scalars = scalars;
    this.#flags = new Uint32Array(index + 1);
    this.#listEntries();
    this.#dropExecutor();
  }

  /**
   * Frees the optimizer's state now (native and GPU memory, not at garbage collection). Afterwards
   * every method and setter throws "disposed"; a second dispose() does nothing.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#checkIdle('dispose');
    this.#dropExecutor();
    this.#finiteCheck = null;
    this.#disposed = true;
    this.#shard?.release();
    freeState(this.#groups.flatMap((g) => g.entries));
  }

  /** Whether dispose() was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** The step count, each group's parameter names and hyperparameters, and copies of the state. */
  stateDict(): StateDict<H> {
    this.#checkIdle('stateDict');
    const sd = saveStateDict(this.#spec.name, this.#step, this.#groups);
    return this.#shard ? { ...sd, shard: this.#shard.info() } : sd;
  }

  /** Restores a stateDict(): stepping on is bitwise identical to never having stopped. Checks all first. */
  loadStateDict(sd: StateDict<H>): void {
    const owner = `${this.#spec.name}.loadStateDict`;
    this.#checkIdle('loadStateDict');
    if (this.#shard) sd = localStateDict(owner, this.#shard, sd) as StateDict<H>;
    else if (typeof sd === 'object' && sd !== null && (sd as { shard?: unknown }).shard !== undefined)
      throw new Error(`${owner}: the state dict holds one rank's slice (sharded); rebuild the full one with comm.gatherStateDict, or load it into a sharded optimizer of the same world size`);
    this.#applyState(checkStateDict(this.#spec, this.#groups, sd));
  }

  #applyState(loaded: LoadedState<H>): void {
    this.#groups.forEach((g, i) => checkSparseUse(`${this.#spec.name}.loadStateDict`, this.#spec, g.entries, loaded.hypers[i], true));
    loaded.hypers.forEach((h, i) => checkCompactHyper(`${this.#spec.name}.loadStateDict: groups[${i}]`, this.#groups[i].stateDtype, h));
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
    this.#syncArrays('save');
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
    this.#syncArrays('saveSync');
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
    const file = checkpoint.checkPath(owner, path);
    this.#syncArrays('load');
    const reader = checkpoint.checkpointReader(owner, file, this.#checkpointSubject(), options);
    this.#busy = 'a load is in flight; await it first';
    let loaded: checkpoint.LoadedCheckpoint<H>;
    try {
      loaded = await checkpoint.readFile(file, reader);
    } finally {
      this.#busy = null;
    }
    this.#applyCheckpoint(loaded);
  }

  loadSync(path: string, options?: checkpoint.LoadOptions): void {
    const owner = `${this.#spec.name}.loadSync`;
    this.#checkIdle('loadSync');
    const file = checkpoint.checkPath(owner, path);
    this.#syncArrays('loadSync');
    const reader = checkpoint.checkpointReader(owner, file, this.#checkpointSubject(), options);
    this.#applyCheckpoint(checkpoint.readFileSync(file, reader));
  }

  #checkpointSubject(): checkpoint.CheckpointSubject<H, R> {
    return { spec: this.#spec, groups: this.#groups, step: this.#step, gradScale: this.#gradScale, ...(this.#shard ? { shard: this.#shard.info() } : {}) };
  }

  #applyCheckpoint(loaded: checkpoint.LoadedCheckpoint<H>): void {
    this.#applyState(loaded.state);
    // After the state (which allocates): the next step's fresh executor sees these values.
    for (const { entry, values } of loaded.params)
      if (values instanceof Uint16Array) (entry.data as Uint16Array).set(values);
      else writeTensor(entry.data as Tensor, values);
    this.#gradScale = loaded.gradScale;
    // Each rank restored its slice of the params: the gather gives every rank all of them.
    if (this.#shard && loaded.params.length > 0) this.#shard.gather();
  }

  // Setters that only change a value the next step reads may run while a step is in flight.
  #checkAlive(what: string): void {
    if (this.#disposed) throw new Error(`${this.#spec.name}.${what}: the optimizer was disposed`);
  }

  #checkIdle(what: string): void {
    this.#checkAlive(what);
    if (this.#busy) throw new Error(`${this.#spec.name}.${what}: ${this.#busy}`);
  }

  // Schedules first (user code: it may detach an array or call back in, and must see the
  // optimizer busy), then everything the step relies on, checked before anything changes.
  // Returns the step's t.
  // `executorChecks`: the executor re-checks the arrays itself (see #executorChecks).
  #beginStep(what: string, executorChecks = false): number {
    this.#checkIdle(what);
    const t = this.#step + 1;
    this.#clock.step = t;
    this.#busy = 'called from a schedule function during a step; a schedule must only compute the lr';
    try {
      this.#prepareScalars(t);
    } finally {
      this.#busy = null;
    }
    this.#syncArrays(what, executorChecks);
    const sparse = this.#sparse;
    if (sparse.length > 0) {
      const written = this.#groups.flatMap((g) =>
        g.entries.flatMap((e) => [
          ...(e.sparse ? [] : [{ where: `${e.where} data`, array: e.data }]),
          ...[...e.state].map(([slot, array]) => ({ where: `${e.where} ${slot}`, array })),
        ]),
      );
      this.#rows = readSparse(`${this.#spec.name}.${what}`, sparse, written as Array<{ where: string; array: Float32Array }>, this.#backend.planRows);
    }
    return t;
  }

  #hasDense(): boolean {
    return this.#grads.length > 0;
  }

  // The dense grads and the sparse entries, as the groups hold them now.
  #listEntries(): void {
    this.#grads = this.#groups.flatMap((g) => g.entries.filter((e) => !e.sparse).map((e) => e.grad));
    this.#sparse = this.#groups.flatMap((g) => g.entries.filter((e) => e.sparse));
  }

  // Every sparse parameter's touched rows, with its group's scalars and flags.
  #stepRows(): void {
    if (this.#rows.length === 0) return;
    const rule = this.#spec.rule as Rule<never>;
    for (const { entry, plan, grad, group } of this.#rowsByGroup())
      this.#backend.stepRows!(rule, this.#groups[group].scalars, this.#flags[group], this.#rowSlots(entry, grad), plan, entry.sparse!.rowSize);
    this.#rows = [];
  }

  #rowsByGroup(): Array<CoalescedRows & { group: number }> {
    return this.#rows.map((r) => ({ ...r, group: this.#groups.findIndex((g) => g.entries.includes(r.entry)) }));
  }

  #rowSlots(e: Entry, grad: Float32Array): Array<Float32Array | null> {
    return [e.data as Float32Array, grad, ...this.#spec.rule.stateSlots.map((s) => (e.state.get(s) as Float32Array | undefined) ?? null)];
  }

  // Whether this step may leave the detach check to the executor: one that checks every array
  // before it changes anything, with nothing else (sparse rows, the non-finite check) to change or
  // read the arrays before it. A step that must prepare an executor first checks here.
  #executorChecks(): boolean {
    return this.#executor?.checksArrays === true && this.#sparse.length === 0 && !this.#skipNonFinite;
  }

  // step()'s executor call (stepAsync pins the arrays first, so it checks them before); when it
  // throws because an array was detached (or freed), the error names the parameter as
  // #syncArrays's check does.
  #stepExecutor(): void {
    try {
      this.#ensureExecutor().step(this.#scalars, this.#flags);
    } catch (err) {
      this.#checkArraysIntact(`${this.#spec.name}.step`);
      throw err;
    }
  }

  // Each parameter's data and grad as the parameter object holds them now: a replaced array (same
  // kind and length, checked) is used from this step on, through a freshly prepared executor. Then
  // the cheap re-check that no array was detached or resized, unless `executorChecks` (it does the
  // same before it changes anything). Throws before anything changes.
  #syncArrays(what: string, executorChecks = false): void {
    const owner = `${this.#spec.name}.${what}`;
    let moved: Entry[] | null = null;
    for (const g of this.#groups)
      for (const e of g.entries) {
        const p = e.param;
        if (!e.sparse && (p.data !== e.data || p.grad !== e.grad)) (moved ??= []).push(e);
      }
    if (moved) {
      const replaced = moved.map((e): [Entry, { data: ParamTensor; grad: ParamTensor }] => [e, replacedArrays(owner, e) ?? e]);
      const now = new Map(replaced);
      const arrays = this.#groups.flatMap((g) =>
        g.entries.flatMap((e) => {
          if (e.sparse) return [{ where: `${e.where} data`, array: e.data }];
          const { data, grad } = now.get(e) ?? e;
          return [
            { where: `${e.where} data`, array: data },
            { where: `${e.where} grad`, array: grad },
          ];
        }),
      );
      try {
        checkDistinct(arrays);
      } catch (err) {
        throw new Error(`${owner}: ${(err as Error).message}`);
      }
      for (const [e, { data, grad }] of replaced) {
        e.data = data;
        e.grad = grad;
      }
      this.#listEntries();
      this.#dropExecutor();
    }
    // A replacement dropped the executor: then the check runs here.
    if (!(executorChecks && this.#executor)) this.#checkArraysIntact(owner);
  }

  // Throws, naming the first parameter (in order) it hit, when a dense array was detached or freed.
  #checkArraysIntact(owner: string): void {
    this.#watch ??= watchTensors(this.#denseTensors());
    if (watchIntact(this.#watch)) return;
    for (const g of this.#groups)
      for (const e of g.entries) {
        if (e.sparse) continue; // checked with its indices and grad by readSparse
        const problem = tensorProblem(e.data, e.grad, e.length);
        if (problem) throw new Error(`${owner}: ${e.where}: ${problem}`);
      }
  }

  *#denseTensors(): Generator<readonly [ParamTensor, number]> {
    for (const g of this.#groups)
      for (const e of g.entries)
        if (!e.sparse) {
          yield [e.data, e.length];
          yield [e.grad, e.length];
        }
  }

  #makeGroup(init: { lrWhere: string; hyper: Hyperparameters<H>; entries: Entry[]; stepsBefore?: number; storage: GroupStorage }, scalars: Float32Array): Group<H> {
    const { storage, ...rest } = init;
    return makeGroup({ ...rest, ...storage, host: { ...this.#spec.rule.hostState } }, scalars, Object.keys(this.#spec.hyper), (group, key, value) => this.#setHyper(group, key, value));
  }

  // `opt.paramGroups[i][key] = value`: checked (alone and against the group's other options), any
  // state the new value needs allocated zeroed, then assigned; a throw changes nothing.
  #setHyper(group: Group<H>, key: string, value: unknown): void {
    const { name } = this.#spec;
    const i = this.#groups.indexOf(group);
    this.#checkAlive(`paramGroups[${i}].${key}`);
    const where = `${name}: paramGroups[${i}]`;
    if (key === 'lr') {
      group.hyper.lr = checkLearningRate(`${name}: ${group.lrWhere}`, value);
      return;
    }
    if (value === undefined) throw new TypeError(`${where}.${key} must be set to a value, got undefined`);
    const next = checkHyper(this.#spec, `${where} option`, { ...group.hyper }, { [key]: value });
    this.#spec.check?.(next, `${where} option`);
    checkSparseUse(`${where} option '${key}'`, this.#spec, group.entries, next, true);
    checkCompactHyper(`${where} option '${key}'`, group.stateDtype, next);
    const slots = slotOptions(this.#spec, next);
    // New state means a new executor: not while one is in use.
    if (neededSlots(this.#spec.rule, slots).some((slot) => group.entries.some((e) => !e.state.has(slot))))
      this.#checkIdle(`paramGroups[${i}].${key}`);
    if (allocState(this.#spec.rule, slots, group.entries, this.#backend, group.stateDtype)) this.#dropExecutor();
    group.hyper = next;
  }

  // Every group's scalars and flags for step t (schedules evaluated once, here, all before any write).
  #prepareScalars(t: number): void {
    const { rule, name } = this.#spec;
    if (this.#lrs.length !== this.#groups.length) this.#lrs = new Float64Array(this.#groups.length);
    const lrs = this.#lrs;
    this.#groups.forEach((g, i) => (lrs[i] = typeof g.hyper.lr === 'number' ? g.hyper.lr : learningRateAt(`${name}: ${g.lrWhere}`, g.hyper.lr, t)));
    this.#groups.forEach((g, i) => {
      const options = stepOptions(this.#spec, g.hyper, lrs[i], this.#gradScale);
      g.nextHost = rule.hostState ? { ...g.host } : undefined;
      rule.scalars(options, t - g.stepsBefore, g.scalars, g.nextHost ?? NO_HOST_STATE);
      this.#flags[i] = rule.flags(options, t - g.stepsBefore);
    });
  }

  // Step t is done: it counts, and each group's host state moves on with it.
  #stepTaken(t: number): void {
    this.#step = t;
    for (const g of this.#groups) {
      if (g.nextHost) g.host = g.nextHost;
      g.nextHost = undefined;
    }
  }

  // With skipNonFinite: finite grads, and an update that stays finite.
  #stepIsFinite(): boolean {
    if (!this.#skipNonFinite) return true;
    if (this.#grads.some((g) => g instanceof Uint16Array))
      throw new Error(`${this.#spec.name}.step: skipNonFinite needs float32 grads; half-precision parameters do not support it yet`);
    if (this.#grads.some((g) => !(g instanceof Float32Array)))
      throw new Error(`${this.#spec.name}.step: skipNonFinite needs the grads on the host; DeviceTensor grads do not support it yet`);
    if (!Number.isFinite(this.#backend.grads.sumSquares([...(this.#grads as Float32Array[]), ...this.#rows.map((r) => r.grad)]))) return false;
    const rule = this.#spec.rule as Rule<never>;
    for (const { entry, plan, grad, group } of this.#rowsByGroup())
      if (!rowsStayFinite(rule, this.#groups[group].scalars, this.#flags[group], this.#rowSlots(entry, grad), plan, entry.sparse!.rowSize)) return false;
    const groups = this.#tensorGroups();
    // Host-mirror CUDA keeps the state on the device, compact state (lib/compact) is not float32:
    // there only the grads are checked.
    if (groups.some((tensors) => tensors.some((slots) => slots.some((t) => t !== null && !(t instanceof Float32Array))))) return true;
    this.#finiteCheck ??= new FiniteCheck(this.#spec.rule as Rule<never>, this.#backend);
    return this.#finiteCheck.check(groups as Array<Array<Array<Float32Array | null>>>, this.#scalars, this.#flags);
  }

  // Each dense tensor's slots; a half-precision parameter's param and grad as the compact driver
  // takes them (lib/compact/half.ts), indexed by its place among all parameters.
  #tensorGroups(): Array<Array<Array<Tensor | CompactSlot | HalfParamSlot | HalfTensor | null>>> {
    const slots = this.#spec.rule.stateSlots;
    let index = 0;
    return this.#groups.map((g) =>
      g.entries
        .map((e) => ({ e, index: index++ }))
        .filter(({ e }) => !e.sparse)
        .map(({ e, index }) => {
          const state = slots.map((s) => e.state.get(s) ?? null);
          if (e.dtype === 'fp32') return [e.data as Tensor, e.grad as Tensor, ...state];
          const storage = halfStorage(e.dtype);
          const master = (e.state.get('master') as Float32Array | undefined) ?? null;
          return [new HalfParamSlot(new HalfTensor(storage, e.data as Uint16Array), master, index, this.#clock), new HalfTensor(storage, e.grad as Uint16Array), ...state];
        }),
    );
  }

  // Compact state takes dense parameters only (refused before anything changes).
  // `option`: how messages name the group's options ('option', 'paramGroups[1] option').
  #checkCompactUse(owner: string, entries: readonly Entry[], sharded: boolean, stateDtype: StateDtype, option: string): void {
    const half = entries.find((e) => e.dtype !== 'fp32');
    if (half && sharded) throw new Error(`${owner}: ${half.where} is a ${half.dtype} parameter; half-precision parameters cannot be combined with 'shard'`);
    if (stateDtype === 'fp32') return;
    const sparse = entries.find((e) => e.sparse);
    if (sparse) throw new Error(`${owner}: ${sparse.where} is row-sparse; ${option} 'stateDtype' '${stateDtype}' takes dense parameters only`);
    // int8 blocks of 256 would straddle the rank slices, so a sharded run would not equal one process.
    if (sharded) throw new Error(`${owner}: ${option} 'stateDtype' '${stateDtype}' cannot be combined with 'shard' (sharded state is fp32)`);
  }

  #dropExecutor(): void {
    this.#executor?.release?.();
    this.#executor = null;
    this.#watch = null;
    this.#finiteCheck?.release();
  }

  #ensureExecutor(): Executor {
    this.#executor ??= this.#backend.prepare(this.#spec.rule as Rule<never>, this.#tensorGroups());
    return this.#executor;
  }
}
