import * as os from 'node:os';
import type { Binding, IsaName } from '../../binding';
import type { Rule } from '../rules/types';
import { allocArena } from '../arena';
import { prepareCompactNative } from '../compact/backend';
import { hasCompact } from '../compact/driver';
import { pinner } from '../pin';
import { planRowsNative } from '../sparse';
import { jsBackend } from './js';
import type { Backend, Executor, GradOps, TensorGroups } from './types';

/** Every ISA name an addon may have (binding.isas lists the ones it was built with). */
export const ISA_NAMES: readonly IsaName[] = ['scalar', 'sse2', 'avx2', 'avx512', 'neon'];
export type IsaOption = 'auto' | IsaName;

/** The ISA the options ask for: the `isa` option, else ADAM_NATIVE_ISA, else the CPU's best. */
export function resolveIsa(binding: Binding, requested: IsaOption): IsaName {
  const cpu = binding.cpuInfo();
  let isa: string = requested;
  let from = "option 'isa'";
  if (isa === 'auto' && process.env.ADAM_NATIVE_ISA !== undefined && process.env.ADAM_NATIVE_ISA !== '') {
    isa = process.env.ADAM_NATIVE_ISA;
    from = 'ADAM_NATIVE_ISA';
    if (isa !== 'auto' && !(ISA_NAMES as readonly string[]).includes(isa))
      throw new RangeError(`${from} must be one of 'auto', ${ISA_NAMES.map((n) => `'${n}'`).join(', ')}, got '${isa}'`);
  }
  if (isa === 'auto') return cpu.best;
  if (!cpu.supported.includes(isa as IsaName))
    throw new Error(`${from} asks for '${isa}', but this CPU supports only ${cpu.supported.join(', ')}`);
  return isa as IsaName;
}

export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length || 1;
}

/** The CPU kernels' whole-gradient operations for one ISA and thread count. */
export function nativeGradOps(binding: Binding, isa: IsaName, threads: number): GradOps {
  const isaIndex = binding.isas.indexOf(isa);
  return {
    sumSquares: (arrays) => binding.sumSquares(isaIndex, threads, arrays),
    scale: (arrays, factor) => binding.scaleArrays(isaIndex, threads, arrays, factor),
    clamp: (arrays, limit) => binding.clampArrays(isaIndex, threads, arrays, limit),
  };
}

/**
 * With backend 'auto', step() on a plan of at most this many elements in all runs the rule in
 * TypeScript (the same bits): there a native call's fixed cost (~0.3 us on the 2-core dev VM: the
 * N-API call, its argument and detach checks) is more than the work; the two cross near 64
 * elements. stepAsync stays native.
 */
export const JS_STEP_MAX_ELEMENTS = 64;

export function nativeBackend(binding: Binding, isa: IsaName, threads: number, smallStepsInJs = false): Backend {
  const isaIndex = binding.isas.indexOf(isa);
  return {
    name: `native/${isa}`,
    prepare(rule: Rule<never>, groups: TensorGroups): Executor {
      if (hasCompact(groups)) return prepareCompactNative(binding, rule, groups, isaIndex, threads);
      const slots = rule.slotNames.length;
      const arrays: Array<Float32Array | null> = [];
      // The optimizer gives DeviceTensors only to the 'cuda' backend: here every slot is on the host.
      for (const tensors of groups)
        for (const tensor of tensors) for (let k = 0; k < slots; k++) arrays.push((tensor[k] ?? null) as Float32Array | null);
      // One plan for every group, ISA and threads fixed: a step is one native call, checked whole
      // before anything changes.
      const plan = new binding.Plan(binding.rules[rule.name].id, arrays, groups.map((g) => g.length), isaIndex, threads);
      const pin = pinner(groups);
      let elements = 0;
      for (const tensors of groups) for (const tensor of tensors) elements += (tensor[0] as Float32Array).length;
      const small = smallStepsInJs && elements <= JS_STEP_MAX_ELEMENTS ? jsBackend.prepare(rule, groups) : null;
      return {
        step: small ? small.step : (scalars, flags) => plan.step(scalars, flags),
        stepAsync: (scalars, flags) => (pin(), plan.stepAsync(scalars, flags)),
        // The TypeScript steps of a small plan read the arrays as they are: they check nothing.
        checksArrays: !small,
      };
    },
    alloc: (n) => binding.allocFloat32(n),
    allocMany: (lengths) => allocArena((n) => binding.allocFloat32(n), lengths),
    grads: nativeGradOps(binding, isa, threads),
    stepRows: (rule, scalars, flags, slots, plan, rowSize) =>
      binding.stepRows(binding.rules[rule.name].id, isaIndex, threads, slots, plan.rows, plan.order, plan.starts, rowSize, scalars.subarray(0, rule.scalarCount), flags),
    planRows: planRowsNative(binding.coalesceRows),
  };
}
