// The parameter layouts the bench steps: how many tensors of which length, and where the user's
// params and grads live (the optimizer's state is always the library's own: per-slot arenas).
import { allocFloat32 } from '../dist/index.mjs';
import { fillGrad } from './measure.mjs';

/** In order of total elements (TF.js 'cpu' is skipped where its last rate predicts a very long step). */
export const SIZES = [
  { label: '1M', tensors: 1, length: 2 ** 20 },
  { label: '10k x 1K', tensors: 10000, length: 1024 },
  { label: '16M', tensors: 1, length: 2 ** 24 },
  { label: '64M', tensors: 1, length: 2 ** 26 },
];

/**
 * Params for `tensors` tensors of `length` elements. memory 'native': data and grad are views into
 * one allocFloat32 buffer each (64-byte aligned, huge pages); 'plainViews': views into one
 * `new Float32Array` each (ordinary V8 memory, 4 KiB pages); 'plain': every array is its own
 * `new Float32Array`.
 */
export function makeParams({ tensors, length }, memory = 'native') {
  const params = [];
  if (memory === 'native' || memory === 'plainViews') {
    const alloc = memory === 'native' ? allocFloat32 : (n) => new Float32Array(n);
    const data = alloc(tensors * length).fill(1);
    const grad = fillGrad(alloc(tensors * length));
    for (let i = 0; i < tensors; i++)
      params.push({ data: data.subarray(i * length, (i + 1) * length), grad: grad.subarray(i * length, (i + 1) * length) });
  } else {
    for (let i = 0; i < tensors; i++)
      params.push({ data: new Float32Array(length).fill(1), grad: fillGrad(new Float32Array(length), i + 1) });
  }
  return params;
}

/**
 * The stream probe's arrays over `params` (makeParams): [p, g, m, v] per tensor, p and g laid out
 * as the params' (fresh arrays of that layout: the probe writes them), m and v views of
 * allocFloat32 arenas as an optimizer's state is.
 */
export function makeProbeTensors({ tensors, length }, memory) {
  const [m, v] = [0, 1].map(() => allocFloat32(tensors * length).fill(0.5));
  return makeParams({ tensors, length }, memory).flatMap((p, i) => [p.data, p.grad, m.subarray(i * length, (i + 1) * length), v.subarray(i * length, (i + 1) * length)]);
}

/** Four arrays [p, g, m, v] of n elements for the stream probe. */
export function makeProbeArrays(n, memory = 'native') {
  const alloc = memory === 'native' ? allocFloat32 : (k) => new Float32Array(k);
  return [0, 1, 2, 3].map((k) => (k === 1 ? fillGrad(alloc(n)) : alloc(n).fill(0.5)));
}
