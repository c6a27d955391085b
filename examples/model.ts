import type { Split } from './mnist';

/** A parameter in host memory: the models read and write it directly (a Param of the library). */
export interface HostParam {
  name: string;
  data: Float32Array;
  grad: Float32Array;
}

/** What the training loop needs from a model: its parameters and a loss with gradients. */
export interface Model {
  readonly params: HostParam[];
  /**
   * Forward and backward on the rows `order[start..end)` of `data`: adds the gradient of the loss
   * (mean NLL plus any regulariser) to each param.grad and returns the batch's mean NLL.
   */
  trainBatch(data: Split, order: Int32Array, start: number, end: number): number;
  /** Mean NLL and accuracy over a whole split, in inference mode (no dropout). */
  evaluate(data: Split): { nll: number; accuracy: number };
}

/** A parameter with its gradient buffer. */
export function param(name: string, length: number): HostParam {
  return { name, data: new Float32Array(length), grad: new Float32Array(length) };
}

/** Runs `forward(rows, x, labels)` over a split in chunks and averages. */
export function evaluateInChunks(
  data: Split, chunk: number,
  forward: (x: Float32Array, rows: number, labels: Uint8Array) => { nll: number; correct: number },
): { nll: number; accuracy: number } {
  let nll = 0, correct = 0;
  for (let start = 0; start < data.count; start += chunk) {
    const rows = Math.min(chunk, data.count - start);
    const r = forward(data.x.subarray(start * 784, (start + rows) * 784), rows, data.y.subarray(start, start + rows));
    nll += r.nll;
    correct += r.correct;
  }
  return { nll: nll / data.count, accuracy: correct / data.count };
}
