import type { DeviceTensor } from './cuda';
import { type Tensor, checkDistinct, checkTensor, tensorLength } from './tensor';
import { checkKnownKeys, checkPlainObject, describe } from './validate';

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

/** What an optimizer takes: parameters on the host, or on the GPU. */
export type AnyParam = Param<Float32Array> | Param<DeviceTensor>;

/** One checked parameter, as the optimizer keeps it. */
export interface Entry {
  /** `params[2] "embed.weight"`, or `paramGroups[1].params[0] "bias"`: for messages. */
  where: string;
  name: string;
  length: number;
  param: AnyParam;
  data: Tensor;
  grad: Tensor;
  state: Map<string, Tensor>;
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
 */
export function checkParamLists(owner: string, lists: ReadonlyArray<unknown>, prefixes: readonly string[]): Entry[][] {
  const seen = new Map<string, string>();
  const arrays: Array<{ where: string; array: Tensor }> = [];
  let index = 0;
  const result = lists.map((list, g) => {
    if (!Array.isArray(list)) throw new TypeError(`${owner}: ${prefixes[g]} must be an array of {name?, data, grad}, got ${describe(list)}`);
    for (let i = 0; i < list.length; i++)
      if (!(i in list)) throw new TypeError(`${owner}: ${prefixes[g]}[${i}] is a hole in the array; give a parameter there`);
    return list.map((p: unknown, i): Entry => {
      const at = `${owner}: ${prefixes[g]}[${i}]`;
      const param = checkPlainObject(at, p);
      checkKnownKeys(at, param, ['name', 'data', 'grad']);
      if (param.name !== undefined && typeof param.name !== 'string')
        throw new TypeError(`${at}: name must be a string, got ${describe(param.name)}`);
      const name = (param.name as string | undefined) ?? String(index);
      index++;
      const where = `${prefixes[g]}[${i}] "${name}"`;
      if (seen.has(name)) throw new Error(`${owner}: ${where} has the same name as ${seen.get(name)}; names must be unique`);
      seen.set(name, `${prefixes[g]}[${i}]`);
      const data = checkTensor(`${owner}: ${where}: data`, param.data);
      const grad = checkTensor(`${owner}: ${where}: grad`, param.grad);
      if (data instanceof Float32Array !== grad instanceof Float32Array)
        throw new TypeError(`${owner}: ${where}: data and grad must both be Float32Arrays or both DeviceTensors`);
      const length = tensorLength(data);
      if (tensorLength(grad) !== length)
        throw new RangeError(`${owner}: ${where}: grad has length ${tensorLength(grad)}, data has ${length}`);
      arrays.push({ where: `${where} data`, array: data }, { where: `${where} grad`, array: grad });
      return { where, name, length, param: p as AnyParam, data, grad, state: new Map() };
    });
  });
  if (index === 0) throw new RangeError(`${owner}: params is empty; give at least one parameter`);
  try {
    checkDistinct(arrays);
  } catch (e) {
    throw new Error(`${owner}: ${(e as Error).message}`);
  }
  return result;
}
