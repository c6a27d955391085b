// What the bench steps: optimizers of the registry (lib/optimizers/index.ts), each with what the
// bench needs to know of it. `bytes` is what one step must move per element in fp32 (arrays read +
// arrays written, 4 bytes each); `tf` builds the TF.js counterpart, or is null where TF.js has none.
// The roof stays the 4-read/3-write probe: an optimizer with other traffic (SGD with momentum:
// 3 read, 2 written) is compared by GB/s.
import { OPTIMIZERS } from '../dist/index.mjs';

const BENCHED = {
  Adam: { label: 'Adam', options: {}, bytes: 28, tf: (tf) => tf.train.adam(1e-3) },
  AdamW: { label: 'AdamW', options: {}, bytes: 28, tf: null },
  AdaMax: { label: 'AdaMax', options: {}, bytes: 28, tf: (tf) => tf.train.adamax(2e-3) },
  SGD: { label: 'SGD/Nesterov', options: { lr: 0.01, momentum: 0.9, nesterov: true }, bytes: 20, tf: (tf) => tf.train.momentum(0.01, 0.9, true) },
  Adadelta: { label: 'Adadelta', options: {}, bytes: 28, tf: null },
  NAdam: { label: 'NAdam', options: {}, bytes: 28, tf: null },
  RAdam: { label: 'RAdam', options: {}, bytes: 28, tf: null },
  Lion: { label: 'Lion', options: {}, bytes: 20, tf: null },
};

export const SUBJECTS = OPTIMIZERS.filter((e) => e.name in BENCHED).map((e) => {
  const { label, options, bytes, tf } = BENCHED[e.name];
  return { name: label, make: (p, o) => new e.Class(p, { ...options, ...o }), bytes, tf };
});
