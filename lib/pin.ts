import { markAsUntransferable } from 'node:worker_threads';

// Intrinsic accessors: an own `buffer` property or a spoofed toStringTag on the array cannot hide
// the real buffer, and a Proxy or Object.create(Float32Array.prototype) is not a typed array.
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const bufferOf = Object.getOwnPropertyDescriptor(TypedArrayProto, 'buffer')!.get! as (this: unknown) => ArrayBufferLike;
const typedArrayTag = Object.getOwnPropertyDescriptor(TypedArrayProto, Symbol.toStringTag)!.get! as (
  this: unknown,
) => string | undefined;
const sharedByteLength = Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength')!.get!;

function isShared(buffer: ArrayBufferLike): boolean {
  try {
    sharedByteLength.call(buffer);
    return true;
  } catch {
    return false;
  }
}

/**
 * ES2024's ArrayBuffer.prototype.transfer() (Node.js >= 21) detaches any ArrayBuffer, marked or
 * not, and the memory goes with the new buffer. Where it exists, no mark protects an ArrayBuffer.
 */
export const transferDetaches = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

const SLOT_NAMES = ['param', 'grad'];

const pinned = new WeakSet<object>();

/**
 * Makes the memory under an optimizer's host arrays (per group, per tensor, its slots: param,
 * grad, state...) impossible to free while a native step runs off the JavaScript thread. A
 * transfer list holding a pinned ArrayBuffer (postMessage, structuredClone, a Worker's
 * transferList) then copies it (Node.js 20) or throws a DataCloneError (Node.js >= 21) instead of
 * detaching it; the arrays stay usable and this cannot be undone. SharedArrayBuffers cannot be
 * detached and need no pin; DeviceTensors are not typed arrays and are skipped. Where
 * ArrayBuffer.prototype.transfer() exists no mark holds, so an ArrayBuffer-backed array throws
 * (naming it) before anything is marked. Returns a function that pins on its first call only.
 */
export function pinner(groups: ReadonlyArray<ReadonlyArray<ReadonlyArray<unknown>>>): () => void {
  let done = false;
  return () => {
    if (done) return;
    const buffers: ArrayBufferLike[] = [];
    groups.forEach((tensors, g) =>
      tensors.forEach((slots, t) =>
        slots.forEach((array, k) => {
          if (array === null || array === undefined || typedArrayTag.call(array) === undefined) return;
          const buffer = bufferOf.call(array);
          if (pinned.has(buffer) || isShared(buffer)) return;
          // State slots are the library's own memory, never handed out (state dicts copy).
          if (transferDetaches && k < SLOT_NAMES.length)
            throw new Error(
              `stepAsync: group ${g} tensor ${t}: its ${SLOT_NAMES[k]} is on an ArrayBuffer, which ` +
                'ArrayBuffer.prototype.transfer() could detach and free during the step on this runtime; give params ' +
                'and grads on SharedArrayBuffers for stepAsync, or use step()',
            );
          buffers.push(buffer);
        }),
      ),
    );
    for (const buffer of buffers) {
      markAsUntransferable(buffer);
      pinned.add(buffer);
    }
    done = true;
  };
}
