import type { CompactSlot } from './compact/slot';
import { type ParamDtype, checkParamDtype } from './compact/half';
import type { DeviceTensor } from './cuda';
import { type SparseInfo, type SparseParam, checkRowSize, isSparseObject } from './sparse';
import { type ParamTensor, type Tensor, checkDistinct, checkTensor, tensorLength } from './tensor';
import { checkKnownKeys, checkPlainObject, checkUint16Array, describe, lengthOf } from './validate';

/**
 * A parameter: the user's own arrays, updated in place. `name` keys its state (default: its index).
 * `Param` (host arrays) is the common case; `Param<DeviceTensor>` keeps the parameter on the GPU,
 * with backend 'cuda'.
 */
export interface Param<T extends Tensor = Float32Array> {
  name?: string;
  data: T;
  grad: T;
}

/**
 * A half-precision parameter (README "Half-precision parameters"): bf16 or IEEE binary16 bits in
 * Uint16Arrays; the grad is widened exactly before the rule, the result written back from an fp32
 * master (option `masterWeights`, default) or by stochastic rounding.
 */
export interface HalfParam {
  name?: string;
  data: Uint16Array;
  grad: Uint16Array;
  dtype: 'bf16' | 'fp16';
}

/** What an optimizer takes: parameters on the host (float32 or half), on the GPU, or row-sparse (lib/sparse.ts). */
export type AnyParam = (Param<Float32Array> & { dtype?: 'fp32' }) | Param<DeviceTensor> | HalfParam | SparseParam;

export type { ParamTensor } from './tensor';

/** One checked parameter, as the optimizer keeps it. */
export interface Entry {
  /** `params[2] "embed.weight"`, or `paramGroups[1].params[0] "bias"`: for messages. */
  where: string;
  name: string;
  length: number;
  param: AnyParam;
  data: ParamTensor;
  grad: ParamTensor;
  /** 'fp32' (Float32Array or DeviceTensor), or 'bf16'/'fp16' (Uint16Arrays). */
  dtype: ParamDtype;
  /** State slots by name: float32 (host or device), or compact storage (lib/compact). */
  state: Map<string, Tensor | CompactSlot>;
  /** Set for a row-sparse parameter: its indices and grad are read at every step (lib/sparse.ts), `grad` is unused. */
  sparse?: SparseInfo;
}

/** Whether the constructor got parameter groups ({ params, ...options }) rather than parameters. */
export function isGroupList(owner: string, params: unknown): boolean {
  if (!Array.isArray(params)) throw new TypeError(`${owner}: params must be an array of {name?, data, grad} or of parameter groups {params, ...options}, got ${describe(params)}`);
  if (params.length === 0) throw new RangeError(`${owner}: params is empty; give at least one parameter`);
  for (let i = 0; i < params.length; i++)
    if (!(i in params)) throw new TypeError(`${owner}: params[${i}] is a hole in the array; give a parameter or a group there`);
  const groups = params.map((p) => typeof p === 'object' && p !== null && 'params' in p);
  if (groups.every(Boolean)) return true;
  if (groups.some(Boolean))
    throw new TypeError(`${owner}: params mixes parameters and parameter groups; give one kind (params[${groups.indexOf(false)}] is not a group)`);
  return false;
}

/**
 * Checks every parameter of every group: shapes, unique names (across groups), no shared memory.
 * `prefixes[g]` is how messages name group g's list (`params`, or `paramGroups[1].params`).
 * `existing`: the optimizer's entries so far (addParamGroup): names and memory the new ones must
 * not repeat, and unnamed ones continue their numbering.
 */
export function checkParamLists(
  owner: string,
  lists: ReadonlyArray<unknown>,
  prefixes: readonly string[],
  existing: readonly Entry[] = [],
): Entry[][] {
  const seen = new Map<string, string>(existing.map((e) => [e.name, e.where]));
  const arrays: Array<{ where: string; array: ParamTensor }> = existing.flatMap((e) => [
    { where: `${e.where} data`, array: e.data },
    ...(e.sparse ? [] : [{ where: `${e.where} grad`, array: e.grad }]),
  ]);
  let index = existing.length;
  const start = index;
  const result = lists.map((list, g) => {
    if (!Array.isArray(list)) throw new TypeError(`${owner}: ${prefixes[g]} must be an array of {name?, data, grad}, got ${describe(list)}`);
    for (let i = 0; i < list.length; i++)
      if (!(i in list)) throw new TypeError(`${owner}: ${prefixes[g]}[${i}] is a hole in the array; give a parameter there`);
    return list.map((p: unknown, i): Entry => {
      const at = `${owner}: ${prefixes[g]}[${i}]`;
      const param = checkPlainObject(at, p);
      const sparse = isSparseObject(param);
      checkKnownKeys(at, param, sparse ? ['name', 'data', 'grad', 'rowSize', 'indices'] : ['name', 'data', 'grad', 'dtype']);
      if (param.name !== undefined && typeof param.name !== 'string')
        throw new TypeError(`${at}: name must be a string, got ${describe(param.name)}`);
      const name = (param.name as string | undefined) ?? String(index);
      index++;
      const where = `${prefixes[g]}[${i}] "${name}"`;
      if (seen.has(name)) throw new Error(`${owner}: ${where} has the same name as ${seen.get(name)}; names must be unique`);
      seen.set(name, `${prefixes[g]}[${i}]`);
      if (sparse) {
        const data = checkTensor(`${owner}: ${where}: data`, param.data);
        if (!(data instanceof Float32Array)) throw new TypeError(`${owner}: ${where}: data of a sparse parameter must be a Float32Array (backend 'cuda' takes no sparse parameters)`);
        const info = checkRowSize(`${owner}: ${where}`, param.rowSize, data.length);
        arrays.push({ where: `${where} data`, array: data });
        return { where, name, length: data.length, param: p as AnyParam, data, grad: new Float32Array(0), state: new Map(), sparse: info, dtype: 'fp32' };
      }
      const dtype = checkParamDtype(`${owner}: ${where}`, param.dtype, param.data, param.grad);
      if (dtype !== 'fp32') {
        const data = checkUint16Array(`${owner}: ${where}: data`, param.data);
        const grad = checkUint16Array(`${owner}: ${where}: grad`, param.grad);
        const length = lengthOf(data);
        if (lengthOf(grad) !== length) throw new RangeError(`${owner}: ${where}: grad has length ${lengthOf(grad)}, data has ${length}`);
        arrays.push({ where: `${where} data`, array: data }, { where: `${where} grad`, array: grad });
        return { where, name, length, param: p as AnyParam, data, grad, state: new Map(), dtype };
      }
      const data = checkTensor(`${owner}: ${where}: data`, param.data);
      const grad = checkTensor(`${owner}: ${where}: grad`, param.grad);
      if (data instanceof Float32Array !== grad instanceof Float32Array)
        throw new TypeError(`${owner}: ${where}: data and grad must both be Float32Arrays or both DeviceTensors`);
      const length = tensorLength(data);
      if (tensorLength(grad) !== length)
        throw new RangeError(`${owner}: ${where}: grad has length ${tensorLength(grad)}, data has ${length}`);
      arrays.push({ where: `${where} data`, array: data }, { where: `${where} grad`, array: grad });
      return { where, name, length, param: p as AnyParam, data, grad, state: new Map(), dtype };
    });
  });
  if (index === start) throw new RangeError(`${owner}: params is empty; give at least one parameter`);
  try {
    checkDistinct(arrays);
  } catch (e) {
    throw new Error(`${owner}: ${(e as Error).message}`);
  }
  return result;
}

/**
 * The arrays `p.data` and `p.grad` hold now, where they differ from the entry's: checked (same kind
 * and length as before, not detached), or a throw naming the parameter. Null when both are the same
 * objects (the per-step cost: two reads and two identity checks).
 */
export function replacedArrays(owner: string, e: Entry): { data: ParamTensor; grad: ParamTensor } | null {
  const param = e.param as { data: unknown; grad: unknown };
  const data = param.data, grad = param.grad;
  if (data === e.data && grad === e.grad) return null;
  const check = (which: 'data' | 'grad', v: unknown, old: ParamTensor): ParamTensor => {
    if (v === old) return old;
    const at = `${owner}: ${e.where}: ${which}`;
    if (e.dtype !== 'fp32') {
      const half = checkUint16Array(`${at} (dtype '${e.dtype}')`, v);
      if (lengthOf(half) !== e.length) throw new RangeError(`${at} was replaced by an array of length ${lengthOf(half)}; the parameter has length ${e.length}`);
      return half;
    }
    const t = checkTensor(at, v);
    if (t instanceof Float32Array !== old instanceof Float32Array)
      throw new TypeError(`${at} was replaced by a ${describe(v).replace(/^an? /, '')}; it must stay a ${old instanceof Float32Array ? 'Float32Array' : 'DeviceTensor'}`);
    const length = tensorLength(t);
    if (length !== e.length) throw new RangeError(`${at} was replaced by an array of length ${length}; the parameter has length ${e.length}`);
    return t;
  };
  return { data: check('data', data, e.data), grad: check('grad', grad, e.grad) };
}
