import { hasCompact } from '../compact/driver';
import type { Binding, CudaBinding, DeviceBuffer } from '../../binding';
import { DeviceTensor, bufferOf, newDeviceTensor } from '../cuda';
import type { Rule } from '../rules/types';
import { pinner } from '../pin';
import type { Backend, Executor, GradOps, TensorGroups } from './types';
import { prepareCudaCompact } from './cuda-compact';

/**
 * The GPU backend: state lives on the device, and a step is one kernel launch for every tensor of
 * every group on a stream of the optimizer's own. Params given as DeviceTensors are updated in
 * place on the device; params given as Float32Arrays are mirrored (host-mirror mode): the device
 * keeps the param and state, each step uploads the grads and downloads the params through pinned
 * buffers. Whole-gradient operations on host grads (clipping, the non-finite check in host-mirror
 * mode) run on the CPU kernels given as `grads`: the same bits as every other backend. Compact
 * state and half-precision parameters go through cuda-compact.ts.
 */
export function cudaBackend(binding: Binding, cuda: CudaBinding, grads: GradOps): Backend {
  return {
    name: 'cuda',
    prepare(rule: Rule<never>, groups: TensorGroups): Executor {
      if (hasCompact(groups)) return prepareCudaCompact(binding, cuda, rule, groups);
      const slots = rule.slotNames.length;
      const pin = pinner(groups); // the host-mirror arrays
      const items: Array<DeviceBuffer | Float32Array | null> = [];
      groups.forEach((tensors) =>
        tensors.forEach((tensor, t) => {
          for (let k = 0; k < slots; k++) {
            const x = tensor[k] as DeviceTensor | Float32Array | null;
            items.push(x instanceof DeviceTensor ? bufferOf(x, `tensor ${t} slot ${k}`) : x);
          }
        }),
      );
      const plan = new cuda.Plan(binding.rules[rule.name].id, items, groups.map((g) => g.length));
      return {
        step: (scalars, flags) => plan.step(scalars, flags),
        stepAsync: (scalars, flags) => (pin(), plan.stepAsync(scalars, flags)),
        release: () => plan.release(),
      };
    },
    alloc: (n) => newDeviceTensor(cuda, n),
    grads,
  };
}
