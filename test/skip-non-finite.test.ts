import { describe, expect, it } from 'vitest';
import { AdaGrad, Adam, OPTIMIZERS, type Param, RMSProp, SGD } from '../lib';
import { fillGrads, makeParams } from './cases';
import { NATIVE_LOADED, firstBitDifference } from './helpers';

const BACKENDS = NATIVE_LOADED ? (['js', 'native'] as const) : (['js'] as const);
type Make = (p: Param[], o: Record<string, unknown>) => { step(): boolean; stepAsync(): Promise<boolean>; stepCount: number; stateDict(): unknown };
// Each optimizer with state in every slot its main paths use (registry `paths`).
const MAKERS: Array<[string, Make]> = OPTIMIZERS.map((e) => [e.name, (p, o) => new e.Class(p, { ...e.base, ...e.paths, ...o })]);
const CASES = MAKERS.flatMap(([name, make]) => BACKENDS.map((backend) => ({ label: `${name} ${backend}`, make, backend })));

describe.each(CASES)('skipNonFinite: $label', ({ make, backend }) => {
  it.each([NaN, Infinity, -Infinity])('a %s grad skips the step: params, state and step count untouched', async (bad) => {
    const params = makeParams([40, 1025], 3);
    const opt = make(params, { skipNonFinite: true, backend });
    fillGrads(params, 3, 1);
    expect(opt.step()).toBe(true);
    fillGrads(params, 3, 2);
    params[1].grad[1000] = bad;
    const data = params.map((p) => new Float32Array(p.data));
    const state = opt.stateDict();
    expect(opt.step()).toBe(false);
    expect(await opt.stepAsync()).toBe(false);
    params.forEach((p, i) => expect(firstBitDifference(p.data, data[i])).toBe(-1));
    expect(opt.stateDict()).toEqual(state);
    expect(opt.stepCount).toBe(1);
    params[1].grad[1000] = 0; // finite again: steps resume
    expect(await opt.stepAsync()).toBe(true);
    expect(opt.stepCount).toBe(2);
    expect(firstBitDifference(params[1].data, data[1])).not.toBe(-1);
  });

  it('without skipNonFinite a NaN grad goes through (the check is what skips)', () => {
    const params = makeParams([40], 3);
    const opt = make(params, { backend });
    fillGrads(params, 3, 1);
    params[0].grad[3] = NaN;
    expect(opt.step()).toBe(true);
    expect(params[0].data[3]).toBeNaN();
  });

});

describe('bad training and SGD/AdaGrad/RMSProp options throw and change nothing', () => {
  const p = () => makeParams([8], 1);

  it.each([
    ['SGD without lr', () => new SGD(p()), TypeError, /SGD: option 'lr' is required/],
    ['SGD lr a string', () => new SGD(p(), { lr: '0.1' as never }), TypeError, /SGD: option 'lr' must be a number or a schedule/],
    ['SGD negative momentum', () => new SGD(p(), { lr: 0.1, momentum: -0.1 }), RangeError, /'momentum' must be >= 0/],
    ['SGD nesterov without momentum', () => new SGD(p(), { lr: 0.1, nesterov: true }), RangeError, /'nesterov' needs momentum > 0/],
    ['SGD nesterov with dampening', () => new SGD(p(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), RangeError, /dampening 0/],
    ['SGD nesterov not a boolean', () => new SGD(p(), { lr: 0.1, nesterov: 1 as never }), TypeError, /'nesterov' must be a boolean/],
    ['SGD dampening NaN', () => new SGD(p(), { lr: 0.1, dampening: NaN }), RangeError, /'dampening' must be finite/],
    ['AdaGrad negative lrDecay', () => new AdaGrad(p(), { lrDecay: -1 }), RangeError, /AdaGrad: option 'lrDecay' must be >= 0/],
    ['AdaGrad negative initialAccumulatorValue', () => new AdaGrad(p(), { initialAccumulatorValue: -1 }), RangeError, /initialAccumulatorValue/],
    ['AdaGrad eps Infinity', () => new AdaGrad(p(), { eps: Infinity }), RangeError, /'eps' must be finite/],
    ['RMSProp rho 1', () => new RMSProp(p(), { rho: 1 }), RangeError, /RMSProp: option 'rho' must be in \[0, 1\)/],
    ['RMSProp centered a string', () => new RMSProp(p(), { centered: 'yes' as never }), TypeError, /'centered' must be a boolean/],
    ['RMSProp PyTorch name alpha', () => new RMSProp(p(), { alpha: 0.9 } as never), TypeError, /unknown option "alpha"/],
    ['gradScale 0', () => new Adam(p(), { gradScale: 0 }), RangeError, /Adam: option 'gradScale' must be > 0/],
    ['gradScale negative', () => new Adam(p(), { gradScale: -2 }), RangeError, /'gradScale' must be >= 0/],
    ['gradScale Infinity', () => new Adam(p(), { gradScale: Infinity }), RangeError, /'gradScale' must be finite/],
    ['skipNonFinite a number', () => new Adam(p(), { skipNonFinite: 1 as never }), TypeError, /'skipNonFinite' must be a boolean/],
    ['gradScale in a group', () => new Adam([{ params: p(), gradScale: 2 } as never]), TypeError, /paramGroups\[0\]: unknown option "gradScale"/],
  ] as const)('%s', (_label, make, type, message) => {
    expect(make).toThrow(type);
    expect(make).toThrow(message);
  });

  it('setters refuse bad values and keep the old ones', () => {
    const opt = new RMSProp(p(), { gradScale: 2, backend: 'js' });
    expect(() => (opt.gradScale = 0)).toThrow(RangeError);
    expect(() => (opt.gradScale = NaN)).toThrow(RangeError);
    expect(() => (opt.skipNonFinite = 'no' as never)).toThrow(TypeError);
    expect(opt.gradScale).toBe(2);
    expect(opt.skipNonFinite).toBe(false);
  });

  it('loadStateDict checks the options and the nesterov rule, changing nothing', () => {
    const params = p();
    const opt = new SGD(params, { lr: 0.1, momentum: 0.9, backend: 'js' });
    fillGrads(params, 1, 1);
    opt.step();
    const sd = opt.stateDict();
    const before = new Float32Array(params[0].data);
    const withOptions = (options: object) => ({ ...sd, groups: [{ ...sd.groups[0], options: { ...sd.groups[0].options, ...options } }] });
    expect(() => opt.loadStateDict(withOptions({ nesterov: true, dampening: 0.5 }))).toThrow(/groups\[0\]\.options 'nesterov' needs/);
    expect(() => opt.loadStateDict(withOptions({ momentum: -1 }))).toThrow(RangeError);
    expect(() => opt.loadStateDict(withOptions({ lr: 'x' }))).toThrow(TypeError);
    const noBuffer = { ...sd, state: { p0: {} } };
    expect(() => opt.loadStateDict(noBuffer)).toThrow(/state\["p0"\]\.momentum_buffer is missing/);
    expect(opt.stateDict()).toEqual(sd);
    expect(firstBitDifference(params[0].data, before)).toBe(-1);
  });
});
