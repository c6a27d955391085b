import { describe, expect, it } from 'vitest';
import { Adam, type Param, RMSProp, SGD, inverseSqrt } from '../lib';
import { fillGrads, makeParams } from './cases';
import { NATIVE_LOADED, firstBitDifference } from './helpers';

const BACKENDS = NATIVE_LOADED ? (['js', 'native'] as const) : (['js'] as const);
const LENGTHS = [5, 33, 1000, 17];

function bits(params: Param[]): number[][] {
  return params.map((p) => Array.from(new Uint32Array(p.data.buffer, p.data.byteOffset, p.data.length)));
}

describe.each(BACKENDS)('parameter groups (%s)', (backend) => {
  it('each group steps exactly as an optimizer of its own with its options', () => {
    const together = makeParams(LENGTHS, 5);
    const apart = makeParams(LENGTHS, 5);
    const opt = new Adam([{ params: together.slice(0, 2), lr: 0.03, amsgrad: true }, { params: together.slice(2), weightDecay: 0.1 }], {
      lr: 0.001,
      backend,
    });
    const a = new Adam(apart.slice(0, 2), { lr: 0.03, amsgrad: true, backend });
    const b = new Adam(apart.slice(2), { lr: 0.001, weightDecay: 0.1, backend });
    for (let t = 1; t <= 10; t++) {
      fillGrads(together, 5, t);
      fillGrads(apart, 5, t);
      opt.step();
      a.step();
      b.step();
    }
    expect(bits(together)).toEqual(bits(apart));
    expect(opt.paramGroups.map((g) => g.options.amsgrad)).toEqual([true, false]);
  });

  it('paramGroups[i].lr is writable, opt.lr reads group 0 and writes every group', () => {
    const params = makeParams(LENGTHS, 6);
    const opt = new SGD([{ params: params.slice(0, 1) }, { params: params.slice(1), lr: 0.5 }], { lr: 0.1, backend });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    opt.paramGroups[1].lr = 0.25;
    expect(opt.paramGroups[1].lr).toBe(0.25);
    expect(opt.paramGroups[1].params[0]).toBe(params[1]);
    expect(opt.lr).toBe(0.1);
    opt.lr = 0.2;
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.2, 0.2]);
    // The new lr is what the step uses: p = p - 0.2*g.
    fillGrads(params, 6, 1);
    const before = params[1].data[1], g = params[1].grad[1];
    opt.step();
    expect(params[1].data[1]).toBe(Math.fround(before - Math.fround(Math.fround(0.2) * g)));
  });

  it('a plain parameter array is one group', () => {
    const opt = new RMSProp(makeParams([3], 1), { lr: 0.02, backend });
    expect(opt.paramGroups.length).toBe(1);
    expect(opt.paramGroups[0].options.lr).toBe(0.02);
  });

  it('the state dict carries the groups and restores them bitwise', () => {
    const make = (params: Param[]) =>
      new SGD(
        [
          { params: params.slice(0, 2), momentum: 0.9, nesterov: true },
          { params: params.slice(2), lr: inverseSqrt(0.1), momentum: 0.5 },
        ],
        { lr: 0.05, backend },
      );
    const straight = makeParams(LENGTHS, 9), resumed = makeParams(LENGTHS, 9);
    const a = make(straight), b = make(resumed);
    for (let t = 1; t <= 4; t++) {
      fillGrads(straight, 9, t);
      fillGrads(resumed, 9, t);
      a.step();
      b.step();
    }
    const sd = b.stateDict();
    expect(sd.groups.map((g) => g.params)).toEqual([['p0', 'p1'], ['p2', 'p3']]);
    expect(sd.groups[0].options.momentum).toBe(0.9);
    const c = make(resumed); // a fresh optimizer on the same arrays, as after a restart
    c.paramGroups[0].lr = 7; // overwritten by the load
    c.loadStateDict(sd);
    expect(c.paramGroups[0].lr).toBe(0.05);
    expect(c.stepCount).toBe(4);
    for (let t = 5; t <= 8; t++) {
      fillGrads(straight, 9, t);
      fillGrads(resumed, 9, t);
      a.step();
      c.step();
    }
    resumed.forEach((p, i) => expect(firstBitDifference(p.data, straight[i].data)).toBe(-1));
  });
});

describe('parameter group errors', () => {
  const p = () => makeParams([3, 4, 5], 2);

  it('rejects mixing parameters and groups, unknown or optimizer-wide keys in a group', () => {
    const ps = p();
    expect(() => new Adam([{ params: [ps[0]] }, ps[1]] as never)).toThrow(/mixes parameters and parameter groups/);
    expect(() => new Adam([{ params: [ps[0]], momentum: 0.9 }] as never)).toThrow(TypeError);
    expect(() => new Adam([{ params: [ps[0]], threads: 2 }] as never)).toThrow(/paramGroups\[0\]: unknown option "threads"/);
    expect(() => new Adam([{ params: ps[0] }] as never)).toThrow(/paramGroups\[0\]\.params must be an array/);
  });

  it('rejects a parameter in two groups and names both', () => {
    const ps = p();
    expect(() => new Adam([{ params: [ps[0], ps[1]] }, { params: [{ ...ps[0], name: 'x' }] }])).toThrow(/shares memory/);
    expect(() => new Adam([{ params: [ps[0]] }, { params: [ps[0]] }])).toThrow(/paramGroups\[1\]\.params\[0\] "p0" has the same name as paramGroups\[0\]\.params\[0\]/);
  });

  it('checks every group option and names the group', () => {
    const ps = p();
    expect(() => new Adam([{ params: [ps[0]] }, { params: [ps[1]], beta1: 1 }])).toThrow(/paramGroups\[1\] option 'beta1' must be in \[0, 1\)/);
    expect(() => new SGD([{ params: [ps[0]], lr: 0.1 }, { params: [ps[1]] }])).toThrow(/paramGroups\[1\] option 'lr' is required/);
    expect(() => new SGD([{ params: [ps[0]], nesterov: true }], { lr: 0.1, momentum: 0.9, dampening: 0.1 })).toThrow(RangeError);
    expect(() => new SGD([{ params: [ps[0]] }], { lr: 0.1 })).not.toThrow();
  });

  it('a bad lr write throws and leaves the lr as it was', () => {
    const opt = new Adam([{ params: p() }], { lr: 0.01, backend: 'js' });
    expect(() => (opt.paramGroups[0].lr = -1)).toThrow(/Adam: paramGroups\[0\]\.lr must be >= 0/);
    expect(() => (opt.paramGroups[0].lr = 'big' as never)).toThrow(TypeError);
    expect(() => (opt.lr = NaN)).toThrow(RangeError);
    expect(opt.lr).toBe(0.01);
  });

  it('loadStateDict refuses other groups, changing nothing', () => {
    const ps = p();
    const opt = new Adam([{ params: [ps[0]] }, { params: [ps[1], ps[2]], lr: 0.5 }], { backend: 'js' });
    const sd = opt.stateDict();
    const other = new Adam([{ params: [ps[0], ps[1]] }, { params: [ps[2]] }], { backend: 'js' });
    const before = other.stateDict();
    expect(() => other.loadStateDict(sd)).toThrow(/groups\[0\]\.params names other parameters/);
    expect(() => other.loadStateDict({ ...sd, groups: [sd.groups[0]] })).toThrow(/has 1 parameter groups, this optimizer 2/);
    const badOptions = { ...before, groups: [before.groups[0], { ...before.groups[1], options: { beta2: 2 } }] };
    expect(() => other.loadStateDict(badOptions)).toThrow(/groups\[1\]\.options 'beta2'/);
    expect(other.stateDict()).toEqual(before);
  });
});
