// adam-native/tfjs: this library's optimizers as TensorFlow.js optimizers. The caller hands in its
// own tfjs module, so nothing here loads tfjs; the import below is for types only.
import type * as tfc from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import * as lib from '../index';
import type { LearningRate, Optimizer, Param, StateDict } from '../index';
import { checkNumber, checkPlainObject, describe } from '../validate';
import { readInto, tensorOf, wasmHeap } from './transfer';
import { tuning } from './tuning';

/** The optimizers of this library by class name; any Optimizer subclass the package exports works. */
export type NativeOptimizerName = 'Adam' | 'AdamW' | 'AdaMax' | 'SGD' | 'AdaGrad' | 'RMSProp' | (string & {});

/** Which variables a group takes: the exact name, a RegExp tested on the name, or a predicate. */
export type VariableMatch = string | RegExp | ((name: string) => boolean);

/** A parameter group chosen by variable name, with the hyperparameters that differ for it. */
export type VariableGroup = { match: VariableMatch } & Record<string, unknown> & { lr?: LearningRate };

/**
 * The wrapped optimizer's options (lr, betas, schedules, backend, isa, threads, skipNonFinite,
 * gradScale, ...) plus `groups` (first match wins; unmatched variables form a last group with the
 * top-level options) and `clipGradNorm` (a max global L2 norm applied to the grads before each step).
 */
export type NativeOptimizerOptions = Record<string, unknown> & {
  groups?: VariableGroup[];
  clipGradNorm?: number;
  lr?: LearningRate;
};

/** The tfjs module parts the adapter uses: `@tensorflow/tfjs` or `@tensorflow/tfjs-core` both fit. */
export type TfModule = Pick<typeof tfc, 'Optimizer' | 'tensor' | 'tidy' | 'engine' | 'getBackend'>;

/** A `tf.Optimizer` whose step is this library's, on every variable in one native call. */
export interface NativeTfOptimizer extends tfc.Optimizer {
  /** The wrapped optimizer; null until the first applyGradients tells it the variables. */
  readonly optimizer: Optimizer<any, any> | null;
  /** The variables stepped, in the order of the first applyGradients (empty before it). */
  readonly variableNames: readonly string[];
  /** The global grad norm before clipping at the last step (NaN without clipGradNorm or before a step). */
  readonly lastGradNorm: number;
  /** False when the last applyGradients skipped its step (skipNonFinite and a NaN or ±Inf grad). */
  readonly lastStepped: boolean;
  /** The wrapped optimizer's state dict (state slots by variable name). */
  stateDict(): StateDict;
  /** Restores a stateDict(); the variables must already be known (after a first step). */
  loadStateDict(sd: unknown): void;
}

type OptimizerClass = new (params: unknown, options?: unknown) => Optimizer<any, any>;

const OWNER = 'nativeOptimizer';
const ADAPTER_KEYS = ['groups', 'clipGradNorm'];
const GRAD_BACKENDS = new Set(['auto', 'native', 'js']);

function optimizerClass(name: unknown): OptimizerClass {
  const known = Object.entries(lib)
    .filter(([, v]) => typeof v === 'function' && v.prototype instanceof lib.Optimizer)
    .map(([k]) => k);
  if (typeof name !== 'string') throw new TypeError(`${OWNER}: name must be one of ${known.join(', ')}, got ${describe(name)}`);
  if (!known.includes(name)) throw new RangeError(`${OWNER}: name must be one of ${known.join(', ')}, got ${describe(name)}`);
  return (lib as unknown as Record<string, OptimizerClass>)[name];
}

function checkMatch(where: string, m: unknown): (name: string) => boolean {
  if (typeof m === 'string') return (n) => n === m;
  if (m instanceof RegExp) return (n) => {
    m.lastIndex = 0;
    return m.test(n);
  };
  if (typeof m === 'function') return (n) => Boolean(m(n));
  throw new TypeError(`${where} must be a string, a RegExp or a function of the variable name, got ${describe(m)}`);
}

/** Library messages say paramGroups[i]; the adapter's user wrote groups[i] (the same index). */
function renamed(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  return new (e.constructor as ErrorConstructor)(e.message.replace(/paramGroups\[/g, 'groups['));
}

interface Checked {
  Cls: OptimizerClass;
  matchers: Array<(name: string) => boolean>;
  groupHypers: Array<Record<string, unknown>>;
  libOptions: Record<string, unknown>;
  maxNorm: number | null;
  clipOptions: Record<string, unknown>;
}

// Everything checked up front by building the wrapped optimizer once on one-element stand-ins.
function checkOptions(name: unknown, options: unknown): Checked {
  const Cls = optimizerClass(name);
  const opts = checkPlainObject(`${OWNER}: options`, options ?? {});
  const libOptions: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) if (!ADAPTER_KEYS.includes(k)) libOptions[k] = v;
  let maxNorm: number | null = null;
  if (opts.clipGradNorm !== undefined) maxNorm = checkNumber(`${OWNER}: option 'clipGradNorm'`, opts.clipGradNorm, { min: 0 });
  const rawGroups = opts.groups ?? [];
  if (!Array.isArray(rawGroups)) throw new TypeError(`${OWNER}: option 'groups' must be an array of {match, ...options}, got ${describe(rawGroups)}`);
  const matchers: Array<(name: string) => boolean> = [];
  const groupHypers = rawGroups.map((g: unknown, i) => {
    const group = checkPlainObject(`${OWNER}: groups[${i}]`, g);
    matchers.push(checkMatch(`${OWNER}: groups[${i}].match`, group.match));
    const { match: _match, ...hyper } = group;
    return hyper;
  });
  const stand = (i: number): Param => ({ name: `v${i}`, data: new Float32Array(1), grad: new Float32Array(1) });
  const probeParams = groupHypers.length === 0 ? [stand(0)] : [...groupHypers, {}].map((h, i) => ({ ...h, params: [stand(i)] }));
  try {
    new Cls(probeParams, libOptions);
  } catch (e) {
    throw renamed(e);
  }
  const clipOptions: Record<string, unknown> = {};
  for (const k of ['backend', 'isa', 'threads']) if (libOptions[k] !== undefined) clipOptions[k] = libOptions[k];
  if (maxNorm !== null && clipOptions.backend !== undefined && !GRAD_BACKENDS.has(clipOptions.backend as string))
    throw new RangeError(`${OWNER}: option 'clipGradNorm' works on host grads; backend ${describe(clipOptions.backend)} does not support it`);
  return { Cls, matchers, groupHypers, libOptions, maxNorm, clipOptions };
}

const EMPTY = new Float32Array(0);

/**
 * One variable. On tfjs-backend-wasm the step runs in place on the variable's own memory (a view
 * into the heap, checked at every read) and on a copy of the gradient kept here, or (models above
 * tuning.gradCopyMaxElements) straight from the gradient tensor's memory; elsewhere on copies kept
 * here, written back with `variable.assign`.
 */
interface Slot {
  name: string;
  variable: tfc.Variable;
  /** What the wrapped optimizer holds: getters onto the arrays below, so it always sees the current ones. */
  param: Param;
  /** True while the values live in the variable (wasm, in place); false: in `data`, assigned after each step. */
  inPlace: boolean;
  /** The copy of the values (copy mode), allocated when first needed. */
  data: Float32Array | null;
  /** The variable data `data` holds: another one means the variable was set elsewhere. */
  dataOf: unknown;
  /** The gradient read in place during a step (null between steps, and when `ownGrad` holds a copy). */
  gradTensor: tfc.Tensor | null;
  /** The last heap views of the variable and of the gradient (see heapView). */
  view: Float32Array | null;
  gradView: Float32Array | null;
  /** The gradient copy (copy mode, clipping, a gradient sharing memory), allocated when first needed. */
  ownGrad: Float32Array | null;
}

/**
 * A view over `t` in the wasm heap as it is now; the slot's last view under `key` when it is still
 * over the same memory (an unchanged object keeps the wrapped optimizer's prepared plan). EMPTY
 * when `t` is no longer there: the wrapped optimizer then refuses to step, naming the parameter.
 */
function heapView(tf: TfModule, slot: Slot, t: tfc.Tensor, key: 'view' | 'gradView'): Float32Array {
  const view = wasmHeap(tf)?.view(t, slot[key]) ?? null;
  if (view === null) return EMPTY;
  return (slot[key] = view);
}

function elementsOf(slots: Slot[]): number {
  let n = 0;
  for (const s of slots) n += s.variable.size;
  return n;
}

const classes = new WeakMap<object, new (name: string, checked: Checked) => NativeTfOptimizer>();

function classFor(tf: TfModule): new (name: string, checked: Checked) => NativeTfOptimizer {
  let Cls = classes.get(tf.Optimizer);
  if (Cls) return Cls;

  class NativeOptimizer extends tf.Optimizer implements NativeTfOptimizer {
    static get className(): string {
      return 'AdamNativeOptimizer';
    }

    readonly #name: string;
    readonly #checked: Checked;
    #opt: Optimizer<any, any> | null = null;
    #slots: Slot[] = [];
    #byName = new Map<string, Slot>();
    #pending: StateDict | null = null;
    #disposed = false;
    #lastGradNorm = NaN;
    #lastStepped = true;
    // The options given to the wrapped optimizer, and to clipGradNorm (set by the first step).
    #libOptions: Record<string, unknown> | null = null;
    #clipOptions: Record<string, unknown> = {};

    constructor(name: string, checked: Checked) {
      super();
      this.#name = name;
      this.#checked = checked;
    }

    get optimizer(): Optimizer<any, any> | null {
      return this.#opt;
    }

    get variableNames(): readonly string[] {
      return this.#slots.map((s) => s.name);
    }

    get lastGradNorm(): number {
      return this.#lastGradNorm;
    }

    get lastStepped(): boolean {
      return this.#lastStepped;
    }

    applyGradients(variableGradients: tfc.NamedTensorMap | NamedTensor[]): void {
      const where = `${OWNER}(${this.#name}).applyGradients`;
      this.#checkAlive(where);
      const named: Array<[string, tfc.Tensor]> = Array.isArray(variableGradients)
        ? variableGradients.map((g) => [g.name, g.tensor])
        : Object.entries(checkPlainObject(`${where}: variableGradients`, variableGradients) as tfc.NamedTensorMap);
      const registered = tf.engine().registeredVariables;
      const pairs = named.map(([name, grad]) => {
        const variable = registered[name];
        if (!variable) throw new Error(`${where}: gradient "${name}" names no registered variable`);
        if (grad == null || typeof (grad as tfc.Tensor).dataSync !== 'function')
          throw new TypeError(`${where}: gradient "${name}" must be a tf.Tensor, got ${describe(grad)}`);
        if (grad.isDisposed) throw new Error(`${where}: gradient "${name}" was disposed`);
        if (variable.dtype !== 'float32' || grad.dtype !== 'float32')
          throw new TypeError(`${where}: variable "${name}" and its gradient must be float32, got ${variable.dtype} and ${grad.dtype}`);
        if (grad.size !== variable.size)
          throw new RangeError(`${where}: gradient "${name}" has ${grad.size} elements, the variable ${variable.size}`);
        return { name, variable, grad };
      });
      const slots = this.#opt === null ? pairs.map((p) => this.#makeSlot(p.name, p.variable)) : this.#slots;
      // Every step after the first names the same variables, as a rule in the same order.
      const inOrder = this.#opt !== null && pairs.length === slots.length && pairs.every((p, i) => p.name === slots[i].name);
      if (this.#opt !== null && !inOrder) this.#checkSameVariables(where, pairs.map((p) => p.name));
      const byName = this.#opt === null ? new Map(slots.map((s) => [s.name, s])) : this.#byName;
      const grads = pairs.map(({ name, variable, grad }, i) => {
        const slot = inOrder ? slots[i] : byName.get(name)!;
        if (slot.variable !== variable) throw new Error(`${where}: variable "${name}" was disposed and re-created; make a new optimizer`);
        return { slot, grad };
      });
      this.#prepare(grads);
      try {
        if (this.#opt === null) this.#build(where, slots);
        if (this.#checked.maxNorm !== null)
          this.#lastGradNorm = lib.clipGradNorm(this.#slots.map((s) => s.param.grad), this.#checked.maxNorm, this.#clipOptions);
        this.#lastStepped = this.#opt!.step();
      } finally {
        for (const s of slots) s.gradTensor = null;
      }
      if (!this.#lastStepped) return;
      const heap = wasmHeap(tf);
      for (const slot of this.#slots) {
        if (!slot.inPlace) this.#writeBack(slot);
        else heap?.renew(slot.variable);
      }
      this.incrementIterations();
    }

    // Everything that may allocate tfjs memory (and so grow the wasm heap) happens here, before the
    // step makes its heap views: taking sole ownership of a variable's memory, reading copies.
    #prepare(grads: Array<{ slot: Slot; grad: tfc.Tensor }>): void {
      const heap = wasmHeap(tf);
      const taken = new Set<unknown>(); // memory the step writes or already reads through a view
      for (const { slot } of grads) {
        const v = slot.variable;
        slot.inPlace = heap !== null && heap.view(v, slot.view) !== null;
        if (heap === null || !slot.inPlace) {
          slot.data ??= new Float32Array(v.size);
          if (slot.dataOf !== v.dataId) readInto(tf, v, slot.data);
          slot.dataOf = v.dataId;
          continue;
        }
        // Another tensor (a reshape, the initial value) sharing this memory must keep its values.
        if (heap.refCount(v) > 1) tf.tidy(() => v.assign(v.clone()));
        slot.dataOf = null;
        taken.add(v.dataId);
      }
      // Clipping scales the grads in place: the caller's tensors must not change, so it works on copies.
      // Small models' gradients are copied too (see tuning.gradCopyMaxElements).
      let elements = 0;
      for (const { grad } of grads) elements += grad.size;
      const copy = this.#checked.maxNorm !== null || elements <= tuning.gradCopyMaxElements;
      for (const { slot, grad } of grads) {
        if (heap !== null && !copy && !taken.has(grad.dataId) && heap.view(grad) !== null) {
          slot.gradTensor = grad;
          taken.add(grad.dataId);
        } else {
          slot.ownGrad ??= lib.allocFloat32(grad.size);
          readInto(tf, grad, slot.ownGrad);
        }
      }
    }

    #makeSlot(name: string, variable: tfc.Variable): Slot {
      const slot: Slot = { name, variable, param: null!, inPlace: false, data: null, dataOf: null, gradTensor: null, view: null, gradView: null, ownGrad: null };
      const dataNow = () => this.#dataNow(slot);
      const gradNow = () => this.#gradNow(slot);
      slot.param = {
        name,
        get data() {
          return dataNow();
        },
        get grad() {
          return gradNow();
        },
      };
      return slot;
    }

    // The arrays the wrapped optimizer reads, whenever it reads them: views made from the heap as it
    // is now (a schedule function may have allocated since #prepare), the same object while the
    // memory stays, so the wrapped optimizer keeps its prepared plan across steps.
    #dataNow(slot: Slot): Float32Array {
      if (!slot.inPlace) return slot.data ?? EMPTY;
      return heapView(tf, slot, slot.variable, 'view');
    }

    #gradNow(slot: Slot): Float32Array {
      if (slot.gradTensor !== null) return heapView(tf, slot, slot.gradTensor, 'gradView');
      return (slot.ownGrad ??= lib.allocFloat32(slot.variable.size));
    }

    // The values go to tfjs as a copy: the next step rewrites ours in place.
    #writeBack(slot: Slot): void {
      const { variable, data } = slot;
      tf.tidy(() => variable.assign(tensorOf(tf, data!, variable.shape) as tfc.Variable));
      slot.dataOf = variable.dataId;
    }

    #build(where: string, slots: Slot[]): void {
      const { Cls, matchers, groupHypers } = this.#checked;
      const libOptions = this.#checked.libOptions.threads === undefined && elementsOf(slots) <= tuning.oneThreadMaxElements ? { ...this.#checked.libOptions, threads: 1 } : this.#checked.libOptions;
      let opt: Optimizer<any, any>;
      if (groupHypers.length === 0) opt = new Cls(slots.map((s) => s.param), libOptions);
      else {
        const lists: Param[][] = [...groupHypers, {}].map(() => []);
        for (const s of slots) {
          const g = matchers.findIndex((m) => m(s.name));
          lists[g < 0 ? groupHypers.length : g].push(s.param);
        }
        try {
          opt = new Cls([...groupHypers, {}].map((h, i) => ({ ...h, params: lists[i] })), libOptions);
        } catch (e) {
          throw renamed(e);
        }
      }
      if (this.#pending) {
        try {
          opt.loadStateDict(this.#pending);
        } catch (e) {
          opt.dispose();
          throw new Error(`${where}: the weights given to setWeights do not fit these variables: ${(e as Error).message}`);
        }
      }
      this.#pending = null;
      this.#libOptions = libOptions;
      this.#clipOptions = { ...this.#checked.clipOptions, threads: libOptions.threads };
      this.#opt = opt;
      this.#slots = slots;
      this.#byName = new Map(slots.map((s) => [s.name, s]));
    }

    #checkSameVariables(where: string, names: string[]): void {
      const given = new Set(names);
      const missing = this.#slots.filter((s) => !given.has(s.name)).map((s) => s.name);
      const extra = names.filter((n) => !this.#byName.has(n));
      if (missing.length || extra.length || given.size !== names.length)
        throw new Error(
          `${where}: this optimizer steps the variables of its first call (${this.#slots.length}); ` +
            (missing.length ? `no gradient for ${missing.map((n) => `"${n}"`).join(', ')}` : '') +
            (missing.length && extra.length ? '; ' : '') +
            (extra.length ? `unknown variable ${extra.map((n) => `"${n}"`).join(', ')}` : '') +
            (given.size !== names.length ? 'a variable is named twice' : ''),
        );
    }

    #checkAlive(where: string): void {
      if (this.#disposed) throw new Error(`${where}: the optimizer was disposed`);
    }

    stateDict(): StateDict {
      const where = `${OWNER}(${this.#name}).stateDict`;
      this.#checkAlive(where);
      if (!this.#opt) throw new Error(`${where}: no variables yet; the first applyGradients (or fit) sets them`);
      return this.#opt.stateDict();
    }

    loadStateDict(sd: StateDict): void {
      const where = `${OWNER}(${this.#name}).loadStateDict`;
      this.#checkAlive(where);
      if (!this.#opt) throw new Error(`${where}: no variables yet; the first applyGradients (or fit) sets them`);
      this.#opt.loadStateDict(sd);
      this.iterations_ = this.#opt.stepCount;
    }

    // tfjs's layout: the iteration count, then every state slot as "<variable>/<slot>".
    override async getWeights(): Promise<NamedTensor[]> {
      this.#checkAlive(`${OWNER}(${this.#name}).getWeights`);
      const out = [await this.saveIterations()];
      const sd = this.#opt?.stateDict();
      if (sd)
        for (const s of this.#slots)
          for (const [slot, values] of Object.entries(sd.state[s.name]))
            out.push({ name: `${s.name}/${slot}`, tensor: tf.tensor(values, s.variable.shape, 'float32') });
      return out;
    }

    override async setWeights(weightValues: NamedTensor[]): Promise<void> {
      const where = `${OWNER}(${this.#name}).setWeights`;
      this.#checkAlive(where);
      if (!Array.isArray(weightValues) || weightValues.length === 0)
        throw new TypeError(`${where}: weightValues must be getWeights()'s array, got ${describe(weightValues)}`);
      const first = weightValues[0];
      const step = (await first.tensor.data())[0];
      if (!Number.isInteger(step) || step < 0) throw new RangeError(`${where}: the iteration count must be an integer >= 0, got ${step}`);
      const state: StateDict['state'] = {};
      for (const { name, tensor } of weightValues.slice(1)) {
        const cut = name.lastIndexOf('/');
        if (cut < 0) throw new Error(`${where}: weight "${name}" is not "<variable>/<slot>"`);
        (state[name.slice(0, cut)] ??= {})[name.slice(cut + 1)] = (await tensor.data()) as Float32Array;
      }
      const sd = { step, state } as StateDict;
      if (this.#opt) this.#opt.loadStateDict(sd);
      else this.#pending = sd;
      this.iterations_ = step;
    }

    getConfig(): tfc.serialization.ConfigDict {
      const options = this.#opt?.options ?? {};
      const config: tfc.serialization.ConfigDict = { optimizer: this.#name };
      for (const [k, v] of Object.entries({ ...(this.#libOptions ?? this.#checked.libOptions), ...options }))
        if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') config[k] = v;
      return config;
    }

    override dispose(): void {
      if (this.#disposed) return;
      this.#disposed = true;
      this.#opt = null;
      this.#slots = [];
      this.#byName.clear();
      super.dispose();
    }
  }

  Cls = NativeOptimizer as unknown as new (name: string, checked: Checked) => NativeTfOptimizer;
  classes.set(tf.Optimizer, Cls);
  return Cls;
}

/**
 * A `tf.Optimizer` that steps with this library's optimizer `name`: usable in
 * `model.compile({ optimizer })`, `optimizer.minimize(f)` and `applyGradients`. It keeps each
 * variable's fp32 value and the state on its side, steps all variables in one call, and writes the
 * values back with `variable.assign`. Options are checked here, before any tfjs work.
 */
export function nativeOptimizer(tf: TfModule, name: NativeOptimizerName, options?: NativeOptimizerOptions): NativeTfOptimizer {
  if (typeof tf !== 'object' || tf === null || typeof (tf as TfModule).Optimizer !== 'function' || typeof (tf as TfModule).engine !== 'function' || typeof (tf as TfModule).getBackend !== 'function')
    throw new TypeError(`${OWNER}: tf must be the @tensorflow/tfjs (or tfjs-core) module, got ${describe(tf)}`);
  const checked = checkOptions(name, options);
  return new (classFor(tf))(name, checked);
}
