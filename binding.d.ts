// The exact surface of the compiled addon (build/Release/adam_native.node, prebuilds/*/adam-native.node).
// lib/ validates every argument before it reaches these; the addon re-checks what it relies on.

/** 'scalar' is the portable unit (every CPU); sse2/avx2/avx512 exist in x86-64 builds, neon in AArch64 ones. */
export type IsaName = 'scalar' | 'sse2' | 'avx2' | 'avx512' | 'neon';

/** One optimizer's tensors on the CPU, registered once; a step over all of them is one native call. */
export declare class CpuPlan {
  /**
   * @param rule    a rule id from `rules`
   * @param arrays  that rule's slots per tensor (param, grad, then state); null for an optional
   *                state slot left out. Refused: resizable or growable buffers, arrays sharing memory.
   * @param groups  how many consecutive tensors each parameter group has (undefined: one group)
   * @param isa     an index into `isas` this CPU supports
   * @param threads 1 to 1024, or 0 for every hardware thread
   */
  constructor(rule: number, arrays: ReadonlyArray<Float32Array | null>, groups: readonly number[] | undefined, isa: number, threads: number);
  /**
   * Runs the rule over every tensor. `scalars` holds each group's scalars, group after group;
   * `flags` one entry per group. Everything is checked before anything is written.
   */
  step(scalars: Float32Array, flags: Uint32Array): void;
  /** The same step on the thread pool, off the JavaScript thread. */
  stepAsync(scalars: Float32Array, flags: Uint32Array): Promise<void>;
  /** True while a stepAsync is in flight; step/stepAsync then throw. */
  readonly busy: boolean;
}

/** CpuPlan's job for tensors with compact storage (native/compact_plan.cc). */
export declare class CompactPlan {
  /**
   * @param arrays   as CpuPlan's, each array in its storage: Float32Array (0), Uint16Array of
   *                 bf16 (1) or fp16 (2) bits, Uint8Array of codes into the signed (3) or unsigned
   *                 (4) 8-bit map; param and grad only 0-2
   * @param storages each array's storage id, one per entry of arrays
   * @param absmax   per array, a Float32Array of one absmax per block of 256 (storages 3, 4) or null
   * @param half     half-precision parameters (native/kernels/stochastic.h): per tensor null, or
   *                 {index, mirror}: mirror the bf16/fp16 parameter written from the float32 master
   *                 in slot 0 (nearest even), or null for stochastic rounding of slot 0's half
   *                 storage keyed by (seed, step, index, element)
   */
  constructor(
    rule: number,
    arrays: ReadonlyArray<Float32Array | Uint16Array | Uint8Array | null>,
    storages: Uint8Array,
    absmax: ReadonlyArray<Float32Array | null>,
    groups: readonly number[] | undefined,
    isa: number,
    threads: number,
    half?: { seed: number; params: ReadonlyArray<{ index: number; mirror: Uint16Array | null } | null> } | null,
  );
  /** `step` (mod 2^32): required when a parameter rounds stochastically. */
  step(scalars: Float32Array, flags: Uint32Array, step?: number): void;
  stepAsync(scalars: Float32Array, flags: Uint32Array, step?: number): Promise<void>;
  readonly busy: boolean;
}

export interface RuleLayout {
  id: number;
  /** Slot names in order: 'param', 'grad', then the state slots. */
  slots: readonly string[];
  /** Per-step scalar names in order. */
  scalars: readonly string[];
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

/** One optimizer's tensors on the GPU, in parameter groups; a step over all of them is one kernel launch. */
export declare class CudaPlan {
  /**
   * @param items  that rule's slots per tensor: param and grad as DeviceBuffers, or both as
   *               Float32Arrays (host-mirror mode); state slots as DeviceBuffers, null for an
   *               optional one left out
   * @param groups how many consecutive tensors each parameter group has (undefined: one group)
   */
  constructor(rule: number, items: ReadonlyArray<DeviceBuffer | Float32Array | null>, groups?: readonly number[]);
  /** Returns when the device is done (mirrored params already downloaded). Arguments as CpuPlan.step. */
  step(scalars: Float32Array, flags: Uint32Array): void;
  stepAsync(scalars: Float32Array, flags: Uint32Array): Promise<void>;
  /** bench: milliseconds for `iters` back-to-back kernel launches, timed with CUDA events. */
  timeSteps(scalars: Float32Array, flags: Uint32Array, iters: number): number;
  /** Frees the plan's device tables and mirror buffers now. */
  release(): void;
  readonly busy: boolean;
}

/**
 * CompactPlan's job on the GPU (native/cuda/compact.cu): one kernel launch for every tensor. Host
 * arrays are mirrored on the device (uploaded now, the grads before each step, the rest downloaded
 * after it); a float32 slot may be a DeviceBuffer instead. Mode 'host' runs the device kernel's
 * block code on the CPU (any build, no device needed): what the tests check the device code with.
 */
export declare class CudaCompactPlan {
  constructor(
    rule: number,
    arrays: ReadonlyArray<DeviceBuffer | Float32Array | Uint16Array | Uint8Array | null>,
    storages: Uint8Array,
    absmax: ReadonlyArray<Float32Array | null>,
    groups: readonly number[] | undefined,
    half: { seed: number; params: ReadonlyArray<{ index: number; mirror: Uint16Array | null } | null> } | null,
    mode: 'device' | 'host',
  );
  /** As CompactPlan.step; returns when the host copies are written. */
  step(scalars: Float32Array, flags: Uint32Array, step?: number): void;
  stepAsync(scalars: Float32Array, flags: Uint32Array, step?: number): Promise<void>;
  /** Frees the plan's device memory now; the plan cannot step again. */
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
  CompactPlan: typeof CudaCompactPlan;
  /** bench: milliseconds for `iters` device-to-device copies of src into dst, timed with CUDA events. */
  timeCopy(dst: DeviceBuffer, src: DeviceBuffer, iters: number): number;
}

export interface Binding {
  Plan: typeof CpuPlan;
  CompactPlan: typeof CompactPlan;
  /** The 8-bit dynamic maps (native/kernels/quant8.cc), 256 values ascending. */
  quant8Maps: { signed: Float32Array; unsigned: Float32Array };
  /** The ISAs this addon was built with, indexed by the `isa` arguments. */
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
  /**
   * [i, j] (i < j): two of the arrays whose memory overlaps by address (also views of distinct
   * SharedArrayBuffer objects over the same memory, e.g. a structuredClone), or null.
   */
  overlappingPair(arrays: ReadonlyArray<Float32Array>): [number, number] | null;
  /** Float64 sum of squares (threads: as CpuPlan's) of every element, in the fixed block order of lib/gradops.ts. */
  sumSquares(isa: number, threads: number, arrays: ReadonlyArray<Float32Array>): number;
  /** x = x*factor, factor rounded to float32. */
  scaleArrays(isa: number, threads: number, arrays: ReadonlyArray<Float32Array>, factor: number): void;
  /** x = min(limit, max(-limit, x)), limit rounded to float32; NaN stays NaN. */
  clampArrays(isa: number, threads: number, arrays: ReadonlyArray<Float32Array>, limit: number): void;
  /**
   * One rule over the touched rows of a row-sparse tensor, on `threads` threads: slots as a plan's
   * tensor (param, the grad as given, state...; null for an absent slot), rows strictly ascending;
   * row u's grad is the sum, in order, of grad rows order[starts[u]] .. order[starts[u+1]-1].
   */
  stepRows(
    rule: number,
    isa: number,
    threads: number,
    slots: ReadonlyArray<Float32Array | null>,
    rows: Int32Array,
    order: Uint32Array,
    starts: Uint32Array,
    rowSize: number,
    scalars: Float32Array,
    flags: number,
  ): void;
  /**
   * The coalescing plan of `indices` (lib/sparse.ts coalescePlan) for a table of rowCount rows,
   * (at most 2^31) written into rows, order (indices.length places each, or more) and starts (one more): returns
   * the number u of distinct rows (rows[0..u), starts[0..u], order[0..indices.length)), or -1 - k
   * when indices[k] is outside [0, rowCount).
   */
  coalesceRows(indices: Int32Array, rowCount: number, rows: Int32Array, order: Uint32Array, starts: Uint32Array): number;
  /** The CUDA backend; in a build without CUDA, info() says so and every other entry throws. */
  cuda: CudaBinding;
  /**
   * The bench's memory roof: run() does p += g, m += g, v += g over `arrays`, [p, g, m, v] per
   * tensor (each tensor's four of one length), in place (Adam's traffic: 4 arrays read, 3 written).
   * A plan as Plan is: the arrays registered and checked as Plan's, then each run() re-checks them
   * and runs in Plan.step's chunks, with its jump prefetches, on `threads` threads.
   */
  StreamProbe: new (isa: number, arrays: readonly Float32Array[], threads: number) => { run(): void };
  /** CRC-32C (Castagnoli) of `bytes` continuing `crc` (0 to start), on the CPU's CRC instruction where present. */
  crc32c(bytes: Uint8Array, crc: number): number;
}
