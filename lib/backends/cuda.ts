import type { CudaBinding, DeviceBuffer } from '../../binding';
import { DeviceTensor, bufferOf, newDeviceTensor } from '../cuda';
import type { Rule } from '../rules/types';
import { loadNative } from './load';
import { pinner } from '../pin';
import { defaultThreads, nativeBackend, resolveIsa } from './native';
import { groupScalarViews } from './group-scalars';
import type { Backend, Executor, TensorGroups } from './types';

/**
 * The GPU backend: state lives on the device, and a step is one kernel launch for every tensor on
 * a stream of the optimizer's own. Params given as DeviceTensors are updated in place on the
 * device; params given as Float32Arrays are mirrored (host-mirror mode): the device keeps the
 * param and state, each step uploads the grads and downloads the params through pinned buffers.
 */
export function cudaBackend(cuda: CudaBinding): Backend {
  const binding = loadNative().binding!;
  return {
    name: 'cuda',
    prepare(rule: Rule<never>, groups: TensorGroups): Executor {
      const layout = binding.rules[rule.name];
      // One device plan (one launch) per group: each group has its own scalars and flags.
      const pin = pinner(groups);  // the host-mirror arrays
      const plans = groups.map((tensors) => {
        const items: Array<DeviceBuffer | Float32Array | null> = [];
        tensors.forEach((slots, t) => {
          for (let k = 0; k < layout.slots; k++) {
            const x = slots[k] ?? null;
            items.push(x instanceof DeviceTensor ? bufferOf(x, `tensor ${t} slot ${k}`) : x);
          }
        });
        return new cuda.Plan(layout.id, layout.slots, items);
      });
      const views = groupScalarViews(rule.scalarCount, groups.length);
      return {
        step: (scalars, flags) => views(scalars).forEach((s, g) => plans[g].step(s, flags[g])),
        stepAsync: async (scalars, flags) => {
          pin();
          await Promise.all(views(scalars).map((s, g) => plans[g].stepAsync(s, flags[g])));
        },
        release: () => plans.forEach((p) => p.release()),
      };
    },
    alloc: (n) => newDeviceTensor(cuda, n),
    // Whole-gradient operations on host grads (clipGradNorm, clipGradValue, skipNonFinite in
    // host-mirror mode) run on the CPU kernels: the same bits as every other backend.
    grads: nativeBackend(binding, resolveIsa(binding, 'auto'), defaultThreads()).grads,
  };
}
