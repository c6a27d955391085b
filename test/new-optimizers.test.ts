import { describe, expect, it } from 'vitest';
import { Adadelta, Adam, Lion, NAdam, type Param, RAdam } from '../lib';
import { sign } from '../lib/rules/lion';
import { NATIVE_ISAS, fillRandom, firstBitDifference, rng } from './helpers';

// Adadelta, NAdam, RAdam and Lion beyond the registry's parity cases: answers worked out from the
// papers' and PyTorch's formulas, Lion's sign at zeros and non-finite values on every backend,
// NAdam's host-side running product through state dicts, and the hyperparameter checks.
const f = Math.fround;
const BACKENDS = ['js', ...NATIVE_ISAS.map((isa) => `native/${isa}`)];
const backendOptions = (b: string) => (b === 'js' ? { backend: 'js' as const } : { backend: 'native' as const, isa: b.slice(7) as 'sse2' });

describe.each(BACKENDS)('known answers on %s', (backend) => {
  const o = backendOptions(backend);

  it('Lion: the first step moves each parameter by exactly lr*sign(g) (m starts at 0); zero grads leave it', () => {
    const next = rng(41);
    const n = 1001, lr = 0.01;
    const data = fillRandom(new Float32Array(n), next), grad = fillRandom(new Float32Array(n), next);
    for (let i = 0; i < n; i += 9) grad[i] = 0;
    data[9] = -0; // -0 with a zero grad stays -0: p - lr*(+0)
    const start = Float32Array.from(data);
    new Lion([{ data, grad }], { lr, ...o }).step();
    // One IEEE subtraction of the float32 lr from p: nothing else rounds.
    const expected = start.map((p, i) => f(p - f(lr) * Math.sign(grad[i])));
    expect(firstBitDifference(data, expected)).toBe(-1);
    expect(Object.is(data[9], -0)).toBe(true);
  });

  it('Lion: decoupled decay first, p*(1 - lr*weightDecay) - lr*sign(g)', () => {
    const data = new Float32Array([2, -2, 4, 0.5]), grad = new Float32Array([3, 0.001, -5, 0]);
    const lr = 0.125, wd = 0.5; // decay = 1 - 1/16, exact in float32; so is every product below
    new Lion([{ data, grad }], { lr, weightDecay: wd, ...o }).step();
    expect(Array.from(data)).toEqual([2 * 0.9375 - 0.125, -2 * 0.9375 - 0.125, 4 * 0.9375 + 0.125, 0.5 * 0.9375]);
  });

  it('RAdam: the first 5 steps (rho_t <= 5) are lr*m/(1-beta1^t), with a constant g each exactly lr*g; step 6 is rectified', () => {
    const g = 0.5, lr = 0.01, beta2 = 0.999;
    const p: Param = { data: new Float32Array([1]), grad: new Float32Array([g]) };
    const opt = new RAdam([p], { lr, ...o });
    const seen: number[] = [];
    for (let t = 1; t <= 6; t++) {
      opt.step();
      seen.push(p.data[0]);
    }
    // m_t = (1 - beta1^t)*g, so m_t/(1 - beta1^t) = g: SGD with step lr*g = 0.005.
    for (let t = 1; t <= 5; t++) expect(seen[t - 1]).toBeCloseTo(1 - 0.005 * t, 6);
    // Step 6: v_t = (1 - beta2^t)*g^2, so sqrt(1-beta2^t)/sqrt(v_t) = 1/g, and the step is lr*r_6.
    const rhoInf = 2 / (1 - beta2) - 1, rho6 = rhoInf - (12 * beta2 ** 6) / (1 - beta2 ** 6);
    expect(rho6).toBeGreaterThan(5);
    const r6 = Math.sqrt(((rho6 - 4) * (rho6 - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho6));
    expect(seen[5] - seen[4]).toBeCloseTo(-lr * r6, 6);
    expect(r6).toBeLessThan(0.1); // far from the unrectified 0.005*... : the branch matters
  });

  it('Adadelta with rho = 0: delta = sqrt(acc + eps)/sqrt(g^2 + eps)*g, acc = delta^2', () => {
    const p: Param = { data: new Float32Array([1]), grad: new Float32Array([0.75]) };
    const opt = new Adadelta([p], { rho: 0, eps: 1, ...o });
    opt.step(); // delta = 1/1.25*0.75 = 0.6
    expect(p.data[0]).toBeCloseTo(0.4, 6);
    opt.step(); // acc = 0.36: delta = sqrt(1.36)/1.25*0.75
    expect(p.data[0]).toBeCloseTo(0.4 - Math.sqrt(1.36) * 0.6, 6);
    const s = opt.stateDict().state['0'];
    expect(s.square_avg[0]).toBe(0.5625);
    expect(s.acc_delta[0]).toBeCloseTo(1.36 * 0.36, 6);
  });

  it('NAdam: the first step is lr*sign(g)*(1 + (1-beta1)*mu_2/(1 - mu_1*mu_2)) (v_hat = g^2)', () => {
    const p: Param = { data: new Float32Array([1, 1]), grad: new Float32Array([0.5, -3]) };
    new NAdam([p], { ...o }).step();
    const mu = (t: number) => 0.9 * (1 - 0.5 * 0.96 ** (t * 0.004));
    const step = 2e-3 * (1 + (0.1 * mu(2)) / (1 - mu(1) * mu(2)));
    expect(p.data[0]).toBeCloseTo(1 - step, 7);
    expect(p.data[1]).toBeCloseTo(1 + step, 7);
  });
});

describe('Lion sign(): +1, -1, +0 for either zero, NaN kept, the same bits on every backend', () => {
  it('the TypeScript sign', () => {
    expect([sign(2), sign(-1e-40), sign(Infinity), sign(-Infinity)]).toEqual([1, -1, 1, -1]);
    expect(Object.is(sign(0), 0) && Object.is(sign(-0), 0)).toBe(true);
    expect(sign(NaN)).toBeNaN();
  });

  it.each(BACKENDS)('%s: zeros, NaN and infinities in grad and param, 3 steps, bitwise equal to js', (backend) => {
    const make = () => {
      const data = new Float32Array([1, -0, 0, 2, 3, -4, NaN, 5, 1e-45, -6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
      const grad = new Float32Array([0, 0, -0, NaN, Infinity, -Infinity, 1, -0, 0, 1e-45, -1e-45, 2, -2, 0, 3, 0, 0, 1, 1, -1, 0]);
      return { data, grad };
    };
    const run = (b: string) => {
      const p = make();
      const opt = new Lion([p], { lr: 0.5, weightDecay: 0.25, ...backendOptions(b) });
      for (let t = 0; t < 3; t++) opt.step();
      return { p, m: opt.stateDict().state['0'].exp_avg };
    };
    const js = run('js'), other = run(backend);
    expect(firstBitDifference(other.p.data, js.p.data)).toBe(-1);
    expect(firstBitDifference(other.m, js.m)).toBe(-1);
    const d = js.p.data;
    // Zero grad and zero momentum: only the decay acts, and -0 stays -0.
    expect(Object.is(d[1], -0)).toBe(true);
    expect(d[0]).toBe(f(f(f(1 * f(0.875)) * f(0.875)) * f(0.875)));
    expect(d[3]).toBeNaN(); // NaN grad: NaN momentum, NaN sign, NaN parameter (not a silent freeze)
    expect(js.m[3]).toBeNaN();
    expect(d[6]).toBeNaN(); // NaN parameter stays NaN
    expect(d[4]).toBeCloseTo(((3 * 0.875 - 0.5) * 0.875 - 0.5) * 0.875 - 0.5, 5); // +Inf grad: sign +1 every step
  });
});

describe("NAdam's mu_product: kept on the host in float64, per group, in the state dict", () => {
  const params = (n = 33, seed = 3): Param[] => {
    const next = rng(seed);
    return [{ name: 'w', data: fillRandom(new Float32Array(n), next), grad: new Float32Array(n) }];
  };
  const grads = (p: Param[], t: number) => fillRandom(p[0].grad as Float32Array, rng(100 + t));
  const mu = (beta1: number, psi: number, t: number) => beta1 * (1 - 0.5 * 0.96 ** (t * psi));

  it('equals mu_1*...*mu_t in float64, and follows a beta1 changed mid-run', () => {
    const p = params();
    const opt = new NAdam(p, { backend: 'js' });
    let product = 1;
    for (let t = 1; t <= 3; t++) {
      grads(p, t);
      opt.step();
      product *= mu(0.9, 4e-3, t);
    }
    expect(opt.stateDict().groups[0].hostState).toEqual({ mu_product: product });
    opt.paramGroups[0].beta1 = 0.5;
    opt.step();
    product *= mu(0.5, 4e-3, 4);
    expect(opt.stateDict().groups[0].hostState!.mu_product).toBe(product);
  });

  it.each(BACKENDS)('%s: resuming from stateDict() is bitwise identical to never stopping, after a beta1 change', (backend) => {
    const o = backendOptions(backend);
    const whole = params();
    const a = new NAdam(whole, o);
    for (let t = 1; t <= 20; t++) {
      if (t === 6) a.paramGroups[0].beta1 = 0.7;
      grads(whole, t);
      a.step();
    }
    const first = params();
    const b = new NAdam(first, o);
    for (let t = 1; t <= 10; t++) {
      if (t === 6) b.paramGroups[0].beta1 = 0.7;
      grads(first, t);
      b.step();
    }
    const saved = b.stateDict();
    const second: Param[] = [{ name: 'w', data: Float32Array.from(first[0].data as Float32Array), grad: new Float32Array(33) }];
    const c = new NAdam(second, o); // beta1 0.9 and mu_product 1 until the dict is loaded
    c.loadStateDict(saved);
    for (let t = 11; t <= 20; t++) {
      grads(second, t);
      c.step();
    }
    expect(firstBitDifference(second[0].data as Float32Array, whole[0].data as Float32Array)).toBe(-1);
    // Without the product (recomputed from the current beta1 alone) the bits differ: the state matters.
    const d = new NAdam([{ name: 'w', data: Float32Array.from(first[0].data as Float32Array), grad: new Float32Array(33) }], o);
    const wrong = [...Array(10)].reduce((x: number, _, i) => x * mu(0.7, 4e-3, i + 1), 1);
    d.loadStateDict({ ...saved, groups: [{ ...saved.groups[0], hostState: { mu_product: wrong } }] });
    const q = d.paramGroups[0].params[0] as Param;
    for (let t = 11; t <= 20; t++) {
      grads([q], t);
      d.step();
    }
    expect(firstBitDifference(q.data as Float32Array, whole[0].data as Float32Array)).not.toBe(-1);
  });

  it('a skipped step (skipNonFinite) leaves it; stepAsync advances it', async () => {
    const p = params();
    const opt = new NAdam(p, { skipNonFinite: true, backend: NATIVE_ISAS.length ? 'native' : 'js' });
    grads(p, 1);
    opt.step();
    const after1 = opt.stateDict().groups[0].hostState!.mu_product;
    (p[0].grad as Float32Array)[0] = NaN;
    expect(opt.step()).toBe(false);
    expect(opt.stateDict().groups[0].hostState!.mu_product).toBe(after1);
    grads(p, 2);
    expect(await opt.stepAsync()).toBe(true);
    expect(opt.stateDict().groups[0].hostState!.mu_product).toBe(after1 * mu(0.9, 4e-3, 2));
  });

  it('a group added later starts its own product at 1', () => {
    const p = params();
    const opt = new NAdam(p, { backend: 'js' });
    grads(p, 1);
    opt.step();
    opt.addParamGroup({ params: [{ name: 'late', data: new Float32Array(4), grad: new Float32Array(4).fill(1) }] });
    opt.step();
    const groups = opt.stateDict().groups;
    expect(groups[0].hostState!.mu_product).toBe(mu(0.9, 4e-3, 1) * mu(0.9, 4e-3, 2));
    expect(groups[1].hostState!.mu_product).toBe(mu(0.9, 4e-3, 1));
  });

  it('loadStateDict checks it first: missing after steps, not a number, unknown names, or given to Adam; nothing changes', () => {
    const p = params();
    const opt = new NAdam(p, { backend: 'js' });
    grads(p, 1);
    opt.step();
    const saved = opt.stateDict();
    const { hostState: _, ...bare } = saved.groups[0];
    const before = opt.stateDict();
    expect(() => opt.loadStateDict({ ...saved, groups: [bare] })).toThrow(/NAdam.loadStateDict: groups\[0\]\.hostState is missing: NAdam carries mu_product/);
    expect(() => opt.loadStateDict({ ...saved, groups: undefined as never })).toThrow(/groups\[0\]\.hostState is missing/);
    expect(() => opt.loadStateDict({ ...saved, groups: [{ ...bare, hostState: { mu_product: 'x' as never } }] })).toThrow(
      new TypeError("NAdam.loadStateDict: groups[0].hostState.mu_product must be a number, got \"x\""),
    );
    expect(() => opt.loadStateDict({ ...saved, groups: [{ ...bare, hostState: { mu_product: 0.5, other: 1 } }] })).toThrow(/unknown option "other"/);
    expect(() => opt.loadStateDict({ ...saved, groups: [{ ...bare, hostState: {} }] })).toThrow(/hostState\.mu_product is missing/);
    expect(opt.stateDict()).toEqual(before);
    // At step 0 the starting value is implied.
    const fresh = new NAdam(params(), { backend: 'js' });
    fresh.loadStateDict({ ...fresh.stateDict(), groups: undefined as never });
    expect(fresh.stateDict().groups[0].hostState).toEqual({ mu_product: 1 });
    const adam = new Adam(params(), { backend: 'js' });
    const sd = adam.stateDict();
    expect(() => adam.loadStateDict({ ...sd, groups: [{ ...sd.groups[0], hostState: { mu_product: 1 } }] })).toThrow(/hostState: unknown option "mu_product"/);
    expect(sd.groups[0]).not.toHaveProperty('hostState');
  });
});

describe('hyperparameter checks name the argument', () => {
  const p = () => [{ data: new Float32Array(2), grad: new Float32Array(2) }];
  it.each([
    ['Lion beta2 1', () => new Lion(p(), { beta2: 1 }), RangeError, "Lion: option 'beta2' must be in [0, 1), got 1"],
    ['Lion lr -1', () => new Lion(p(), { lr: -1 }), RangeError, "Lion: option 'lr' must be >= 0, got -1"],
    ['NAdam momentumDecay -1', () => new NAdam(p(), { momentumDecay: -1 }), RangeError, "NAdam: option 'momentumDecay' must be >= 0, got -1"],
    ['RAdam eps a string', () => new RAdam(p(), { eps: 'x' as never }), TypeError, "RAdam: option 'eps' must be a number, got \"x\""],
    ['Adadelta rho 1.5', () => new Adadelta(p(), { rho: 1.5 }), RangeError, "Adadelta: option 'rho' must be in [0, 1), got 1.5"],
    ['Lion eps (no such option)', () => new Lion(p(), { eps: 1e-8 } as never), TypeError, /Lion: unknown option "eps"/],
  ])('%s', (_label, make, Kind, message) => {
    expect(make).toThrow(Kind);
    expect(make).toThrow(message);
  });

  it('a writable group option is checked the same way and changes nothing when refused', () => {
    const opt = new RAdam(p(), { backend: 'js' });
    expect(() => (opt.paramGroups[0].beta1 = 1)).toThrow(new RangeError("RAdam: paramGroups[0] option 'beta1' must be in [0, 1), got 1"));
    expect(opt.paramGroups[0].beta1).toBe(0.9);
  });

  it('defaults are PyTorch 1.13\'s (Lion: the paper\'s)', () => {
    expect(new Adadelta(p()).options).toEqual({ lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false });
    expect(new NAdam(p()).options).toEqual({ lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, maximize: false });
    expect(new RAdam(p()).options).toEqual({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maximize: false });
    expect(new Lion(p()).options).toEqual({ lr: 1e-4, beta1: 0.9, beta2: 0.99, weightDecay: 0, maximize: false });
  });
});
