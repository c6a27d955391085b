// What the bench steps: one line per optimizer. `bytes` is what one step must move per element
// in fp32 (arrays read + arrays written, 4 bytes each); `tf` builds the TF.js counterpart, or is
// null where TF.js has none. The roof stays the 4-read/3-write probe: an optimizer with other
// traffic (SGD with momentum: 3 read, 2 written) is compared by GB/s.
import { AdaMax, Adam, AdamW, SGD } from '../dist/index.mjs';

export const SUBJECTS = [
  { name: 'Adam', make: (p, o) => new Adam(p, o), bytes: 28, tf: (tf) => tf.train.adam(1e-3) },
  { name: 'AdamW', make: (p, o) => new AdamW(p, o), bytes: 28, tf: null },
  { name: 'AdaMax', make: (p, o) => new AdaMax(p, o), bytes: 28, tf: (tf) => tf.train.adamax(2e-3) },
  { name: 'SGD/Nesterov', make: (p, o) => new SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true, ...o }), bytes: 20, tf: (tf) => tf.train.momentum(0.01, 0.9, true) },
];
