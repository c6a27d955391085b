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

// PyTorch 1.13's Adam step in float64 (denom = sqrt(v)/sqrt(1-beta2^t) + eps; p -= lr/(1-beta1^t) * m/denom),
// from the float32 moments the step just wrote. With p = 0 before the step (no weight decay), -p after
// it is the rule's float32 update exactly, so the ordering alone is compared.
const TORCH_CASES = [
  { label: 'Adam', o: { lr: 1e-3, beta2: 0.999 } },
  { label: 'Adam amsgrad', o: { lr: 1e-3, beta2: 0.999, amsgrad: true } },
  { label: 'Adam without bias correction, beta2 0.9999', o: { lr: 1e-3, beta2: 0.9999, biasCorrection: false } },
];
describe.each(TORCH_CASES)("$label: each of 100 updates equals PyTorch's formula to float32 rounding", ({ o }) => {
  it.each(BACKENDS)('%s', (backend) => {
    const next = rng(23);
    const n = 1000;
    const data = new Float32Array(n), grad = new Float32Array(n);
    const opt = new Adam([{ data, grad }], { ...o, ...backendOptions(backend) });
    const { lr, beta2 } = o, beta1 = 0.9, eps = 1e-8, corrected = o.biasCorrection ?? true;
    // The efficient ordering rounds six times (stepSize, epsHat, sqrt, +, /, *), each by at most 2^-24 relative.
    const bound = 6 * 2 ** -24;
    let worst = 0;
    for (let t = 1; t <= 100; t++) {
      // Magnitudes from 1e-12 to 1e3, so that sqrt(v) is both far below and far above eps.
      for (let i = 0; i < n; i++) grad[i] = Math.sign(next() - 0.5) * 10 ** (-12 + 15 * next());
      data.fill(0);
      opt.step();
      const s = Object.values(opt.stateDict().state)[0];
      const vd = o.amsgrad ? s.max_exp_avg_sq : s.exp_avg_sq;
      const bc1 = corrected ? 1 - beta1 ** t : 1, bc2 = corrected ? 1 - beta2 ** t : 1;
      for (let i = 0; i < n; i++) {
        const torch = (lr / bc1) * (s.exp_avg[i] / (Math.sqrt(vd[i]) / Math.sqrt(bc2) + eps));
        if (torch !== 0) worst = Math.max(worst, Math.abs(-data[i] - torch) / Math.abs(torch));
        else expect(data[i]).toBe(0);
      }
    }
    expect(worst).toBeLessThanOrEqual(bound);
    expect(worst).toBeGreaterThan(0); // float32 did round somewhere: the comparison is live
  });
});

describe('Adam without bias correction', () => {
  // Both 1-beta^t are 1: stepSize = lr and epsHat = eps exactly, so the update is the paper's
  // uncorrected formula in float32 with no extra rounding, bit for bit.
  it.each(BACKENDS)('%s: p - lr*(m/(sqrt(v) + eps)) in float32, bitwise, over 20 steps', (backend) => {
    const f = Math.fround, next = rng(31);
    const n = 257, lr = 0.003, beta1 = 0.8, beta2 = 0.99, eps = 1e-3; // eps large enough to matter
    const data = fillRandom(new Float32Array(n), next), grad = new Float32Array(n);
    const p = Float32Array.from(data), m = new Float32Array(n), v = new Float32Array(n);
    const opt = new Adam([{ data, grad }], { lr, beta1, beta2, eps, biasCorrection: false, ...backendOptions(backend) });
    for (let t = 1; t <= 20; t++) {
      fillRandom(grad, next);
      opt.step();
      for (let i = 0; i < n; i++) {
        const g = grad[i];
        m[i] = f(f(m[i] * f(beta1)) + f(g * f(1 - beta1)));
        v[i] = f(f(v[i] * f(beta2)) + f(f(g * g) * f(1 - beta2)));
        p[i] = f(p[i] - f(f(lr) * f(m[i] / f(f(Math.sqrt(v[i])) + f(eps)))));
      }
      expect(Buffer.from(data.buffer).equals(Buffer.from(p.buffer))).toBe(true);
    }
  });
});
