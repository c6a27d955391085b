import { denseBackward, denseForward, gatherRows, relu, softmaxNll } from './dense';
import { CLASSES, PIXELS, type Split } from './mnist';
import { type Model, evaluateInChunks, param } from './model';
import { fillUniform, seededRandom } from './random';

export interface MlpOptions {
  seed: number;
  hidden: [number, number];
  batch: number;
  /** Probability of dropping a hidden unit during training (inverted dropout); 0 turns it off. */
  dropout: number;
}

/**
 * A fully connected net 784 -> h1 -> h2 -> 10 with ReLU (the paper's Figure 2, sized for 2 cores).
 * He-uniform initialisation; dropout masks come from a seeded generator, so runs repeat exactly.
 */
export function multilayerPerceptron(options: MlpOptions): Model {
  const [h1, h2] = options.hidden, B = options.batch;
  const sizes: Array<[number, number]> = [[PIXELS, h1], [h1, h2], [h2, CLASSES]];
  const random = seededRandom(options.seed);
  const layers = sizes.map(([inputs, outputs], k) => {
    const w = param(`layer${k + 1}.weight`, inputs * outputs), b = param(`layer${k + 1}.bias`, outputs);
    fillUniform(w.data, Math.sqrt(6 / inputs), random);
    return { inputs, outputs, w, b };
  });
  const dropRandom = seededRandom(options.seed ^ 0x5eed);
  const keep = 1 - options.dropout, scale = 1 / keep; // 1 without dropout
  // Activations (inputs of each layer, then logits) and their gradients, allocated once.
  const acts = [new Float32Array(B * PIXELS), new Float32Array(B * h1), new Float32Array(B * h2), new Float32Array(B * CLASSES)];
  const grads = acts.map((a) => new Float32Array(a.length));

  function forward(x: Float32Array, rows: number, train: boolean): Float32Array {
    let input = x;
    layers.forEach((l, k) => {
      const out = acts[k + 1];
      denseForward(input, rows, l.inputs, l.w.data, l.b.data, l.outputs, out);
      if (k < layers.length - 1) {
        relu(out, rows * l.outputs);
        if (train && options.dropout > 0)
          for (let i = 0; i < rows * l.outputs; i++) out[i] = dropRandom() < keep ? out[i] * scale : 0;
      }
      input = out;
    });
    return acts[layers.length];
  }

  return {
    params: layers.flatMap((l) => [l.w, l.b]),
    trainBatch(data: Split, order: Int32Array, start: number, end: number): number {
      const rows = end - start;
      gatherRows(data.x, PIXELS, order, start, end, acts[0]);
      const logits = forward(acts[0], rows, true);
      const { nll } = softmaxNll(logits, rows, CLASSES, data.y, order.subarray(start, end), grads[layers.length]);
      for (let k = layers.length - 1; k >= 0; k--) {
        const l = layers[k];
        const dx = k > 0 ? grads[k] : null;
        denseBackward(acts[k], rows, l.inputs, l.w.data, l.outputs, grads[k + 1], l.w.grad, l.b.grad, dx);
        // Through ReLU and dropout: a unit that output zero passes no gradient (denseBackward
        // left it 0); kept units were scaled by 1/keep, and so is their gradient.
        if (dx && scale !== 1) for (let i = 0; i < rows * l.inputs; i++) dx[i] *= scale;
      }
      return nll / rows;
    },
    evaluate: (data) =>
      evaluateInChunks(data, B, (x, rows, labels) => softmaxNll(forward(x, rows, false), rows, CLASSES, labels, null, null)),
  };
}
