import { describe, expect, it } from 'vitest';
import { clipGradNorm, clipGradValue } from '../lib';
import { selectBackend } from '../lib/backends';
import { fillRandom, NATIVE_ISAS, firstBitDifference, rng } from './helpers';

// Lengths around the norm's block (1024) and lane (16) sizes and the native job size (16 blocks),
// many tensors, some empty: every edge of the fixed order.
const LENGTHS = [0, 1, 15, 16, 17, 1023, 1024, 1025, 16 * 1024 + 5, 70001, 3, 0, 2048, 333];

function grads(seed: number, scale = 1): Float32Array[] {
  const next = rng(seed);
  return LENGTHS.map((n) => fillRandom(new Float32Array(n), next, scale));
}

const copy = (a: Float32Array[]) => a.map((x) => new Float32Array(x));
const f64 = (x: number) => new Uint32Array(new Float64Array([x]).buffer).join(',');

describe('clipGradNorm', () => {
  const reference = grads(1);
  const refNorm = clipGradNorm(copy(reference), 1e30, { backend: "js" }); // 1e30: never clips

  it('the norm is the float64 L2 norm (within float64 rounding of a naive sum)', () => {
    let naive = 0;
    for (const a of reference) for (const x of a) naive += x * x;
    expect(Math.abs(refNorm - Math.sqrt(naive)) / Math.sqrt(naive)).toBeLessThan(1e-13);
    expect(refNorm).toBeGreaterThan(0);
    // The summation order shows in the last bits for this data, so the bitwise tests below can fail.
    expect(f64(Math.sqrt(naive))).not.toBe(f64(refNorm));
  });

  // The sum of squares itself, before the square root can hide its last bit.
  it.each(NATIVE_ISAS.flatMap((isa) => [1, 2, 3, 7].map((threads) => ({ isa, threads }))))(
    'native/$isa with $threads threads sums the squares to the float64 bits of js, for 10 data sets',
    ({ isa, threads }) => {
      const js = selectBackend('test', 'js', 'auto', 1), native = selectBackend('test', 'native', isa, threads);
      for (let seed = 1; seed <= 10; seed++) {
        const g = grads(seed);
        expect(f64(native.grads.sumSquares(g))).toBe(f64(js.grads.sumSquares(g)));
      }
    },
  );

  it.each(NATIVE_ISAS.flatMap((isa) => [1, 2, 3, 7].map((threads) => ({ isa, threads }))))(
    'native/$isa with $threads threads gives the norm bits of js, and the same clipped grads',
    ({ isa, threads }) => {
      const js = copy(reference), native = copy(reference);
      const maxNorm = refNorm / 3;
      const a = clipGradNorm(js, maxNorm, { backend: 'js' });
      const b = clipGradNorm(native, maxNorm, { backend: 'native', isa, threads });
      expect(f64(b)).toBe(f64(a));
      native.forEach((x, i) => expect(firstBitDifference(x, js[i])).toBe(-1));
      expect(firstBitDifference(js[9], reference[9])).not.toBe(-1); // the grads were scaled
    },
  );

  it('scales the grads to maxNorm and leaves them alone below it', () => {
    const g = copy(reference);
    const before = clipGradNorm(g, 1.5);
    expect(before).toBe(refNorm);
    const after = clipGradNorm(g, 1e30);
    expect(after).toBeCloseTo(1.5, 5);
    const untouched = copy(g);
    clipGradNorm(g, after * 2);
    g.forEach((x, i) => expect(firstBitDifference(x, untouched[i])).toBe(-1));
  });

  it('accepts parameters ({ grad }) as well as grad arrays', () => {
    const g = copy(reference);
    expect(clipGradNorm(g.map((grad) => ({ data: new Float32Array(grad.length), grad })), 1e30)).toBe(refNorm);
  });

  it.each((NATIVE_ISAS.length ? ['js', 'native'] : ['js']) as Array<'js' | 'native'>)(
    'returns a NaN or infinite norm with the grads untouched (%s)',
    (backend) => {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const g = copy(reference);
        g[8][12345] = bad;
        const before = copy(g);
        const norm = clipGradNorm(g, 1, { backend });
        expect(Number.isFinite(norm)).toBe(false);
        g.forEach((x, i) => expect(firstBitDifference(x, before[i])).toBe(-1));
      }
    },
  );

  it('huge finite grads do not overflow the float64 sum', () => {
    const huge = () => [new Float32Array(5000).fill(3e38)];
    const exact = Math.fround(3e38) * Math.sqrt(5000);
    const js = clipGradNorm(huge(), 1e30, { backend: 'js' });
    expect(Math.abs(js - exact) / exact).toBeLessThan(1e-15);
    if (NATIVE_ISAS.length) expect(clipGradNorm(huge(), 1e30, { backend: 'native' })).toBe(js);
  });

  it('rejects bad input, changing nothing', () => {
    const g = copy(reference.slice(0, 3));
    const before = copy(g);
    expect(() => clipGradNorm(g, -1)).toThrow(/clipGradNorm: maxNorm must be >= 0/);
    expect(() => clipGradNorm(g, NaN)).toThrow(RangeError);
    expect(() => clipGradNorm(g, '1' as never)).toThrow(TypeError);
    expect(() => clipGradNorm('g' as never, 1)).toThrow(/params must be an array/);
    expect(() => clipGradNorm([g[0], new Float64Array(3)] as never, 1)).toThrow(/params\[1\] must be a Float32Array or an object/);
    expect(() => clipGradNorm([g[0], { grad: [1] }] as never, 1)).toThrow(/params\[1\]\.grad must be a Float32Array/);
    expect(() => clipGradNorm([g[1], g[1]], 0)).toThrow(/shares memory/);
    expect(() => clipGradNorm(g, 0, { threads: 0 })).toThrow(/threads/);
    expect(() => clipGradNorm(g, 0, { foo: 1 } as never)).toThrow(/unknown option "foo"/);
    g.forEach((x, i) => expect(firstBitDifference(x, before[i])).toBe(-1));
  });
});

describe('clipGradValue', () => {
  const reference = grads(2, 10);
  reference[4][7] = NaN;
  reference[4][8] = -0;
  reference[4][9] = Infinity;

  it('clamps into [-limit, limit], keeps NaN', () => {
    const g = copy(reference);
    clipGradValue(g, 0.5, { backend: 'js' });
    for (const x of g) for (const v of x) if (!Number.isNaN(v)) expect(Math.abs(v)).toBeLessThanOrEqual(0.5);
    expect(g[4][7]).toBeNaN();
    expect(Object.is(g[4][8], -0)).toBe(true);
    expect(g[4][9]).toBe(0.5);
    expect(firstBitDifference(g[9], reference[9])).not.toBe(-1);
  });

  it.each(NATIVE_ISAS.flatMap((isa) => [1, 3].map((threads) => ({ isa, threads }))))(
    'native/$isa with $threads threads is bitwise equal to js',
    ({ isa, threads }) => {
      const js = copy(reference), native = copy(reference);
      clipGradValue(js, 0.3, { backend: 'js' });
      clipGradValue(native, 0.3, { backend: 'native', isa, threads });
      native.forEach((x, i) => expect(firstBitDifference(x, js[i])).toBe(-1));
    },
  );

  it('rejects bad input, changing nothing', () => {
    const g = copy(reference.slice(0, 3));
    const before = copy(g);
    expect(() => clipGradValue(g, -0.1)).toThrow(/clipGradValue: limit must be >= 0/);
    expect(() => clipGradValue(g, Infinity)).toThrow(RangeError);
    expect(() => clipGradValue([g[0], 3] as never, 1)).toThrow(TypeError);
    g.forEach((x, i) => expect(firstBitDifference(x, before[i])).toBe(-1));
  });
});

describe('clipGradNorm options normType and errorIfNonfinite', () => {
  it('normType Infinity: the largest |g|, exact, scaled by maxNorm/(norm + 1e-6)', () => {
    const g = [new Float32Array([0.5, -3, 1]), new Float32Array([]), new Float32Array([2, -2.5])];
    const norm = clipGradNorm(g, 1.5, { normType: Infinity });
    expect(norm).toBe(3);
    const coef = Math.fround(1.5 / (3 + 1e-6));
    expect(Array.from(g[0])).toEqual([0.5, -3, 1].map((x) => Math.fround(x * coef)));
    // Not clipped when the max is already small enough.
    const small = [new Float32Array([0.25, -0.5])];
    expect(clipGradNorm(small, 1, { normType: Infinity })).toBe(0.5);
    expect(Array.from(small[0])).toEqual([0.25, -0.5]);
  });

  it.each((NATIVE_ISAS.length ? ['js', 'native'] : ['js']) as Array<'js' | 'native'>)('normType Infinity is the same on every backend (%s)', (backend) => {
    const a = grads(3);
    expect(clipGradNorm(copy(a), 0.1, { normType: Infinity, backend })).toBe(Math.max(...a.flatMap((x) => Array.from(x, Math.abs))));
  });

  it('a non-finite norm: returned with the grads untouched, or with errorIfNonfinite a RangeError that changes nothing', () => {
    for (const normType of [2, Infinity] as const) {
      const g = [new Float32Array([1, NaN, 3])];
      expect(clipGradNorm(g, 1, { normType })).toBeNaN();
      expect(() => clipGradNorm(g, 1, { normType, errorIfNonfinite: true })).toThrow(/norm of the grads is NaN/);
      const inf = [new Float32Array([1, -Infinity])];
      expect(() => clipGradNorm(inf, 1, { normType, errorIfNonfinite: true })).toThrow(RangeError);
      expect(Array.from(inf[0])).toEqual([1, -Infinity]);
    }
  });

  it('bad options are named', () => {
    const g = [new Float32Array([1])];
    expect(() => clipGradNorm(g, 1, { normType: 1 as never })).toThrow(/option 'normType' must be 2 or Infinity, got 1/);
    expect(() => clipGradNorm(g, 1, { normType: 'inf' as never })).toThrow(TypeError);
    expect(() => clipGradNorm(g, 1, { errorIfNonfinite: 1 as never })).toThrow(/errorIfNonfinite/);
  });
});
