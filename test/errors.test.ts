import { describe, expect, it } from 'vitest';
import { AdaMax, Adam, AdamW } from '../lib';

const f32 = (n: number, v = 0.5) => new Float32Array(n).fill(v);
const param = (name?: string, n = 4) => ({ ...(name === undefined ? {} : { name }), data: f32(n), grad: f32(n) });

/** Asserts `fn` throws `type` with a message matching every pattern. */
function throwsLike(fn: () => unknown, type: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, ...patterns: RegExp[]) {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, 'expected a throw').toBeInstanceOf(type);
  for (const p of patterns) expect((error as Error).message).toMatch(p);
}

describe('constructor arguments', () => {
  it('rejects data or grad that is not a Float32Array, naming the parameter', () => {
    throwsLike(() => new Adam([{ name: 'w', data: new Float64Array(4) as never, grad: f32(4) }]), TypeError, /params\[0\] "w": data/, /Float32Array/, /Float64Array/);
    throwsLike(() => new Adam([param('a'), { name: 'b', data: f32(4), grad: [1, 2, 3, 4] as never }]), TypeError, /params\[1\] "b": grad/, /Array\(4\)/);
    throwsLike(() => new Adam([{ data: f32(4) } as never]), TypeError, /params\[0\] "0": grad/, /undefined/);
  });

  it('rejects a grad whose length differs from data', () => {
    throwsLike(() => new Adam([param('x'), { name: 'embed.weight', data: f32(12), grad: f32(10) }]), RangeError, /params\[1\] "embed.weight": grad has length 10, data has 12/);
  });

  it('rejects the same array used twice, or overlapping views', () => {
    const a = f32(8);
    throwsLike(() => new Adam([{ data: a, grad: a }]), Error, /shares memory/, /params\[0\]/);
    throwsLike(() => new Adam([{ name: 'p', data: a, grad: f32(8) }, { name: 'q', data: a, grad: f32(8) }]), Error, /"q" data shares memory with params\[0\] "p" data/);
    const buf = f32(20);
    throwsLike(() => new Adam([{ data: buf.subarray(0, 10), grad: buf.subarray(9, 19) }]), Error, /shares memory/);
    expect(() => new Adam([{ data: buf.subarray(0, 10), grad: buf.subarray(10, 20) }])).not.toThrow(); // adjacent is fine
  });

  it('rejects duplicate names, including a name equal to another index default', () => {
    throwsLike(() => new Adam([param('w'), param('w')]), Error, /params\[1\] "w" has the same name as params\[0\]/);
    throwsLike(() => new Adam([param(), param('0')]), Error, /params\[1\] "0"/);
    throwsLike(() => new Adam([{ name: 3 as never, data: f32(1), grad: f32(1) }]), TypeError, /name must be a string/);
  });

  it('rejects empty or non-array params', () => {
    throwsLike(() => new Adam([]), RangeError, /params is empty/);
    throwsLike(() => new Adam(f32(3) as never), TypeError, /params must be an array/);
  });

  it.each([
    [{ lr: NaN }, RangeError, /'lr' must be finite, got NaN/],
    [{ lr: -1e-3 }, RangeError, /'lr' must be >= 0/],
    [{ lr: '0.1' }, TypeError, /'lr' must be a number/],
    [{ beta1: 1 }, RangeError, /'beta1' must be in \[0, 1\), got 1/],
    [{ beta2: -0.1 }, RangeError, /'beta2' must be >= 0/],
    [{ beta2: Infinity }, RangeError, /'beta2' must be finite/],
    [{ eps: -1e-8 }, RangeError, /'eps' must be >= 0/],
    [{ weightDecay: -1 }, RangeError, /'weightDecay' must be >= 0/],
    [{ amsgrad: 1 }, TypeError, /'amsgrad' must be a boolean/],
    [{ lrate: 0.1 }, TypeError, /unknown option "lrate"/],
    [{ backend: 'gpu' }, RangeError, /'backend' must be one of 'auto', 'native', 'js'/],
    [{ isa: 'altivec' }, RangeError, /'isa' must be one of/],
    [{ threads: 0 }, RangeError, /'threads' must be >= 1/],
    [{ threads: 1.5 }, RangeError, /'threads' must be an integer/],
    [{ backend: 'js', isa: 'avx2' }, RangeError, /applies to the native backend/],
  ] as const)('rejects option %o', (options, type, pattern) => {
    throwsLike(() => new Adam([param()], options as never), type, pattern, /^Adam/);
  });

  it('AdaMax has no amsgrad, and names itself in errors', () => {
    throwsLike(() => new AdaMax([param()], { amsgrad: true } as never), TypeError, /^AdaMax: unknown option "amsgrad"/);
    throwsLike(() => new AdamW([param()], { beta1: 2 }), RangeError, /^AdamW: option 'beta1'/);
  });
});

describe('a throwing call changes nothing', () => {
  it('setting a bad lr keeps the old one', () => {
    const opt = new Adam([param()], { lr: 0.01 });
    expect(() => (opt.lr = -1)).toThrow(RangeError);
    expect(() => (opt.lr = NaN)).toThrow(/lr must be finite/);
    expect(opt.lr).toBe(0.01);
    opt.lr = 0.5;
    expect(opt.lr).toBe(0.5);
  });

  it.each(['js', 'native'] as const)('%s: a step with a detached grad throws and updates no parameter', (backend) => {
    const a = param('a', 33), b = param('b', 33);
    const opt = new Adam([a, b], { backend });
    opt.step();
    const before = [new Float32Array(a.data), opt.stateDict()];
    structuredClone(b.grad.buffer, { transfer: [b.grad.buffer] }); // detaches b.grad
    expect(() => opt.step()).toThrow(/params\[1\] "b": grad was detached/);
    expect(a.data).toEqual(before[0]);
    expect(opt.stepCount).toBe(1);
    expect(opt.stateDict()).toEqual(before[1]);
  });
});
