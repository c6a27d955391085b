// The exact surface of the compiled addon (build/Release/adam_native.node, prebuilds/*/adam-native.node).
// lib/ validates every argument before it reaches these; the addon re-checks what it relies on.

export type IsaName = 'sse2' | 'avx2' | 'avx512';

/** One optimizer's tensors, registered once; a step over all of them is one native call. */
export declare class Plan {
  /**
   * @param rule   a rule id from `rules`
   * @param slots  arrays per tensor: that rule's `slots` (param, grad, then state)
   * @param arrays tensors*slots entries; null for an optional state slot left out
   */
  constructor(rule: number, slots: number, arrays: ReadonlyArray<Float32Array | null>);
  /** Runs the rule over every tensor. `isa` indexes `isas`; `threads` 0 means all hardware threads. */
  step(isa: number, scalars: Float32Array, flags: number, threads: number): void;
  /** The same step on the thread pool, off the JavaScript thread. */
  stepAsync(isa: number, scalars: Float32Array, flags: number, threads: number): Promise<void>;
  /** True while a stepAsync is in flight; step/stepAsync then throw. */
  readonly busy: boolean;
}

export interface RuleLayout {
  id: number;
  slots: number;
  scalars: number;
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
  /** Float64 sum of squares of every element, in the fixed block order of lib/gradops.ts. */
  sumSquares(isa: number, threads: number, arrays: ReadonlyArray<Float32Array>): number;
  /** x = x*factor, factor rounded to float32. */
  scaleArrays(isa: number, threads: number, arrays: ReadonlyArray<Float32Array>, factor: number): void;
  /** x = min(limit, max(-limit, x)), limit rounded to float32; NaN stays NaN. */
  clampArrays(isa: number, threads: number, arrays: ReadonlyArray<Float32Array>, limit: number): void;
}
