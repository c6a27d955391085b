// The linear algebra of the two models, in plain loops over row-major Float32Arrays.
// A weight matrix W is stored [in][out] (so that every inner loop runs along contiguous outputs);
// a batch x is [rows][in]. Inputs are sparse (about 80% of MNIST pixels and half the ReLU outputs
// are zero): both passes visit only the nonzero inputs of each row.

let nonzero = new Int32Array(1024);
let accumulator = new Float64Array(256);

function nonzerosOfRow(x: Float32Array, from: number, inputs: number): Int32Array {
  if (nonzero.length < inputs + 1) nonzero = new Int32Array(inputs + 1);
  const nz = nonzero;
  let count = 0;
  for (let i = 0; i < inputs; i++) if (x[from + i] !== 0) nz[count++] = i;
  nz[inputs] = count; // the count rides in the last slot
  return nz;
}

/** y[r][o] = b[o] + sum_i x[r][i] * W[i][o], summed in float64. */
export function denseForward(x: Float32Array, rows: number, inputs: number, w: Float32Array, b: Float32Array, outputs: number, y: Float32Array): void {
  if (accumulator.length < outputs) accumulator = new Float64Array(outputs);
  const acc = accumulator;
  for (let r = 0; r < rows; r++) {
    const xr = r * inputs;
    const nz = nonzerosOfRow(x, xr, inputs), count = nz[inputs];
    for (let o = 0; o < outputs; o++) acc[o] = b[o];
    for (let k = 0; k < count; k++) {
      const i = nz[k], xi = x[xr + i], wi = i * outputs;
      for (let o = 0; o < outputs; o++) acc[o] += xi * w[wi + o];
    }
    const yr = r * outputs;
    for (let o = 0; o < outputs; o++) y[yr + o] = acc[o];
  }
}

/**
 * Given dL/dy, adds dL/dW = x^T dy to gw and dL/db to gb, and writes dL/dx = dy W^T into dx (when
 * given) at the inputs that are nonzero. dx is 0 where x is 0: the callers' inputs there are ReLU
 * outputs that were off, which pass no gradient anyway.
 */
export function denseBackward(
  x: Float32Array, rows: number, inputs: number, w: Float32Array, outputs: number,
  dy: Float32Array, gw: Float32Array, gb: Float32Array, dx: Float32Array | null,
): void {
  if (dx) dx.fill(0, 0, rows * inputs);
  for (let r = 0; r < rows; r++) {
    const xr = r * inputs, dr = r * outputs;
    for (let o = 0; o < outputs; o++) gb[o] += dy[dr + o];
    const nz = nonzerosOfRow(x, xr, inputs), count = nz[inputs];
    for (let k = 0; k < count; k++) {
      const i = nz[k], xi = x[xr + i], wi = i * outputs;
      let s = 0;
      for (let o = 0; o < outputs; o++) {
        const d = dy[dr + o];
        gw[wi + o] += xi * d;
        s += d * w[wi + o];
      }
      if (dx) dx[xr + i] = s;
    }
  }
}

/** ReLU in place; returns nothing: the backward pass reads the zeros back from the activations. */
export function relu(a: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) if (a[i] < 0) a[i] = 0;
}

/**
 * Softmax cross-entropy of logits [rows][classes] against labels: returns the summed NLL and the
 * number of correct argmax predictions; writes dL/dlogits of the mean NLL into `dlogits` if given.
 */
export function softmaxNll(
  logits: Float32Array, rows: number, classes: number, labels: Uint8Array, labelRows: Int32Array | null,
  dlogits: Float32Array | null,
): { nll: number; correct: number } {
  let nll = 0, correct = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let max = -Infinity, arg = 0;
    for (let c = 0; c < classes; c++) if (logits[base + c] > max) (max = logits[base + c]), (arg = c);
    let z = 0;
    for (let c = 0; c < classes; c++) z += Math.exp(logits[base + c] - max);
    const label = labels[labelRows ? labelRows[r] : r];
    nll += Math.log(z) - (logits[base + label] - max);
    if (arg === label) correct++;
    if (dlogits)
      for (let c = 0; c < classes; c++)
        dlogits[base + c] = (Math.exp(logits[base + c] - max) / z - (c === label ? 1 : 0)) / rows;
  }
  return { nll, correct };
}

/** Copies the rows `index[start..end)` of x into `into` (the minibatch, contiguous). */
export function gatherRows(x: Float32Array, width: number, index: Int32Array, start: number, end: number, into: Float32Array): void {
  for (let k = start; k < end; k++) into.set(x.subarray(index[k] * width, (index[k] + 1) * width), (k - start) * width);
}
