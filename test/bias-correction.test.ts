import { describe, expect, it } from 'vitest';
import { Adam } from '../lib';
import { NATIVE_LOADED } from './helpers';

// The paper's Figure 4 ablation: without the bias corrections the first step is not lr but
// lr*(1-beta1)/sqrt(1-beta2) (m and v start at zero and are not rescaled), 10*lr for beta2 0.9999.
function firstStep(beta2: number, biasCorrection: boolean, backend: 'js' | 'native'): number {
  const data = new Float32Array([1, 1, 1]);
  const grad = new Float32Array([0.5, -2, 30]);
  new Adam([{ data, grad }], { lr: 0.001, beta2, biasCorrection, backend }).step();
  return 1 - data[0];
}

describe('Adam biasCorrection', () => {
  it.each([0.99, 0.999, 0.9999])('beta2 %f: the first step is lr with it and lr*(1-beta1)/sqrt(1-beta2) without', (beta2) => {
    for (const backend of NATIVE_LOADED ? (['js', 'native'] as const) : (['js'] as const)) {
      expect(firstStep(beta2, true, backend)).toBeCloseTo(0.001, 6);
      const without = firstStep(beta2, false, backend);
      expect(without / (0.001 * (1 - 0.9) / Math.sqrt(1 - beta2))).toBeCloseTo(1, 4);
    }
  });

  it('defaults to true and rejects a non-boolean, naming the option', () => {
    const p = { data: new Float32Array(2), grad: new Float32Array(2) };
    expect(new Adam([p]).options.biasCorrection).toBe(true);
    expect(() => new Adam([p], { biasCorrection: 0 as unknown as boolean })).toThrow(TypeError);
    expect(() => new Adam([p], { biasCorrection: 'no' as unknown as boolean })).toThrow(/biasCorrection/);
  });
});
