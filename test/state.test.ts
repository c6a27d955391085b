import { describe, expect, it } from 'vitest';
import { AdaMax, Adam } from '../lib';
import { CASES, fillGrads, makeParams } from './cases';
import { NATIVE_ISAS, firstBitDifference } from './helpers';

const LENGTHS = [5, 17, 1000];
const BACKENDS = [{ backend: 'js' }, ...NATIVE_ISAS.map((isa) => ({ backend: 'native', isa }))];

describe.each(CASES)('$label state dict', (c) => {
  it.each(BACKENDS)('%o: save after 10 steps, load into a new optimizer, 10 more: bitwise as never stopped', (b) => {
    const straight = makeParams(LENGTHS, 3);
    const opt = c.make(straight, { ...c.options, ...b });
    for (let t = 1; t <= 20; t++) {
      fillGrads(straight, 3, t);
      opt.step();
    }

    const first = makeParams(LENGTHS, 3);
    const a = c.make(first, { ...c.options, ...b });
    for (let t = 1; t <= 10; t++) {
      fillGrads(first, 3, t);
      a.step();
    }
    const saved = a.stateDict();
    const resumed = makeParams(LENGTHS, 3).map((p, i) => ({ ...p, data: new Float32Array(first[i].data) }));
    const fresh = c.make(resumed, { ...c.options, ...b, lr: 123 }); // the dict's options win
    fresh.loadStateDict(saved);
    expect(fresh.stepCount).toBe(10);
    expect(fresh.paramGroups.map((g) => g.lr)).toEqual(saved.groups.map((g) => g.options.lr));
    for (let t = 11; t <= 20; t++) {
      fillGrads(resumed, 3, t);
      fresh.step();
    }
    resumed.forEach((p, i) => expect(firstBitDifference(p.data, straight[i].data)).toBe(-1));
  });
});

describe('stateDict', () => {
  it('holds PyTorch slot names, copies (not views) of the state, the step and the options', () => {
    const p = { name: 'w', data: new Float32Array(3).fill(1), grad: new Float32Array(3).fill(0.5) };
    const opt = new Adam([p], { amsgrad: true });
    opt.step();
    const sd = opt.stateDict();
    expect(sd.optimizer).toBe('Adam');
    expect(sd.step).toBe(1);
    expect(sd.groups).toEqual([{ params: ['w'], options: expect.anything(), stateDtype: 'fp32', masterWeights: true }]);
    expect(sd.groups[0].options).toMatchObject({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: true, maximize: false });
    expect(Object.keys(sd.state.w).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']);
    expect(sd.state.w.exp_avg[0]).toBeCloseTo(0.05, 7);
    sd.state.w.exp_avg[0] = 99;
    expect(opt.stateDict().state.w.exp_avg[0]).toBeCloseTo(0.05, 7);
    expect(Object.keys(new AdaMax([{ name: 'u', data: new Float32Array(2), grad: new Float32Array(2) }]).stateDict().state.u)).toEqual(['exp_avg', 'exp_inf']);
  });
});

describe('loadStateDict rejects a dict that does not fit, and changes nothing', () => {
  const make = () => {
    const params = [
      { name: 'a', data: new Float32Array(4).fill(1), grad: new Float32Array(4).fill(0.1) },
      { name: 'b', data: new Float32Array(6).fill(1), grad: new Float32Array(6).fill(0.2) },
    ];
    const opt = new Adam(params, { lr: 0.01 });
    opt.step();
    return opt;
  };
  const good = make().stateDict();
  const withOptions = (o: object) => ({ ...good, groups: [{ ...good.groups[0], options: { ...good.groups[0].options, ...o } }] });

  it.each([
    ['another optimizer', { ...good, optimizer: 'AdaMax' }, /not 'Adam'/],
    ['other shapes', { ...good, state: { ...good.state, b: { ...good.state.b, exp_avg: new Float32Array(5) } } }, /state\["b"\].exp_avg has length 5, but params\[1\] "b" has 6/],
    ['a missing parameter', { ...good, state: { a: good.state.a } }, /no entry for params\[1\] "b"/],
    ['an extra parameter', { ...good, state: { ...good.state, c: good.state.a } }, /entry "c" that matches no parameter/],
    ['a missing slot', { ...good, state: { ...good.state, a: { exp_avg: good.state.a.exp_avg } } }, /state\["a"\].exp_avg_sq is missing/],
    ['amsgrad without its slot', withOptions({ amsgrad: true }), /max_exp_avg_sq is missing/],
    ['an options entry (not a state dict key)', { ...good, options: { amsgrad: true } }, /unknown option "options"/],
    ['a bad step', { ...good, step: -1 }, /step must be >= 0/],
    ['a bad option', withOptions({ beta1: 1.5 }), /'beta1' must be in \[0, 1\)/],
    ['an unknown option', withOptions({ momentum: 0.9 }), /unknown option "momentum"/],
    ['a non-Float32Array slot', { ...good, state: { ...good.state, a: { ...good.state.a, exp_avg: [0, 0, 0, 0] } } }, /exp_avg must be a Float32Array/],
    ['not an object', 42, /state dict must be an object/],
  ])('%s', (_label, dict, message) => {
    const opt = make();
    const before = opt.stateDict();
    expect(() => opt.loadStateDict(dict)).toThrow(message);
    expect(opt.stateDict()).toEqual(before);
  });
});
