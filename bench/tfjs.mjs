// TensorFlow.js on the same layouts: the 'cpu' backend (plain JS kernels) and 'wasm'.
import { bestOf, fillGrad } from './measure.mjs';

// TF.js greets Node.js users with a banner pointing to tfjs-node on import; the bench compares
// against the pure-JS backends on purpose, so that one line is dropped.
const warn = console.warn;
console.warn = (...args) => {
  if (!String(args[0]).includes('looks like you are running TensorFlow.js in Node.js')) warn(...args);
};
const tf = await import('@tensorflow/tfjs');
await import('@tensorflow/tfjs-backend-wasm');

const broken = new Map(); // backend -> why it can no longer be used in this process
let run = 0; // variable names stay unique even when a failed run could not free its variables

/** Best seconds of one applyGradients over `tensors` variables of `length` elements, or a string saying why not. */
export async function tfSeconds(backend, makeOptimizer, { tensors, length }, { reps, warmup, budget }) {
  if (broken.has(backend)) return `skipped (${broken.get(backend)})`;
  await tf.setBackend(backend);
  await tf.ready();
  const vars = [];
  const grads = {};
  const prefix = `r${++run}w`;
  let result;
  try {
    for (let i = 0; i < tensors; i++) {
      const v = tf.variable(tf.fill([length], 1), true, `${prefix}${i}`);
      vars.push(v);
      grads[v.name] = tf.tensor1d(fillGrad(new Float32Array(length), i + 1));
    }
    const opt = makeOptimizer(tf);
    try {
      // cpu and wasm run their kernels eagerly and synchronously: the call's time is the step's.
      result = bestOf(() => opt.applyGradients(grads), { reps, warmup, budget });
    } finally {
      opt.dispose();
    }
  } catch (e) {
    // A failed wasm allocation leaves its heap unusable: later sizes are skipped, not retried.
    result = `error: ${e.message.split('\n')[0]}`;
    broken.set(backend, `${backend} failed at ${tensors} x ${length}`);
  }
  try {
    for (const g of Object.values(grads)) g.dispose();
    for (const v of vars) v.dispose();
  } catch {
    // Freeing after a failure may fail too; the backend is already marked unusable.
  }
  return result;
}
