import type { Binding, CudaBinding, DeviceBuffer } from '../../binding';
import { compactExecutor, compactPlanArgs } from '../compact/backend';
import { bufferOf, DeviceTensor } from '../cuda';
import type { Rule } from '../rules/types';
import type { Tensor } from '../tensor';
import type { Executor, TensorGroups } from './types';

/**
 * The 'cuda' backend's executor when some slot is compact (bf16/8-bit state, half-precision
 * parameters): one cuda.CompactPlan (native/cuda/compact.cu) for every group. The compact slots
 * stay the host arrays lib keeps (state dicts read them as on the CPU): the plan mirrors them on
 * the device and copies them back after each step. Float32 slots given as DeviceTensors stay on
 * the device. `mode` 'host' runs the device kernel's block code on the CPU (tests without a GPU).
 */
export function prepareCudaCompact(binding: Binding, cuda: CudaBinding, rule: Rule<never>, groups: TensorGroups, mode: 'device' | 'host' = 'device'): Executor {
  const args = compactPlanArgs<Float32Array | DeviceBuffer>(rule, groups, (x: Tensor, where) => (x instanceof DeviceTensor ? bufferOf(x, where) : x));
  const plan = new cuda.CompactPlan(binding.rules[rule.name].id, args.arrays, args.storages, args.absmax, groups.map((g) => g.length), args.half, mode);
  return { ...compactExecutor(plan, args), release: () => plan.release() };
}
