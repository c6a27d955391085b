// What the bench steps: every optimizer of the registry (lib/optimizers/index.ts) with its base
// options, so a new optimizer is benched without a line here. `bytes` is what one step must move
// per element in fp32: param, grad and each state slot read, param and each state slot written, 4
// bytes each, counted from the state a fresh optimizer holds. The roof stays the 4-read/3-write
// probe: an optimizer with other traffic (SGD with momentum: 3 read, 2 written) is compared by GB/s.
import { OPTIMIZERS } from '../dist/index.mjs';

// TF.js counterparts, where TF.js has one, and the options that match them.
const TF = {
  Adam: { tf: (tf) => tf.train.adam(1e-3) },
  AdaMax: { tf: (tf) => tf.train.adamax(2e-3) },
  SGD: { label: 'SGD/Nesterov', options: { momentum: 0.9, nesterov: true }, tf: (tf) => tf.train.momentum(0.01, 0.9, true) },
};

function stateSlots(entry, options) {
  const opt = new entry.Class([{ data: new Float32Array(1), grad: new Float32Array(1) }], { ...options, backend: 'js' });
  return Object.keys(opt.stateDict().state[0] ?? {}).length;
}

export const SUBJECTS = OPTIMIZERS.map((e) => {
  const { label = e.name, options: extra = {}, tf = null } = TF[e.name] ?? {};
  const options = { ...e.base, ...extra };
  const slots = stateSlots(e, options);
  return { name: label, make: (p, o) => new e.Class(p, { ...options, ...o }), bytes: 4 * (2 + slots) + 4 * (1 + slots), tf };
});
