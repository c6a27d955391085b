import { loadNative } from './backends/load';
import { checkNumber } from './validate';

/**
 * n zeros in memory the library allocates: 64-byte aligned, and from 2 MiB up on 2 MiB-aligned
 * memory with transparent huge pages requested. A plain Float32Array when the addon is absent.
 */
export function allocFloat32(n: number): Float32Array {
  checkNumber('allocFloat32: n', n, { min: 0, integer: true, below: 2 ** 32 + 1 });
  const native = loadNative().binding;
  return native ? native.allocFloat32(n) : new Float32Array(n);
}

/**
 * Returns the memory of an allocFloat32 array (and of every view on its buffer) to the system now:
 * the buffer is detached (every view reads as empty) and its pages released. Anything else is left
 * to the garbage collector, and so is every array while any stepAsync is in flight in the process
 * (the step may be writing there). Returns whether memory was released.
 */
export function releaseFloat32(array: Float32Array): boolean {
  const native = loadNative().binding;
  return native?.freeFloat32 ? native.freeFloat32(array) : false;
}
