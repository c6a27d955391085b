import { describe, expect, it } from 'vitest';
import { AdaGrad, Adam, SGD, constant, cosine, exponential, inverseSqrt, stepDecay } from '../lib';
import { fillGrads, makeParams } from './cases';
import { NATIVE_LOADED, firstBitDifference } from './helpers';

describe('schedule values', () => {
  it('inverseSqrt is lr/sqrt(t) at every step', () => {
    const s = inverseSqrt(0.3);
    for (let t = 1; t <= 1000; t++) expect(s(t)).toBe(0.3 / Math.sqrt(t));
  });

  it('inverseSqrt in epochs: lr/sqrt(epoch), the epoch of step t being ceil(t/epochLength)', () => {
    const s = inverseSqrt(0.1, { epochLength: 100 });
    expect([1, 100, 101, 200, 201, 400].map(s)).toEqual([0.1, 0.1, 0.1 / Math.SQRT2, 0.1 / Math.SQRT2, 0.1 / Math.sqrt(3), 0.1 / 2]);
  });

  it('constant, stepDecay, exponential at chosen steps', () => {
    expect([1, 50, 1e6].map(constant(0.02))).toEqual([0.02, 0.02, 0.02]);
    // gamma 0.5 every 10 steps: steps 1-10 at lr, 11-20 at lr/2, 21-30 at lr/4
    expect([1, 10, 11, 20, 21].map(stepDecay(0.8, { stepSize: 10, gamma: 0.5 }))).toEqual([0.8, 0.8, 0.4, 0.4, 0.2]);
    expect(stepDecay(1, { stepSize: 3 })(4)).toBeCloseTo(0.1, 15);
    expect([1, 2, 3].map(exponential(2, 0.5))).toEqual([2, 1, 0.5]);
  });

  it('cosine: linear warmup, half cosine, then minLr', () => {
    const s = cosine(1, { totalSteps: 110, warmupSteps: 10, minLr: 0.1 });
    expect(s(1)).toBeCloseTo(0.1, 15);
    expect(s(5)).toBeCloseTo(0.5, 15);
    expect(s(10)).toBe(1);
    expect(s(60)).toBeCloseTo(0.55, 15); // halfway down: minLr + (lr - minLr)/2
    expect(s(110)).toBeCloseTo(0.1, 15);
    expect(s(500)).toBeCloseTo(0.1, 15);
    const noWarmup = cosine(2, { totalSteps: 4 });
    expect([1, 2, 3, 4].map(noWarmup).map((x) => +x.toFixed(12))).toEqual([+(1 + Math.cos(Math.PI / 4)).toFixed(12), 1, +(1 - Math.cos(Math.PI / 4)).toFixed(12), 0]);
  });

  it('rejects bad arguments', () => {
    expect(() => inverseSqrt(-1)).toThrow(RangeError);
    expect(() => inverseSqrt(0.1, { epochLength: 0 })).toThrow(/epochLength' must be >= 1/);
    expect(() => inverseSqrt(0.1, { epochLength: 2.5 })).toThrow(/integer/);
    expect(() => stepDecay(0.1, {} as never)).toThrow(/stepSize' must be a number/);
    expect(() => exponential(0.1, NaN)).toThrow(RangeError);
    expect(() => cosine(0.1, { totalSteps: 10, warmupSteps: 10 })).toThrow(/warmupSteps/);
    expect(() => cosine(0.1, { totalSteps: 10, minLr: 0.2 })).toThrow(/minLr/);
    expect(() => constant('0.1' as never)).toThrow(TypeError);
  });
});

const BACKENDS = NATIVE_LOADED ? (['js', 'native'] as const) : (['js'] as const);

describe.each(BACKENDS)('schedules in the optimizers (%s)', (backend) => {
  it('a schedule gives the bits of setting lr by hand before each step', () => {
    const schedule = cosine(0.05, { totalSteps: 12, warmupSteps: 3 });
    const a = makeParams([100, 17], 4), b = makeParams([100, 17], 4);
    const scheduled = new SGD(a, { lr: schedule, momentum: 0.9, backend });
    const manual = new SGD(b, { lr: 1, momentum: 0.9, backend });
    for (let t = 1; t <= 12; t++) {
      fillGrads(a, 4, t);
      fillGrads(b, 4, t);
      manual.lr = schedule(t);
      scheduled.step();
      manual.step();
    }
    a.forEach((p, i) => expect(firstBitDifference(p.data, b[i].data)).toBe(-1));
  });

  it('the schedule is evaluated at the step about to be taken, once per step', () => {
    const seen: number[] = [];
    const opt = new AdaGrad(makeParams([4], 1), { lr: (t) => (seen.push(t), 0.01), backend });
    for (let t = 0; t < 3; t++) opt.step();
    expect(seen).toEqual([1, 2, 3]);
  });

  it('a schedule that returns a bad lr throws at that step and changes nothing', () => {
    const params = makeParams([20], 2);
    fillGrads(params, 2, 1);
    const opt = new Adam(params, { lr: (t) => (t < 2 ? 0.01 : t === 2 ? NaN : -1), backend });
    opt.step();
    const data = new Float32Array(params[0].data), state = opt.stateDict();
    expect(() => opt.step()).toThrow(/Adam: lr: the schedule returned NaN at step 2/);
    expect(() => opt.step()).toThrow(RangeError);
    opt.lr = (() => 'x') as never;
    expect(() => opt.step()).toThrow(TypeError);
    expect(firstBitDifference(params[0].data, data)).toBe(-1);
    expect(opt.stateDict()).toEqual({ ...state, groups: [{ ...state.groups[0], options: { ...state.groups[0].options, lr: opt.lr } }] });
    expect(opt.stepCount).toBe(1);
  });
});
