// The exact surface of the compiled addon (build/Release/adam_native.node, prebuilds/*/adam-native.node).
// lib/ validates every argument before it reaches these; the addon re-checks what it relies on.

export type IsaName = 'sse2' | 'avx2' | 'avx512';

/** One optimizer's tensors, registered once; a step over all of them is one native call. */
export declare class Plan {
  /**
   * @param rule   a rule id from `rules`
   * @param slots  arrays per tensor: that rule's `slots` (param, grad, then state)
   * @param arrays tensors*slots entries; null for an optional state slot left out
   * @param groups how many consecutive tensors each parameter group has (default: one group)
   */
  constructor(rule: number, slots: number, arrays: ReadonlyArray<Float32Array | null>, groups?: readonly number[]);
  /**
   * Runs the rule over every tensor. `isa` indexes `isas`; `scalars` holds each group's scalars,
   * group after group; `flags` is one number (one group) or a Uint32Array of one per group;
   * `threads` 0 means all hardware threads. Everything is checked before anything is written.
   */
  step(isa: number, scalars: Float32Array, flags: number | Uint32Array, threads: number): void;
  /** The same step on the thread pool, off the JavaScript thread. */
  stepAsync(isa: number, scalars: Float32Array, flags: number | Uint32Array, threads: number): Promise<void>;
  /** True while a stepAsync is in flight; step/stepAsync then throw. */
  readonly busy: boolean;
}

export interface RuleLayout {
  id: number;
  slots: number;
  scalars: number;
}

/** n floats of device memory (zeroed); freed by free() or when collected. */
export declare class DeviceBuffer {
  constructor(length: number);
  readonly length: number;
  /** The device address. */
  readonly ptr: bigint;
  readonly freed: boolean;
  /** Copies the device data into `into` (same length) and returns it. */
  download(into: Float32Array): Float32Array;
  /** Copies a host array or another buffer of the same length into this one. */
  copyFrom(src: Float32Array | DeviceBuffer): void;
  zero(): void;
  free(): void;
}

/** One optimizer's tensors on the GPU; a step over all of them is one kernel launch. */
export declare class CudaPlan {
  /**
   * @param items tensors*slots entries: param and grad as DeviceBuffers, or both as Float32Arrays
   *              (host-mirror mode); state slots as DeviceBuffers, null for an optional one left out
   */
  constructor(rule: number, slots: number, items: ReadonlyArray<DeviceBuffer | Float32Array | null>);
  /** Returns when the device is done (mirrored params already downloaded). */
  step(scalars: Float32Array, flags: number): void;
  stepAsync(scalars: Float32Array, flags: number): Promise<void>;
  /** bench: milliseconds for `iters` back-to-back kernel launches, timed with CUDA events. */
  timeSteps(scalars: Float32Array, flags: number, iters: number): number;
  /** Frees the plan's device tables and mirror buffers now. */
  release(): void;
  readonly busy: boolean;
}

export interface CudaDevice {
  name: string;
  /** Bytes of device memory. */
  memory: number;
  /** 'major.minor', e.g. '9.0'. */
  computeCapability: string;
}

export interface CudaInfo {
  /** Whether this addon was built with CUDA (npm run build:cuda). */
  compiled: boolean;
  deviceCount: number;
  devices: CudaDevice[];
  /** Why no device is usable, or null. */
  error: string | null;
}

export interface CudaBinding {
  info(): CudaInfo;
  DeviceBuffer: typeof DeviceBuffer;
  Plan: typeof CudaPlan;
  /** bench: milliseconds for `iters` device-to-device copies of src into dst, timed with CUDA events. */
  timeCopy(dst: DeviceBuffer, src: DeviceBuffer, iters: number): number;
}

export interface Binding {
  Plan: typeof Plan;
  /** ISA names, indexed by the `isa` argument of Plan.step. */
  isas: IsaName[];
  cpuInfo(): { supported: IsaName[]; best: IsaName; threads: number };
  rules: Record<string, RuleLayout>;
  /** Option bits by lib/ name (lib/rules/flags.ts). */
  flags: Record<string, number>;
  /** n zeros in native memory: 64-byte aligned; 2 MiB aligned with MADV_HUGEPAGE from 2 MiB up. */
  allocFloat32(n: number): Float32Array;
  /**
   * Detaches an allocFloat32 array's buffer and gives its pages back now; false (nothing done) for
   * any other array. Optional: builds without it leave the memory to the garbage collector.
   */
  freeFloat32?(array: Float32Array): boolean;
  /** Float64 sum of squares of every element, in the fixed block order of lib/gradops.ts. */
  sumSquares(isa: number, threads: number, arrays: ReadonlyArray<Float32Array>): number;
  /** x = x*factor, factor rounded to float32. */
  scaleArrays(isa: number, threads: number, arrays: ReadonlyArray<Float32Array>, factor: number): void;
  /** x = min(limit, max(-limit, x)), limit rounded to float32; NaN stays NaN. */
  clampArrays(isa: number, threads: number, arrays: ReadonlyArray<Float32Array>, limit: number): void;
  /** The CUDA backend; in a build without CUDA, info() says so and every other entry throws. */
  cuda: CudaBinding;
  /**
   * The bench's memory roof: p += g, m += g, v += g over arrays [p, g, m, v] of one length, in
   * place (Adam's traffic: 4 arrays read, 3 written), in Plan.step's chunks on `threads` threads.
   */
  streamProbe(isa: number, arrays: readonly [Float32Array, Float32Array, Float32Array, Float32Array], threads: number): void;
}
