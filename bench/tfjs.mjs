// TensorFlow.js on the same layouts: the 'cpu' backend (plain JS kernels) and 'wasm'.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { bestOf, fillGrad } from './measure.mjs';

/** Best seconds of one applyGradients over `tensors` variables of `length` elements, or an error string. */
export async function tfSeconds(backend, makeOptimizer, { tensors, length }, { reps, warmup, budget }) {
  await tf.setBackend(backend);
  await tf.ready();
  const vars = [];
  const grads = {};
  try {
    for (let i = 0; i < tensors; i++) {
      const v = tf.variable(tf.fill([length], 1), true, `w${i}`);
      vars.push(v);
      grads[v.name] = tf.tensor1d(fillGrad(new Float32Array(length), i + 1));
    }
    const opt = makeOptimizer(tf);
    try {
      // cpu and wasm run their kernels eagerly and synchronously: the call's time is the step's.
      return bestOf(() => opt.applyGradients(grads), { reps, warmup, budget });
    } finally {
      opt.dispose();
    }
  } catch (e) {
    return `error: ${e.message.split('\n')[0]}`;
  } finally {
    for (const g of Object.values(grads)) g.dispose();
    for (const v of vars) v.dispose();
  }
}
