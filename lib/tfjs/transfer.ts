// Moving fp32 values between tfjs tensors and this library's arrays without a fresh allocation
// per step: a new 50 MB array costs hundreds of milliseconds of page faults on some machines,
// more than the step itself.
import type * as tfc from '@tensorflow/tfjs-core';

export type TransferTf = Pick<typeof tfc, 'engine' | 'getBackend' | 'tensor'>;

interface WasmBackendLike {
  dataIdMap?: { has(id: unknown): boolean; get(id: unknown): { id?: unknown; memoryOffset?: unknown; refCount?: unknown } | undefined };
  wasm?: {
    HEAPU8?: Uint8Array;
    tfjs?: { registerTensor?(id: number, size: number, offset: number): void; disposeData?(id: number): void };
  };
}

/**
 * tfjs-backend-wasm keeps every tensor in its module's heap: a Float32Array view at the tensor's
 * offset reads and writes the tensor itself. The heap's ArrayBuffer is replaced (the old one
 * detached) when the module's memory grows, i.e. on any tfjs allocation: a view is good only until
 * the next tfjs call, so views are checked again at every read, after the step's allocations.
 */
export interface WasmHeap {
  /**
   * A view over `t`'s float32 values in the heap, or null when `t` is not there (another backend,
   * disposed); `reuse` itself when it is still that view (no new object).
   */
  view(t: tfc.Tensor, reuse?: Float32Array | null): Float32Array | null;
  /** How many tensors share `t`'s memory (a reshape shares it; a clone does not). */
  refCount(t: tfc.Tensor): number;
  /**
   * After writing `t`'s values in place: the kernels forget what they derived from them (the
   * matMul and conv kernels keep XNNPACK operators with packed copies of their weights, keyed by
   * the tensor's id, until the tensor is disposed; tfjs never writes a tensor twice). The tensor
   * is unregistered and registered again, same id and memory.
   */
  renew(t: tfc.Tensor): void;
}

// One accessor per backend instance: the step asks for it many times.
const heaps = new WeakMap<object, WasmHeap | null>();

/** The current backend's heap, or null when it is not tfjs-backend-wasm (or not the layout this knows). */
export function wasmHeap(tf: TransferTf): WasmHeap | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.engine().backend as unknown as WasmBackendLike;
  let heap = heaps.get(backend);
  if (heap === undefined) heaps.set(backend, (heap = heapOf(backend)));
  return heap;
}

function heapOf(backend: WasmBackendLike): WasmHeap | null {
  const map = backend.dataIdMap;
  const module = backend.wasm;
  const kernels = module?.tfjs;
  if (!map || typeof map.has !== 'function' || typeof map.get !== 'function' || !module || !(module.HEAPU8 instanceof Uint8Array)) return null;
  if (typeof kernels?.registerTensor !== 'function' || typeof kernels.disposeData !== 'function') return null;
  // get() of a tensor held by another backend would move it here (an allocation): has() first.
  const info = (t: tfc.Tensor) => (map.has(t.dataId) ? map.get(t.dataId) : undefined);
  return {
    view(t, reuse) {
      if (t.dtype !== 'float32' || t.isDisposed) return null;
      const offset = info(t)?.memoryOffset;
      const heap = module.HEAPU8!;
      const bytes = t.size * 4;
      if (typeof offset !== 'number' || offset % 4 !== 0 || offset <= 0 || offset + bytes > heap.byteLength) return null;
      // After the heap grew, `reuse` is over the old, detached buffer: never reused.
      if (reuse && reuse.buffer === heap.buffer && reuse.byteOffset === heap.byteOffset + offset && reuse.length === t.size) return reuse;
      return new Float32Array(heap.buffer, heap.byteOffset + offset, t.size);
    },
    refCount(t) {
      const n = info(t)?.refCount;
      return typeof n === 'number' ? n : Infinity;
    },
    renew(t) {
      const data = info(t);
      if (typeof data?.id !== 'number' || typeof data.memoryOffset !== 'number') return;
      kernels.disposeData!(data.id);
      kernels.registerTensor!(data.id, t.size, data.memoryOffset);
    },
  };
}

/** Copies tensor `t`'s values into `target` (same length): straight from the wasm heap when it lives there. */
export function readInto(tf: TransferTf, t: tfc.Tensor, target: Float32Array): void {
  const view = wasmHeap(tf)?.view(t);
  target.set(view ?? (t.dataSync() as Float32Array));
}

/**
 * A tensor holding a copy of `values`. 'wasm' copies into its heap when the tensor is made; other
 * backends ('cpu' among them) may keep the array itself, so they get a copy.
 */
export function tensorOf(tf: TransferTf, values: Float32Array, shape: number[]): tfc.Tensor {
  return tf.tensor(tf.getBackend() === 'wasm' ? values : values.slice(), shape, 'float32');
}
