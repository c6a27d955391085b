// Moving fp32 values between tfjs tensors and this library's arrays without a fresh allocation
// per step: a new 50 MB array costs hundreds of milliseconds of page faults on some machines,
// more than the step itself.
import type * as tfc from '@tensorflow/tfjs-core';

export type TransferTf = Pick<typeof tfc, 'engine' | 'getBackend' | 'tensor'>;

interface WasmLike {
  dataIdMap?: { has(id: unknown): boolean; get(id: unknown): { memoryOffset?: unknown } | undefined };
  wasm?: { HEAPU8?: Uint8Array };
}

/** Copies tensor `t`'s values into `target` (same length): straight from the wasm heap when it lives there. */
export function readInto(tf: TransferTf, t: tfc.Tensor, target: Float32Array): void {
  if (tf.getBackend() === 'wasm') {
    const backend = tf.engine().backend as unknown as WasmLike;
    const heap = backend.wasm?.HEAPU8;
    const info = backend.dataIdMap?.has(t.dataId) ? backend.dataIdMap.get(t.dataId) : undefined;
    const offset = info?.memoryOffset;
    if (heap && typeof offset === 'number' && offset % 4 === 0 && offset + target.byteLength <= heap.byteLength) {
      target.set(new Float32Array(heap.buffer, offset, target.length));
      return;
    }
  }
  target.set(t.dataSync() as Float32Array);
}

/**
 * A tensor holding a copy of `values`. 'wasm' copies into its heap when the tensor is made; other
 * backends ('cpu' among them) may keep the array itself, so they get a copy.
 */
export function tensorOf(tf: TransferTf, values: Float32Array, shape: number[]): tfc.Tensor {
  return tf.tensor(tf.getBackend() === 'wasm' ? values : values.slice(), shape, 'float32');
}
