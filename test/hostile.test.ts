// Input a hostile or careless caller can give: spoofed arrays, re-entrant schedules, dicts that
// lie about their lengths, values that overflow float32. Each throws a clear error (naming the
// argument) and changes nothing, or is handled exactly.
import { describe, expect, it } from 'vitest';
import { Adam, AdamW, SGD, inverseSqrt } from '../lib';
import { checkNoOverlap } from '../lib/validate';
import { NATIVE_LOADED, firstBitDifference } from './helpers';

const BACKENDS = NATIVE_LOADED ? (['js', 'native'] as const) : (['js'] as const);
const f32 = (n: number, v = 0.5) => new Float32Array(n).fill(v);
const transfer = (a: Float32Array) => structuredClone(a.buffer, { transfer: [a.buffer] });

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('arrays that are not what they claim', () => {
  it('a Proxy of a Float32Array, or an object made from its prototype, is a TypeError naming the argument', () => {
    const proxy = new Proxy(f32(4), {});
    const fake = Object.create(Float32Array.prototype) as Float32Array;
    for (const bad of [proxy, fake]) {
      const e = thrown(() => new Adam([{ name: 'w', data: bad, grad: f32(4) }]));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toMatch(/params\[0\] "w": data is not a real Float32Array/);
    }
  });

  it('an own `buffer` property cannot hide a resizable buffer', () => {
    const rab = new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(16, { maxByteLength: 64 });
    const data = new Float32Array(rab, 0, 4);
    Object.defineProperty(data, 'buffer', { value: new ArrayBuffer(16) });
    const e = thrown(() => new Adam([{ data, grad: f32(4) }]));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/params\[0\] "0": data is backed by a resizable buffer/);
  });

  it('own buffer/byteOffset/length properties cannot hide shared memory', () => {
    const a = f32(8);
    const b = a.subarray(4);
    Object.defineProperty(b, 'buffer', { value: new ArrayBuffer(32) });
    Object.defineProperty(b, 'byteOffset', { value: 0 });
    Object.defineProperty(b, 'length', { value: 1 });
    Object.defineProperty(b, 'byteLength', { value: 4 });
    expect(() => new SGD([{ data: a.subarray(0, 6), grad: f32(6) }, { data: b.subarray(0, 2), grad: f32(2) }], { lr: 1 })).toThrow(/shares memory/);
    // b itself: its spoofed properties are refused before the overlap check could be misled
    expect(() => new SGD([{ data: a.subarray(0, 6), grad: f32(6) }, { data: b, grad: f32(4) }], { lr: 1 })).toThrow(/differs from its memory/);
    // and the overlap check itself reads the intrinsics
    expect(() => checkNoOverlap([{ where: 'x', array: a.subarray(0, 6) }, { where: 'y', array: b }])).toThrow(/y shares memory with x/);
  });

  it('an own `length` on data is refused: every reader must see the same elements', () => {
    const data = f32(4);
    Object.defineProperty(data, 'length', { value: 3 });
    const e = thrown(() => new SGD([{ data, grad: f32(3) }], { lr: 1 }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/params\[0\] "0": data has a length, buffer or byteOffset property that differs from its memory/);
  });

  it('holes in params arrays are named', () => {
    // eslint-disable-next-line no-sparse-arrays
    const e = thrown(() => new Adam([, { data: f32(2), grad: f32(2) }] as never));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/params\[0\] is a hole/);
    // eslint-disable-next-line no-sparse-arrays
    const g = thrown(() => new Adam([{ params: [{ data: f32(2), grad: f32(2) }, ,] as never }]));
    expect(g.message).toMatch(/paramGroups\[0\]\.params\[1\] is a hole/);
  });
});

describe('detached arrays', () => {
  it('before construction: reported as detached, naming data or grad', () => {
    const grad = f32(1024);
    transfer(grad);
    const e = thrown(() => new Adam([{ name: 'w', data: f32(1024), grad }]));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/params\[0\] "w": grad is detached/);
  });

  it.each(BACKENDS)('after construction: step and zeroGrad name the detached array (%s)', (backend) => {
    const p = { name: 'w', data: f32(8), grad: f32(8) };
    const opt = new Adam([p], { backend });
    transfer(p.grad);
    expect(() => opt.step()).toThrow(/params\[0\] "w": grad was detached/);
    expect(() => opt.zeroGrad()).toThrow(/Adam\.zeroGrad: params\[0\] "w": grad was detached/);
    expect(opt.stepCount).toBe(0);
  });

  it.each(BACKENDS)('a schedule that detaches a grad mid-step: an error, no NaN written (%s)', (backend) => {
    const p = { name: 'w', data: f32(8), grad: f32(8, 0.1) };
    const opt = new SGD([p], { backend, lr: () => (transfer(p.grad), 0.1) });
    expect(() => opt.step()).toThrow(/grad was detached/);
    expect([...p.data]).toEqual(new Array(8).fill(0.5));
    expect(opt.stepCount).toBe(0);
  });

  // A step re-checks one array per buffer: every buffer must be among them, views of one buffer
  // all fail together, and the message names the first parameter the detach hit.
  it.each(BACKENDS)('after steps: a detached buffer among many is found, naming its first parameter (%s)', (backend) => {
    const shared = { data: f32(40), grad: f32(40, 0.1) };
    const views = Array.from({ length: 4 }, (_, i) => ({ name: `v${i}`, data: shared.data.subarray(10 * i, 10 * i + 10), grad: shared.grad.subarray(10 * i, 10 * i + 10) }));
    const separate = Array.from({ length: 3 }, (_, i) => ({ name: `s${i}`, data: f32(8), grad: f32(8, 0.1) }));
    const opt = new Adam([...separate, ...views], { backend });
    opt.step();
    transfer(separate[2].grad);
    expect(() => opt.step()).toThrow(/params\[2\] "s2": grad was detached/);
    const again = new Adam([...separate.slice(0, 2), ...views], { backend });
    again.step();
    transfer(shared.data);
    expect(() => again.step()).toThrow(/params\[2\] "v0": data was detached/);
    expect(again.stepCount).toBe(1);
  });

  it.each(BACKENDS)('an empty view first on a buffer does not hide its detachment (%s)', (backend) => {
    const buffer = f32(10);
    const empty = { name: 'empty', data: buffer.subarray(0, 0), grad: f32(0) };
    const w = { name: 'w', data: buffer.subarray(0, 10), grad: f32(10, 0.1) };
    const opt = new Adam([empty, w], { backend });
    opt.step();
    transfer(buffer);
    expect(() => opt.step()).toThrow(/params\[1\] "w": data was detached/);
    expect(opt.stepCount).toBe(1);
  });

  // From the second step on, a native plan checks the arrays itself (the optimizer skips its own
  // check): a detach by the schedule of a later step must still be refused, named, changing nothing.
  it.each(BACKENDS)('a schedule that detaches a grad at a later step: named, nothing written (%s)', (backend) => {
    const p = { name: 'w', data: f32(8), grad: f32(8, 0.1) };
    const moments = { name: 'm', data: f32(8), grad: f32(8, 0.1) };
    let detach = false;
    const opt = new Adam([moments, p], { backend, lr: () => (detach && transfer(p.grad), 0.1) });
    opt.step();
    const before = { p: [...p.data], m: [...moments.data], state: opt.stateDict() };
    detach = true;
    expect(() => opt.step()).toThrow(/Adam\.step: params\[1\] "w": grad was detached/);
    expect([...p.data]).toEqual(before.p);
    expect([...moments.data]).toEqual(before.m);
    expect(opt.stateDict()).toEqual(before.state);
    expect(opt.stepCount).toBe(1);
  });
});

describe('re-entrant calls from a schedule', () => {
  it.each(['step', 'zeroGrad', 'loadStateDict'] as const)('%s inside a schedule throws and stepCount stays in sync', (what) => {
    const p = { name: 'w', data: f32(4), grad: f32(4, 0.1) };
    let inner: unknown = null;
    const opt: SGD = new SGD([p], {
      backend: 'js',
      lr: () => {
        try {
          if (what === 'loadStateDict') opt.loadStateDict(opt.stateDict());
          else opt[what]();
        } catch (e) {
          inner = e;
        }
        return 0.1;
      },
    });
    expect(opt.step()).toBe(true);
    expect(inner).toBeInstanceOf(Error);
    expect((inner as Error).message).toMatch(/from a schedule function during a step/);
    expect(opt.stepCount).toBe(1);
    expect(p.data[0]).toBe(Math.fround(0.5 - Math.fround(Math.fround(0.1) * Math.fround(0.1))));
  });
});

describe('state dicts', () => {
  it('a parameter named "__proto__" keeps its state, and the dict round-trips', () => {
    const params = [{ name: '__proto__', data: f32(4), grad: f32(4, 0.1) }, { name: 'b', data: f32(4), grad: f32(4, 0.2) }];
    const opt = new Adam(params, { backend: 'js' });
    opt.step();
    const sd = opt.stateDict();
    expect(Object.keys(sd.state)).toEqual(['__proto__', 'b']);
    expect(Object.getPrototypeOf(sd.state)).toBe(Object.prototype);
    const other = new Adam([{ name: '__proto__', data: f32(4), grad: f32(4) }, { name: 'b', data: f32(4), grad: f32(4) }], { backend: 'js' });
    other.loadStateDict(sd);
    expect(other.stateDict()).toEqual(sd);
  });

  it('an overridden length getter is not trusted, and a bad entry anywhere changes nothing', () => {
    const params = [{ name: 'a', data: f32(4), grad: f32(4, 0.1) }, { name: 'b', data: f32(4), grad: f32(4, 0.2) }];
    const opt = new Adam(params, { backend: 'js' });
    opt.step();
    const sd = opt.stateDict();
    const before = opt.stateDict();
    const short = new Float32Array(2);
    Object.defineProperty(short, 'length', { get: () => 4 });
    const lying = { ...sd, step: 7, state: { a: { ...sd.state.a, exp_avg: f32(4, 9) }, b: { ...sd.state.b, exp_avg: short } } };
    expect(() => opt.loadStateDict(lying)).toThrow(/state\["b"\]\.exp_avg has a length, buffer or byteOffset property that differs from its memory/);
    expect(opt.stateDict()).toEqual(before);
    expect(opt.stepCount).toBe(1);
  });

  it('step counts past 2^53 - 2 are refused', () => {
    const opt = new Adam([{ data: f32(2), grad: f32(2) }], { backend: 'js' });
    const sd = opt.stateDict();
    expect(() => opt.loadStateDict({ ...sd, step: 2 ** 53 })).toThrow(RangeError);
    expect(() => opt.loadStateDict({ ...sd, step: 2 ** 53 - 1 })).toThrow(/step must be <=/);
    expect(() => opt.loadStateDict({ ...sd, step: 2 ** 53 - 2 })).not.toThrow();
  });

  it('a mismatched groups[0].params lists both sets of names', () => {
    const opt = new Adam([{ name: 'w', data: f32(2), grad: f32(2) }], { backend: 'js' });
    const sd = opt.stateDict();
    expect(() => opt.loadStateDict({ ...sd, groups: [{ ...sd.groups[0], params: ['v'] }] })).toThrow(
      /groups\[0\]\.params names other parameters \(\["v"\]\) than this group's \(\["w"\]\)/,
    );
  });

  it('the pre-groups `options` entry is not accepted', () => {
    const opt = new Adam([{ data: f32(2), grad: f32(2) }], { backend: 'js' });
    const { groups: _g, ...sd } = opt.stateDict();
    expect(() => opt.loadStateDict({ ...sd, options: { lr: 0.1 } } as never)).toThrow(/unknown option "options"/);
  });
});

describe('numbers finite in float64 but not in float32', () => {
  const p = () => [{ data: f32(2), grad: f32(2) }];
  it.each([
    ['gradScale 1e-46 (0 in float32)', () => new Adam(p(), { gradScale: 1e-46 }), /'gradScale' must be > 0 in float32/],
    ['gradScale 1e39', () => new Adam(p(), { gradScale: 1e39 }), /'gradScale' must be finite in float32/],
    ['lr 1e39', () => new Adam(p(), { lr: 1e39 }), /option 'lr' must be finite in float32/],
    ['eps 1e39', () => new Adam(p(), { eps: 1e39 }), /option 'eps' must be finite in float32/],
    ['weightDecay in a group', () => new AdamW([{ params: p(), weightDecay: 4e38 }]), /paramGroups\[0\] option 'weightDecay' must be finite in float32/],
    ['inverseSqrt lr', () => inverseSqrt(1e39), /inverseSqrt: lr must be finite in float32/],
  ] as const)('%s', (_label, make, message) => {
    expect(make).toThrow(RangeError);
    expect(make).toThrow(message);
  });

  it('the gradScale setter and a schedule value are checked the same way', () => {
    const opt = new Adam(p(), { backend: 'js', lr: () => 1e39 });
    expect(() => (opt.gradScale = 1e-46)).toThrow(RangeError);
    expect(opt.gradScale).toBe(1);
    expect(() => opt.step()).toThrow(/the schedule returned 1e\+39 at step 1; an lr must be >= 0 and finite in float32/);
  });
});

describe('other argument errors', () => {
  it('inverseSqrt(lr, null) is a TypeError naming the options', () => {
    expect(() => inverseSqrt(0.1, null as never)).toThrow(TypeError);
    expect(() => inverseSqrt(0.1, null as never)).toThrow(/inverseSqrt: options must be an object, got null/);
  });

  it.each([['backend'], ['isa']])('%s: null is a TypeError, not auto', (key) => {
    expect(() => new Adam([{ data: f32(2), grad: f32(2) }], { [key]: null } as never)).toThrow(TypeError);
    expect(() => new Adam([{ data: f32(2), grad: f32(2) }], { [key]: null } as never)).toThrow(new RegExp(`option '${key}' must be one of`));
  });
});

describe.each(BACKENDS)('skipNonFinite when the update itself overflows (%s)', (backend) => {
  it('finite grads whose update overflows: false, nothing changed', async () => {
    const params = [{ name: 'a', data: f32(40, 1), grad: f32(40, 1) }, { name: 'b', data: f32(1025, 3e38), grad: f32(1025, -2e38) }];
    const opt = new SGD(params, { lr: 1, momentum: 0.5, skipNonFinite: true, backend });
    const data = params.map((x) => new Float32Array(x.data));
    expect(opt.step()).toBe(false);
    expect(await opt.stepAsync()).toBe(false);
    params.forEach((x, i) => expect(firstBitDifference(x.data, data[i])).toBe(-1));
    expect(opt.stepCount).toBe(0);
    params[1].grad.fill(1);
    expect(opt.step()).toBe(true);
    expect(opt.stepCount).toBe(1);
  });

  it('Adam: g*g overflowing v is caught; without skipNonFinite the step goes through', () => {
    const make = (skipNonFinite: boolean) => {
      const p = { data: f32(5, 1), grad: f32(5, 1e20) };
      return { p, opt: new Adam([p], { skipNonFinite, backend }) };
    };
    const a = make(true);
    expect(a.opt.step()).toBe(false);
    expect([...a.p.data]).toEqual([1, 1, 1, 1, 1]);
    const b = make(false);
    expect(b.opt.step()).toBe(true);
    expect(b.opt.stateDict().state['0'].exp_avg_sq[0]).toBe(Infinity);
  });
});
