import type { CudaBinding, DeviceBuffer } from '../../binding';
import { DeviceTensor, bufferOf, newDeviceTensor } from '../cuda';
import type { Rule } from '../rules/types';
import { loadNative } from './load';
import { defaultThreads, nativeBackend, resolveIsa } from './native';
import type { Backend, Executor, TensorSlots } from './types';

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
    prepare(rule: Rule<never>, tensors: ReadonlyArray<TensorSlots>): Executor {
      const layout = binding.rules[rule.name];
      const items: Array<DeviceBuffer | Float32Array | null> = [];
      tensors.forEach((slots, t) => {
        for (let k = 0; k < layout.slots; k++) {
          const x = slots[k] ?? null;
          items.push(x instanceof DeviceTensor ? bufferOf(x, `tensor ${t} slot ${k}`) : x);
        }
      });
      const plan = new cuda.Plan(layout.id, layout.slots, items);
      return {
        step: (scalars, flags) => plan.step(scalars, flags),
        stepAsync: (scalars, flags) => plan.stepAsync(scalars, flags),
        release: () => plan.release(),
      };
    },
    alloc: (n) => newDeviceTensor(cuda, n),
    // Whole-gradient operations on host grads (clipGradNorm, clipGradValue, skipNonFinite in
    // host-mirror mode) run on the CPU kernels: the same bits as every other backend.
    grads: nativeBackend(binding, resolveIsa(binding, 'auto'), defaultThreads()).grads,
  };
}
