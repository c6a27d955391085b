import { DeviceTensor, bufferOf } from './cuda';
import { checkFloat32Array, checkNoOverlap, describe, isDetached, isFloat32Array, lengthOf, memoryOf } from './validate';

/** What an optimizer holds: host arrays, or GPU memory for the 'cuda' backend. */
export type Tensor = Float32Array | DeviceTensor;

/** A parameter's data or grad: a Tensor, or the bf16/fp16 bits of a half-precision parameter. */
export type ParamTensor = Tensor | Uint16Array;

/** A Float32Array or a live DeviceTensor of this library; throws naming `where` otherwise. */
export function checkTensor(where: string, v: unknown): Tensor {
  if (v instanceof DeviceTensor) {
    bufferOf(v, where);
    return v;
  }
  if (!(v instanceof Float32Array) && !isFloat32Array(v))
    throw new TypeError(`${where} must be a Float32Array or a DeviceTensor, got ${describe(v)}`);
  const array = checkFloat32Array(where, v);
  if (isDetached(array)) throw new TypeError(`${where} is detached (its buffer was transferred, e.g. to a worker)`);
  return array;
}

/** The element count, read through the engine's own accessor for host arrays (0 once detached). */
export function tensorLength(t: Tensor): number {
  return t instanceof DeviceTensor ? t.length : lengthOf(t);
}

/** Throws if two host arrays share memory or one DeviceTensor is given twice. */
export function checkDistinct(tensors: ReadonlyArray<{ where: string; array: ParamTensor }>): void {
  const seen = new Map<DeviceTensor, string>();
  for (const { where, array } of tensors) {
    if (!(array instanceof DeviceTensor)) continue;
    const other = seen.get(array);
    if (other) throw new Error(`${where} is the same DeviceTensor as ${other}; every tensor must be distinct`);
    seen.set(array, where);
  }
  checkNoOverlap(tensors.filter((t): t is { where: string; array: Float32Array | Uint16Array } => !(t.array instanceof DeviceTensor)));
}

/**
 * What a step re-checks of host arrays that passed registration: one array per distinct
 * ArrayBuffer with the length it must have, and every DeviceTensor. A registered array's buffer is fixed
 * in size (resizable and growable ones are refused), so its views change only all together, when
 * it is detached: one look per buffer covers them all (views of one buffer: a handful of looks
 * for any number of tensors, instead of two per tensor on every step).
 */
export interface TensorWatch {
  arrays: Array<Float32Array | Uint16Array>;
  lengths: number[];
  devices: DeviceTensor[];
}

/** The watch of `tensors`, each with the element count it was registered with. */
export function watchTensors(tensors: Iterable<readonly [ParamTensor, number]>): TensorWatch {
  const watch: TensorWatch = { arrays: [], lengths: [], devices: [] };
  const buffers = new Set<ArrayBufferLike>();
  for (const [t, length] of tensors) {
    if (t instanceof DeviceTensor) {
      watch.devices.push(t);
      continue;
    }
    // An empty view stays empty when its buffer is detached: it cannot stand for the buffer (and,
    // itself detached, it is still what was registered).
    if (length === 0) continue;
    const { buffer } = memoryOf(t);
    if (buffers.has(buffer)) continue;
    buffers.add(buffer);
    watch.arrays.push(t);
    watch.lengths.push(length);
  }
  return watch;
}

/** True while no watched buffer was detached and no watched DeviceTensor freed (allocates nothing). */
export function watchIntact(watch: TensorWatch): boolean {
  const { arrays, lengths, devices } = watch;
  for (let i = 0; i < arrays.length; i++) if (lengthOf(arrays[i]) !== lengths[i]) return false;
  for (let i = 0; i < devices.length; i++) if (devices[i].freed) return false;
  return true;
}

/** Why a parameter's tensors can no longer be used (freed, detached or resized), or null. */
export function tensorProblem(data: ParamTensor, grad: ParamTensor, length: number): string | null {
  // Runs for every tensor on every step: no allocation.
  return arrayProblem('data', data, length) ?? arrayProblem('grad', grad, length);
}

function arrayProblem(which: string, t: ParamTensor, length: number): string | null {
  if (t instanceof DeviceTensor) return t.freed ? `${which} was freed` : null;
  if (lengthOf(t) === length) return null;
  return isDetached(t)
    ? `${which} was detached (its buffer was transferred, e.g. to a worker)`
    : `${which} was resized (length ${lengthOf(t)}, expected ${length})`;
}

/** A host copy of the tensor's values. */
export function readTensor(t: Tensor): Float32Array {
  return t instanceof DeviceTensor ? t.download() : new Float32Array(t);
}

/** Overwrites the tensor from host values of the same length. */
export function writeTensor(t: Tensor, values: Float32Array): void {
  if (t instanceof DeviceTensor) t.copyFrom(values);
  else t.set(values);
}

/** Sets every element to `value` (rounded to float32). */
export function fillTensor(t: Tensor, value: number): void {
  if (t instanceof DeviceTensor) t.copyFrom(new Float32Array(t.length).fill(value));
  else t.fill(value);
}

export function zeroTensor(t: ParamTensor): void {
  if (t instanceof DeviceTensor) bufferOf(t, 'zeroGrad').zero();
  else t.fill(0);
}
