import { describe, expect, it } from 'vitest';
import { AdaMax, Adam, AdamW, type Param } from '../lib';
import { NATIVE_ISAS, fillRandom, rng } from './helpers';
import { type Ref64Options, Reference64, relativeError } from './reference64';

const BACKENDS = ['js', ...NATIVE_ISAS.map((isa) => `native/${isa}`)];

function backendOptions(backend: string) {
  return backend === 'js' ? { backend: 'js' as const } : { backend: 'native' as const, isa: backend.slice(7) as 'sse2' };
}

const CONFIGS: Array<{ label: string; make: (p: Param[], o: object) => { step(): void }; ref: Ref64Options }> = [
  { label: 'Adam', make: (p, o) => new Adam(p, { lr: 0.01, ...o }), ref: { kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } },
  {
    label: 'Adam amsgrad + L2',
    make: (p, o) => new Adam(p, { lr: 0.01, amsgrad: true, weightDecay: 0.1, ...o }),
    ref: { kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, amsgrad: true },
  },
  {
    label: 'Adam without bias correction, beta2 0.9999',
    make: (p, o) => new Adam(p, { lr: 0.01, beta2: 0.9999, biasCorrection: false, ...o }),
    ref: { kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.9999, eps: 1e-8, weightDecay: 0, biasCorrection: false },
  },
  { label: 'AdamW', make: (p, o) => new AdamW(p, { lr: 0.01, ...o }), ref: { kind: 'adamw', lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } },
  { label: 'AdaMax', make: (p, o) => new AdaMax(p, o), ref: { kind: 'adamax', lr: 0.002, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } },
];

describe.each(CONFIGS)('$label against a float64 implementation', (c) => {
  it.each(BACKENDS)('%s: relative error below 1e-5 after 100 steps', (backend) => {
    const next = rng(11);
    const n = 2000;
    const data = new Float32Array(n).map(() => 0.5 + next()); // away from zero: relative error is meaningful
    const grad = new Float32Array(n);
    const ref = new Reference64(data, c.ref);
    const opt = c.make([{ data, grad }], backendOptions(backend));
    const start = Float64Array.from(data);
    for (let t = 0; t < 100; t++) {
      fillRandom(grad, next);
      ref.step(grad);
      opt.step();
    }
    expect(relativeError(data, ref.p)).toBeLessThan(1e-5);
    // And the distance travelled agrees too, not only the (large) parameter values.
    const moved = data.map((x, i) => x - start[i]), movedRef = ref.p.map((x, i) => x - start[i]);
    expect(relativeError(moved, movedRef)).toBeLessThan(1e-3);
    expect(relativeError(movedRef, new Float64Array(n))).toBeGreaterThan(0); // it did move
  });
});

describe('known answer', () => {
  it.each(BACKENDS)('%s: the first Adam step moves every parameter by lr*sign(g)', (backend) => {
    const next = rng(5);
    const n = 1001;
    const data = new Float32Array(n);
    const grad = fillRandom(new Float32Array(n), next);
    grad[0] = 0;
    grad[1] = 1e15; // g*g still finite in float32
    grad[2] = -1e-3;
    const lr = 0.001;
    new Adam([{ data, grad }], { lr, ...backendOptions(backend) }).step();
    for (let i = 0; i < n; i++) {
      const expected = grad[i] === 0 ? 0 : -lr * Math.sign(grad[i]);
      // |m_hat/(sqrt(v_hat)+eps)| = |g|/(|g|+eps): exactly 1 up to eps/|g| and float32 rounding.
      expect(Math.abs(data[i] - expected)).toBeLessThanOrEqual(lr * (1e-8 / Math.max(Math.abs(grad[i]), 1e-30) + 1e-6));
    }
  });
});
