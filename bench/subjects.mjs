// What the bench steps: one line per optimizer. `bytes` is what one step must move per element
// in fp32 (arrays read + arrays written, 4 bytes each); `tf` builds the TF.js counterpart, or is
// null where TF.js has none. With SGD merged (issue 3), add its line:
//   { name: 'SGD/Nesterov', make: (p, o) => new SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true, ...o }), bytes: 20, tf: (tf) => tf.train.momentum(0.01, 0.9, true) },
import { AdaMax, Adam, AdamW } from '../dist/index.mjs';

export const SUBJECTS = [
  { name: 'Adam', make: (p, o) => new Adam(p, o), bytes: 28, tf: (tf) => tf.train.adam(1e-3) },
  { name: 'AdamW', make: (p, o) => new AdamW(p, o), bytes: 28, tf: null },
  { name: 'AdaMax', make: (p, o) => new AdaMax(p, o), bytes: 28, tf: (tf) => tf.train.adamax(2e-3) },
];
