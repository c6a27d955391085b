import { describe, expect, it } from 'vitest';
import { logisticRegression } from '../examples/logreg';
import { loadMnist } from '../examples/mnist';
import { multilayerPerceptron } from '../examples/mlp';
import type { Model } from '../examples/model';
import { seededRandom } from '../examples/random';

// The demo's hand-derived gradients against central differences of its own loss, on real digits.
const data = loadMnist(2);
const order = Int32Array.from({ length: 16 }, (_, i) => i);

function checkGradients(model: Model, l2: number, l2Param: string): void {
  for (const p of model.params) p.grad.fill(0);
  model.trainBatch(data.train, order, 0, 16);
  const analytic = model.params.map((p) => Float64Array.from(p.grad));
  const loss = (): number => model.trainBatch(data.train, order, 0, 16); // its grads are ignored
  const pick = seededRandom(9);
  let checked = 0;
  model.params.forEach((p, k) => {
    for (let n = 0; n < 12; n++) {
      const i = Math.floor(pick() * p.data.length);
      const x = p.data[i], h = 1e-3; // small: a larger step can cross a ReLU kink
      p.data[i] = x + h;
      const up = loss();
      p.data[i] = x - h;
      const down = loss();
      p.data[i] = x;
      const plusL2 = p.name === l2Param ? l2 * x : 0; // the regulariser is in the gradient, not the NLL
      const numeric = (up - down) / (2 * h) + plusL2;
      expect(Math.abs(analytic[k][i] - numeric), `${p.name}[${i}]`).toBeLessThanOrEqual(2e-3 + 2e-2 * Math.abs(numeric));
      if (analytic[k][i] !== 0) checked++;
    }
  });
  expect(checked).toBeGreaterThan(10); // not a comparison of zeros
}

describe('demo models: gradients agree with central differences', () => {
  it('logistic regression, with its L2 term', () => {
    // l2 large enough that a missing or wrong L2 gradient (l2*w, w ~ 0.01) exceeds the tolerance.
    checkGradients(logisticRegression({ seed: 1, l2: 5, batch: 16 }), 5, 'weight');
  });

  it('MLP 784-32-16-10', () => {
    checkGradients(multilayerPerceptron({ seed: 2, hidden: [32, 16], batch: 16, dropout: 0 }), 0, '');
  });
});
