import { describe, expect, it } from 'vitest';
import { Adam, SGD, constant, exponential, linear, linearWarmup, multiStep, oneCycle, reduceOnPlateau, sequential } from '../lib';
import { fillGrads, makeParams } from './cases';

const at = (s: (t: number) => number, steps: number[]) => steps.map(s);

describe('training schedules (PyTorch semantics, t = 1 for the first step)', () => {
  it('linearWarmup: up over warmupSteps, straight down to minLr at totalSteps, minLr after', () => {
    const s = linearWarmup(1, { warmupSteps: 2, totalSteps: 6 });
    expect(at(s, [1, 2, 3, 4, 5, 6, 7, 100])).toEqual([0.5, 1, 0.75, 0.5, 0.25, 0, 0, 0]);
    expect(at(linear(1, { totalSteps: 4, minLr: 0.2 }), [1, 2, 4, 9])).toEqual([0.8, 0.6, 0.2, 0.2]);
    expect(linearWarmup(1, { totalSteps: 4 }).schedule).toEqual({ name: 'linearWarmup', args: [1, { totalSteps: 4, warmupSteps: 0, minLr: 0 }] });
    expect(() => linearWarmup(1, { totalSteps: 4, warmupSteps: 4 })).toThrow(/'warmupSteps'/);
    expect(() => linearWarmup(1, { totalSteps: 4, minLr: 2 })).toThrow(/'minLr'/);
    expect(() => linearWarmup(1, { totalSteps: 4, warmup: 2 } as never)).toThrow(/warmup/);
  });

  it('multiStep: gamma^(milestones passed), milestone m first applying at step m + 1 (MultiStepLR)', () => {
    const s = multiStep(1, { milestones: [2, 4], gamma: 0.5 });
    expect(at(s, [1, 2, 3, 4, 5, 50])).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25]);
    expect(multiStep(1, { milestones: [1] })(2)).toBe(0.1);
    expect(() => multiStep(1, { milestones: [3, 3] })).toThrow(/strictly increasing/);
    expect(() => multiStep(1, { milestones: [0] })).toThrow(/milestones'\[0\]/);
    expect(() => multiStep(1, { milestones: 3 } as never)).toThrow(TypeError);
  });

  it('oneCycle: OneCycleLR values (cos and linear, two and three phases)', () => {
    // maxLr 1, T 10, pctStart 0.3: initial 0.04, final 4e-6; phase ends at e = 2 and 9.
    const s = oneCycle(1, { totalSteps: 10 });
    expect(s(1)).toBeCloseTo(0.04, 15);
    expect(s(2)).toBeCloseTo(0.52, 15);
    expect(s(3)).toBeCloseTo(1, 15);
    expect(s(10)).toBeCloseTo(4e-6, 18);
    expect(s(11)).toBe(s(10));
    const lin = oneCycle(1, { totalSteps: 10, annealStrategy: 'linear', divFactor: 10, finalDivFactor: 10 });
    // e = 2..9 falls from 1 to 0.01 linearly: e = 5.5 would be halfway; e = 9 is 0.01.
    expect(lin(2)).toBeCloseTo(0.55, 15);
    expect(lin(10)).toBeCloseTo(0.01, 15);
    const three = oneCycle(1, { totalSteps: 10, threePhase: true, annealStrategy: 'linear' });
    // Ends at e = 2 (max), 4 (back to initial), 9 (final).
    expect(three(3)).toBeCloseTo(1, 15);
    expect(three(5)).toBeCloseTo(0.04, 15);
    expect(() => oneCycle(1, { totalSteps: 10, annealStrategy: 'cosine' } as never)).toThrow(/'annealStrategy'/);
    expect(() => oneCycle(1, { totalSteps: 10, pctStart: 1 })).toThrow(/'pctStart'/);
    expect(() => oneCycle(1, { totalSteps: 2, pctStart: 0.1 })).toThrow(/phase without steps/);
  });

  it('sequential: each schedule counted afresh after its milestone (SequentialLR)', () => {
    const s = sequential([constant(0.1), exponential(1, 0.5)], [3]);
    expect(at(s, [1, 2, 3, 4, 5, 6])).toEqual([0.1, 0.1, 0.1, 1, 0.5, 0.25]);
    expect(s.schedule.name).toBe('sequential');
    expect(() => sequential([constant(1), constant(2)], [])).toThrow(/one entry fewer/);
    expect(() => sequential([constant(1), 2 as never], [1])).toThrow(/schedules\[1\]/);
  });

  it('reduceOnPlateau: reduces after patience reports without improvement, then cools down (ReduceLROnPlateau)', () => {
    const s = reduceOnPlateau(1, { factor: 0.5, patience: 1, cooldown: 1, minLr: 0.2 });
    const lrs: number[] = [];
    for (const m of [5, 4, 4, 4, 4, 4, 4, 4]) {
      s.report(m);
      lrs.push(s(1));
    }
    // bad counts: 0,0,1,2 -> reduce (0.5), cooldown eats one report, 1, 2 -> reduce (0.25), cooldown, 1, 2 -> 0.2 (minLr)
    expect(lrs).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]);
    expect(s.state()).toMatchObject({ best: 4, reports: 8 });
    const max = reduceOnPlateau(1, { mode: 'max', patience: 0, threshold: 0.1, thresholdMode: 'abs' });
    max.report(0.5);
    max.report(0.55); // not better by 0.1: reduced at once (patience 0)
    expect(max(1)).toBeCloseTo(0.1, 15);
    expect(() => s.report(NaN)).toThrow(RangeError);
    expect(() => reduceOnPlateau(1, { factor: 1 })).toThrow(/'factor'/);
    expect(() => reduceOnPlateau(1, { mode: 'lowest' } as never)).toThrow(/'mode'/);
  });

  it('a reduceOnPlateau lr steps the optimizer, and its state travels in stateDict() (checked before anything changes)', () => {
    const make = () => {
      const params = makeParams([7, 40], 2);
      const lr = reduceOnPlateau(0.1, { patience: 0 });
      return { params, lr, opt: new SGD(params, { lr }) };
    };
    const a = make();
    fillGrads(a.params, 2, 1);
    a.opt.step();
    a.lr.report(1);
    a.lr.report(2); // worse: lr 0.01
    const sd = a.opt.stateDict();
    expect(sd.groups[0].lrState).toMatchObject({ lr: 0.1 * 0.1, best: 1, reports: 2 });
    const b = make();
    for (const [i, p] of b.params.entries()) p.data.set(a.params[i].data);
    expect(() => b.opt.loadStateDict({ ...sd, groups: [{ ...sd.groups[0], options: { ...sd.groups[0].options, lr: b.lr }, lrState: { lr: -1 } }] })).toThrow(
      /groups\[0\]\.lrState/,
    );
    expect(b.lr.state().reports).toBe(0);
    expect(b.opt.stepCount).toBe(0);
    b.opt.loadStateDict({ ...sd, groups: [{ ...sd.groups[0], options: { ...sd.groups[0].options, lr: b.lr } }] });
    expect(b.lr(1)).toBe(0.1 * 0.1);
    fillGrads(a.params, 2, 2);
    fillGrads(b.params, 2, 2);
    a.opt.step();
    b.opt.step();
    expect(Array.from(b.params[1].data)).toEqual(Array.from(a.params[1].data));
    // A group lr set to a schedule through paramGroups is used from the next step.
    const opt = new Adam(makeParams([3], 1));
    opt.paramGroups[0].lr = multiStep(0.5, { milestones: [1] });
    expect(typeof opt.paramGroups[0].lr).toBe('function');
  });
});

describe('sequential with a reduceOnPlateau inside', () => {
  it('its state is the parts\' states, loaded all or nothing', () => {
    const a = reduceOnPlateau(1, { patience: 0 });
    const b = reduceOnPlateau(2, { patience: 0 });
    const s = sequential([a, b], [5]);
    a.report(1);
    a.report(2);
    expect(s.state!()).toMatchObject({ '0.lr': 0.1, '0.reports': 2, '1.lr': 2, '1.reports': 0 });
    const before = s.state!();
    expect(() => s.loadState!({ ...before, '0.reports': 7, '1.lr': -1 })).toThrow(/lr/);
    expect(s.state!()).toEqual(before);
    s.loadState!({ ...before, '1.reports': 3 });
    expect(b.state().reports).toBe(3);
  });
});
