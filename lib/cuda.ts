import type { CudaBinding, CudaInfo, DeviceBuffer } from '../binding';
import { loadNative } from './backends/load';
import { checkFloat32Array, checkNumber, describe } from './validate';

export type { CudaDevice, CudaInfo } from '../binding';

const token = Symbol('DeviceTensor');
// The native buffer behind a DeviceTensor this module made; undefined for anything else (foreign).
let unwrap: (t: DeviceTensor) => DeviceBuffer | undefined;

/**
 * A float32 array in GPU memory, made by `cuda.tensor(length)` or `cuda.upload(array)`. Zeroed at
 * creation; its memory is returned by free() (or when it is garbage-collected).
 */
export class DeviceTensor {
  readonly #buffer: DeviceBuffer;
  // Mirrors the buffer's own flag in JS: the optimizer checks it for every tensor on every step.
  #freed = false;

  static {
    unwrap = (t) => (#buffer in t ? t.#buffer : undefined);
  }

  /** @internal use cuda.tensor() or cuda.upload(). */
  constructor(key: symbol, buffer: DeviceBuffer) {
    if (key !== token) throw new TypeError('DeviceTensor: make one with cuda.tensor(length) or cuda.upload(array)');
    this.#buffer = buffer;
  }

  get length(): number {
    return bufferOf(this, 'DeviceTensor.length', true).length;
  }

  /** Whether free() was called. */
  get freed(): boolean {
    bufferOf(this, 'DeviceTensor.freed', true);
    return this.#freed;
  }

  /** The device address, for interop with other CUDA code (which must finish with it before a step). */
  get ptr(): bigint {
    return bufferOf(this, 'DeviceTensor.ptr').ptr;
  }

  /** Copies the data to the host: into `into` (same length) when given, else a new Float32Array. */
  download(into?: Float32Array): Float32Array {
    const b = bufferOf(this, 'DeviceTensor.download');
    if (into === undefined) return b.download(new Float32Array(b.length));
    checkFloat32Array('DeviceTensor.download: into', into);
    if (into.length !== b.length)
      throw new RangeError(`DeviceTensor.download: into has length ${into.length}, the tensor has ${b.length}`);
    return b.download(into);
  }

  /** Overwrites the data from a host array or another DeviceTensor of the same length. */
  copyFrom(src: Float32Array | DeviceTensor): void {
    const b = bufferOf(this, 'DeviceTensor.copyFrom');
    const source = src instanceof DeviceTensor ? bufferOf(src, 'DeviceTensor.copyFrom: src') : null;
    if (!source) checkFloat32Array('DeviceTensor.copyFrom: src', src);
    if (src.length !== b.length)
      throw new RangeError(`DeviceTensor.copyFrom: src has length ${src.length}, the tensor has ${b.length}`);
    b.copyFrom(source ?? (src as Float32Array));
  }

  /** Returns the device memory now. Freeing twice is harmless; any other use after free throws. */
  free(): void {
    bufferOf(this, 'DeviceTensor.free', true).free();
    this.#freed = true;
  }
}

/** The native buffer of a DeviceTensor; throws for a foreign object or (unless allowFreed) a freed one. */
export function bufferOf(t: DeviceTensor, where: string, allowFreed = false): DeviceBuffer {
  const b = t instanceof DeviceTensor ? unwrap(t) : undefined;
  if (!b) throw new TypeError(`${where}: not a DeviceTensor made by cuda.tensor() or cuda.upload()`);
  if (!allowFreed && b.freed) throw new Error(`${where}: the DeviceTensor was freed`);
  return b;
}

/** True for DeviceTensors this library made (freed ones too). */
export function isDeviceTensor(v: unknown): v is DeviceTensor {
  return v instanceof DeviceTensor && unwrap(v) !== undefined;
}

function binding(): { cuda: CudaBinding | null; error: string | null } {
  const loaded = loadNative();
  if (!loaded.binding) return { cuda: null, error: loaded.error };
  if (!loaded.binding.cuda) return { cuda: null, error: 'the loaded addon predates the CUDA backend (rebuild it)' };
  return { cuda: loaded.binding.cuda, error: null };
}

function info(): CudaInfo {
  const { cuda, error } = binding();
  if (!cuda) return { compiled: false, deviceCount: 0, devices: [], error };
  return cuda.info();
}

/** The CUDA binding when a device is usable; else throws an Error that says why, prefixed by `where`. */
export function requireCuda(where: string): CudaBinding {
  const { cuda, error } = binding();
  const found = cuda?.info();
  if (!cuda || !found || found.deviceCount === 0)
    throw new Error(`${where}: CUDA is unavailable: ${found ? found.error ?? 'no CUDA device' : error}`);
  return cuda;
}

/** A zeroed DeviceTensor of n floats (used for optimizer state too). */
export function newDeviceTensor(cuda: CudaBinding, n: number): DeviceTensor {
  return new DeviceTensor(token, new cuda.DeviceBuffer(n));
}

/** The GPU side of the library. */
export const cuda = {
  /** Whether CUDA was compiled in, the devices, and why none is usable. Never throws. */
  info,
  /** A DeviceTensor of `length` zeros on the GPU. */
  tensor(length: number): DeviceTensor {
    checkNumber('cuda.tensor: length', length, { min: 0, integer: true, below: 2 ** 32 + 1 });
    return newDeviceTensor(requireCuda('cuda.tensor'), length);
  },
  /** A DeviceTensor holding a copy of `array`. */
  upload(array: Float32Array): DeviceTensor {
    if (!(array instanceof Float32Array))
      throw new TypeError(`cuda.upload: array must be a Float32Array, got ${describe(array)}`);
    const t = newDeviceTensor(requireCuda('cuda.upload'), array.length);
    try {
      t.copyFrom(array);
    } catch (e) {
      t.free();
      throw e;
    }
    return t;
  },
};
