import { denseBackward, denseForward, gatherRows, softmaxNll } from './dense';
import { CLASSES, PIXELS, type Split } from './mnist';
import { type Model, evaluateInChunks, param } from './model';
import { fillUniform, seededRandom } from './random';

/**
 * L2-regularised multiclass logistic regression, 784 -> 10 (the paper's Figure 1).
 * Loss: mean NLL of softmax(x W + b) + (l2/2)*|W|^2; gradient: dW = x^T (p - onehot) / B + l2*W.
 */
export function logisticRegression(options: { seed: number; l2: number; batch: number }): Model {
  const w = param('weight', CLASSES * PIXELS), b = param('bias', CLASSES);
  fillUniform(w.data, 0.01, seededRandom(options.seed));
  const x = new Float32Array(options.batch * PIXELS);
  const logits = new Float32Array(options.batch * CLASSES), dlogits = new Float32Array(options.batch * CLASSES);

  const forward = (input: Float32Array, rows: number, labels: Uint8Array) => {
    denseForward(input, rows, PIXELS, w.data, b.data, CLASSES, logits);
    return softmaxNll(logits, rows, CLASSES, labels, null, null);
  };

  return {
    params: [w, b],
    trainBatch(data: Split, order: Int32Array, start: number, end: number): number {
      const rows = end - start;
      gatherRows(data.x, PIXELS, order, start, end, x);
      denseForward(x, rows, PIXELS, w.data, b.data, CLASSES, logits);
      const { nll } = softmaxNll(logits, rows, CLASSES, data.y, order.subarray(start, end), dlogits);
      denseBackward(x, rows, PIXELS, w.data, CLASSES, dlogits, w.grad, b.grad, null);
      for (let i = 0; i < w.data.length; i++) w.grad[i] += options.l2 * w.data[i];
      return nll / rows;
    },
    evaluate: (data) => evaluateInChunks(data, options.batch, forward),
  };
}
