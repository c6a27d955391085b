import { describe, expect, it } from 'vitest';
import { AdaGrad, Adadelta, Adam, Lion, NAdam, type Param, RAdam, RMSProp, SGD } from '../lib';
import { fillGrads, makeParams } from './cases';
import { NATIVE_LOADED } from './helpers';
import { adadelta64, adagrad64, lion64, nadam64, radam64, rmsprop64, sgd64 } from './reference64';

type Options = Record<string, unknown>;
type Numeric = Record<string, number | boolean>;
const BACKENDS = NATIVE_LOADED ? (['js', 'native'] as const) : (['js'] as const);

const FAMILIES = [
  {
    name: 'SGD',
    make: (p: Param[], o: Options) => new SGD(p, o),
    ref: sgd64,
    defaults: { lr: 0.01, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false },
    variants: [{}, { momentum: 0.9 }, { momentum: 0.9, nesterov: true, weightDecay: 0.01 }, { momentum: 0.8, dampening: 0.3, maximize: true }],
  },
  {
    name: 'AdaGrad',
    make: (p: Param[], o: Options) => new AdaGrad(p, o),
    ref: adagrad64,
    defaults: { lr: 0.01, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false },
    variants: [{}, { lrDecay: 0.05, initialAccumulatorValue: 0.1 }, { weightDecay: 0.01, maximize: true }],
  },
  {
    name: 'RMSProp',
    make: (p: Param[], o: Options) => new RMSProp(p, o),
    ref: rmsprop64,
    defaults: { lr: 0.01, rho: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false },
    variants: [{}, { centered: true }, { momentum: 0.9, weightDecay: 0.01 }, { centered: true, momentum: 0.5, maximize: true }],
  },
  {
    name: 'Adadelta',
    make: (p: Param[], o: Options) => new Adadelta(p, o),
    ref: adadelta64,
    defaults: { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false },
    variants: [{}, { rho: 0 }, { lr: 0.5, rho: 0.5, eps: 1e-3, weightDecay: 0.01, maximize: true }],
  },
  {
    name: 'NAdam',
    make: (p: Param[], o: Options) => new NAdam(p, o),
    ref: nadam64,
    defaults: { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, maximize: false },
    variants: [{}, { momentumDecay: 0.5, weightDecay: 0.01 }, { beta1: 0.5, beta2: 0.9, eps: 1e-3, maximize: true }],
  },
  {
    name: 'RAdam',
    make: (p: Param[], o: Options) => new RAdam(p, o),
    ref: radam64,
    defaults: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maximize: false },
    variants: [{}, { beta2: 0.9, weightDecay: 0.01 }, { beta1: 0.5, beta2: 0.8, eps: 1e-3, maximize: true }],
  },
  {
    name: 'Lion',
    make: (p: Param[], o: Options) => new Lion(p, o),
    ref: lion64,
    defaults: { lr: 1e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0, maximize: false },
    variants: [{}, { weightDecay: 0.5 }, { lr: 0.01, beta1: 0.5, beta2: 0.9, maximize: true }],
  },
];

describe.each(FAMILIES)('$name against a float64 reference', (fam) => {
  it.each(fam.variants.flatMap((v) => BACKENDS.map((backend) => ({ v, backend, label: `${JSON.stringify(v)} ${backend}` }))))(
    '$label stays within float32 rounding of float64 over 20 steps',
    // Float32 rounds each step by a few ulps of the parameter and of the step: the error bound is
    // relative to the parameter plus the path it travelled (the sum of |step| in float64).
    ({ v, backend }) => {
      const o = { ...fam.defaults, ...v };
      const params = makeParams([257], 3);
      const ref = Array.from(params[0].data);
      const states = ref.map(() => ({}) as Record<string, number>);
      const path = ref.map(() => 0);
      const opt = fam.make(params, { lr: o.lr, ...v, backend });
      let worst = 0;
      for (let t = 1; t <= 20; t++) {
        fillGrads(params, 3, t);
        for (let i = 0; i < ref.length; i++) {
          const next = fam.ref(ref[i], params[0].grad[i], states[i], t, o as unknown as Numeric);
          path[i] += Math.abs(next - ref[i]);
          ref[i] = next;
        }
        opt.step();
      }
      for (let i = 0; i < ref.length; i++)
        worst = Math.max(worst, Math.abs(params[0].data[i] - ref[i]) / (Math.abs(ref[i]) + path[i]));
      expect(worst).toBeLessThan(1e-5);
      expect(worst).toBeGreaterThanOrEqual(0); // NaN would fail the line above too; this one names it
    },
  );
});

// Hand-computed steps from p = 1 (see each comment for the arithmetic).
describe.each(BACKENDS)('known answers on %s', (backend) => {
  const run = (make: (p: Param[]) => { step(): boolean }, grads: number[]) => {
    const p: Param = { data: new Float32Array([1]), grad: new Float32Array(1) };
    const opt = make([p]);
    return grads.map((g) => {
      p.grad[0] = g;
      opt.step();
      return p.data[0];
    });
  };

  it('SGD momentum 0.9: buf = g on step 1, then 0.9*buf + g', () => {
    // buf = 0.5, p = 1 - 0.1*0.5 = 0.95; buf = 0.45 + 0.5 = 0.95, p = 0.95 - 0.095 = 0.855
    const got = run((p) => new SGD(p, { lr: 0.1, momentum: 0.9, backend }), [0.5, 0.5]);
    expect(got[0]).toBeCloseTo(0.95, 6);
    expect(got[1]).toBeCloseTo(0.855, 6);
  });

  it('SGD Nesterov: g + momentum*buf', () => {
    // buf = 0.5, g = 0.5 + 0.9*0.5 = 0.95, p = 1 - 0.095 = 0.905
    expect(run((p) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, backend }), [0.5])[0]).toBeCloseTo(0.905, 6);
  });

  it('AdaGrad: sum of squares and lrDecay', () => {
    // sum = 4, p = 1 - 0.1*2/2 = 0.9; sum = 8, p = 0.9 - 0.1*2/sqrt(8) = 0.8292893
    expect(run((p) => new AdaGrad(p, { lr: 0.1, backend }), [2, 2])[1]).toBeCloseTo(0.8292893, 6);
    // lrDecay 1: clr = 0.1/(1 + 1) at step 2, p = 0.9 - 0.05*2/sqrt(8) = 0.8646447
    expect(run((p) => new AdaGrad(p, { lr: 0.1, lrDecay: 1, backend }), [2, 2])[1]).toBeCloseTo(0.8646447, 6);
  });

  it('RMSProp: plain, centered and with momentum', () => {
    // sq = 0.01, avg = 0.1 (+1e-8), p = 1 - 0.01*1/0.1 = 0.9
    expect(run((p) => new RMSProp(p, { backend }), [1])[0]).toBeCloseTo(0.9, 6);
    // ga = 0.01, avg = sqrt(0.01 - 0.0001) = 0.0994987, p = 1 - 0.01/0.0994987 = 0.8994962
    expect(run((p) => new RMSProp(p, { centered: true, backend }), [1])[0]).toBeCloseTo(0.8994962, 6);
    // step 2: sq = 0.0199, g/avg = 7.0888115, buf = 0.9*10 + 7.0888115 = 16.0888115, p = 0.9 - 0.1608881 = 0.7391119
    expect(run((p) => new RMSProp(p, { momentum: 0.9, backend }), [1, 1])[1]).toBeCloseTo(0.7391119, 5);
  });

  it('AdaGrad starts its sum at initialAccumulatorValue (in the state dict too)', () => {
    const p: Param = { data: new Float32Array([1, 1]), grad: new Float32Array([0, 0]) };
    const opt = new AdaGrad([p], { initialAccumulatorValue: 0.25, backend });
    expect(Array.from(opt.stateDict().state['0'].sum)).toEqual([0.25, 0.25]);
  });

  it('state slots carry PyTorch names, only those the options need', () => {
    const p = () => [{ data: new Float32Array(3), grad: new Float32Array(3) }];
    expect(Object.keys(new SGD(p(), { lr: 1, backend }).stateDict().state['0'])).toEqual([]);
    expect(Object.keys(new SGD(p(), { lr: 1, momentum: 0.9, backend }).stateDict().state['0'])).toEqual(['momentum_buffer']);
    expect(Object.keys(new AdaGrad(p(), { backend }).stateDict().state['0'])).toEqual(['sum']);
    expect(Object.keys(new RMSProp(p(), { backend }).stateDict().state['0'])).toEqual(['square_avg']);
    expect(Object.keys(new RMSProp(p(), { momentum: 0.9, centered: true, backend }).stateDict().state['0'])).toEqual([
      'square_avg',
      'momentum_buffer',
      'grad_avg',
    ]);
  });
});

describe("the paper's invariance of Adam to rescaling the gradient (eps negligible)", () => {
  // m scales by c, sqrt(v) by |c|: m/sqrt(v) does not change. With c a power of two every float32
  // operation scales exactly, so with eps = 0 the parameters are bitwise the same; with any other c
  // they agree to float32 rounding. Grads here are never zero, so eps = 0 never divides 0 by 0.
  const steps = (c: number, eps: number, backend: 'js' | 'native') => {
    const params = makeParams([1000], 11);
    const opt = new Adam(params, { lr: 0.01, eps, backend });
    for (let t = 1; t <= 25; t++) {
      fillGrads(params, 11, t);
      for (let i = 0; i < params[0].grad.length; i++) params[0].grad[i] = c * (params[0].grad[i] + (i % 2 ? 0.5 : -0.5));
      opt.step();
    }
    return params[0].data;
  };

  it.each(BACKENDS)('c = 1024 and c = 1/64 give the bits of c = 1 (eps 0, %s)', (backend) => {
    const base = steps(1, 0, backend);
    expect(Array.from(steps(1024, 0, backend))).toEqual(Array.from(base));
    expect(Array.from(steps(1 / 64, 0, backend))).toEqual(Array.from(base));
  });

  it.each(BACKENDS)('c = 1000 and c = 0.003 change the step by float32 rounding only (eps 1e-12, %s)', (backend) => {
    const base = steps(1, 1e-12, backend);
    for (const c of [1000, 0.003]) {
      const scaled = steps(c, 1e-12, backend);
      let worst = 0;
      for (let i = 0; i < base.length; i++) worst = Math.max(worst, Math.abs(scaled[i] - base[i]));
      expect(worst).toBeLessThan(1e-5); // 25 steps of lr 0.01 move a parameter by up to 0.25
    }
  });

  it('a non-negligible eps breaks the invariance (the test above could fail)', () => {
    const a = steps(1, 1e-1, 'js'), b = steps(1000, 1e-1, 'js');
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeGreaterThan(1e-3);
  });
});
