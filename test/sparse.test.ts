import { describe, expect, it } from 'vitest';
import { AdaGrad, SGD, SparseAdam, clipGradNorm, coalesce } from '../lib';
import { loadNative } from '../lib/backends/load';
import { coalescePlan } from '../lib/sparse';
import { NATIVE_ISAS, firstBitDifference, rng } from './helpers';
import { batch, denseGrad, makeTable, runSparse } from './sparse-cases';

type Options = Record<string, unknown>;

const SHAPES = [
  { rows: 300, rowSize: 13, touched: 120 }, // rows shorter than a vector's tail rules
  { rows: 50, rowSize: 1, touched: 70 },
  { rows: 20000, rowSize: 64, touched: 3000 }, // several jobs of rows (1,024 rows of 64 each) on the pool
  { rows: 6, rowSize: 5000, touched: 8 }, // rows longer than a job's stack scratch
  { rows: 2000, rowSize: 64, touched: 3000 }, // most rows repeated: a job's scratch for their sums fills before its block of rows does
];

const CASES: Array<[string, Parameters<typeof runSparse>[0], Options]> = [
  ['SparseAdam', SparseAdam as never, { lr: 0.01 }],
  ['SparseAdam maximize gradScale', SparseAdam as never, { lr: 0.003, beta1: 0.8, beta2: 0.99, eps: 1e-4, maximize: true, gradScale: 4 }],
  ['AdaGrad', AdaGrad as never, { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1 }],
  ['AdaGrad maximize gradScale', AdaGrad as never, { maximize: true, gradScale: 3, eps: 1e-6 }],
  ['SGD', SGD as never, { lr: 0.05 }],
  ['SGD maximize gradScale', SGD as never, { lr: 0.05, maximize: true, gradScale: 2 }],
];

// The exactness contract for sparse parameters: every ISA and thread count gives the bits of the
// TypeScript reference, params and state, with duplicates and unsorted indices.
describe.each(CASES)('%s', (_label, Make, options) => {
  describe.each(SHAPES)('rows $rows x $rowSize, $touched touched', (shape) => {
    const reference = runSparse(Make, { ...options, backend: 'js' }, shape, 4);
    it('moves the touched rows and only them', () => {
      const start = makeTable(shape.rows, shape.rowSize, 3);
      expect(firstBitDifference(reference.p.data, start.data)).not.toBe(-1);
    });
    it.each(NATIVE_ISAS.flatMap((isa) => [1, 3].map((threads) => [isa, threads] as const)))('native/%s, %i threads: bitwise equal to js', (isa, threads) => {
      const native = runSparse(Make, { ...options, backend: 'native', isa, threads }, shape, 4);
      expect(native.opt.backend).toBe(`native/${isa}`);
      expect(firstBitDifference(native.p.data, reference.p.data)).toBe(-1);
      for (const [slot, array] of Object.entries(native.state)) expect({ slot, at: firstBitDifference(array, reference.state[slot]) }).toEqual({ slot, at: -1 });
    });
  });
});

const BACKENDS: Options[] = [{ backend: 'js' }, ...NATIVE_ISAS.map((isa) => ({ backend: 'native', isa }))];

describe('known answers', () => {
  const rows = 200, rowSize = 9, touched = 90;
  // Untouched rows get a zero grad in the dense form: AdaGrad and SGD leave them as they are.
  it.each(BACKENDS.flatMap((b) => [
    ['AdaGrad', String(b.isa ?? b.backend), AdaGrad, { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1, gradScale: 2 }, b],
    ['SGD', String(b.isa ?? b.backend), SGD, { lr: 0.05 }, b],
  ] as const))('sparse %s equals its dense form with zero rows, bitwise (%s)', (_n, _b, Make, options, backend) => {
    const sparse = makeTable(rows, rowSize, 5);
    const dense = { name: 'emb', data: new Float32Array(sparse.data), grad: new Float32Array(rows * rowSize) };
    const a = new (Make as typeof AdaGrad)([sparse], { ...options, ...backend } as never);
    const b = new (Make as typeof AdaGrad)([dense], { ...options, ...backend } as never);
    for (let t = 1; t <= 5; t++) {
      Object.assign(sparse, batch(rows, rowSize, touched, 5, t));
      dense.grad.set(denseGrad(rows, rowSize, sparse.indices, sparse.grad));
      a.step();
      b.step();
    }
    expect(firstBitDifference(sparse.data, dense.data)).toBe(-1);
    const sa = a.stateDict().state.emb, sb = b.stateDict().state.emb;
    expect(Object.keys(sa)).toEqual(Object.keys(sb));
    for (const slot of Object.keys(sa)) expect(firstBitDifference(sa[slot], sb[slot])).toBe(-1);
  });

  it.each(BACKENDS)('SparseAdam, every row touched once per step, equals a float64 reference of its formula (%j)', (backend) => {
    const n = 64, rowSize = 8, steps = 20;
    const o = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const p = makeTable(n, rowSize, 11);
    const p64 = Float64Array.from(p.data), m64 = new Float64Array(n * rowSize), v64 = new Float64Array(n * rowSize);
    const opt = new SparseAdam([p], { ...o, ...backend } as never);
    for (let t = 1; t <= steps; t++) {
      const { grad } = batch(n, rowSize, n, 11, t);
      const order = Int32Array.from({ length: n }, (_, k) => (k * 37 + t) % n); // a permutation: each row once
      p.indices = order;
      p.grad = grad;
      opt.step();
      const stepSize = (o.lr * Math.sqrt(1 - o.beta2 ** t)) / (1 - o.beta1 ** t);
      for (let k = 0; k < n; k++)
        for (let j = 0; j < rowSize; j++) {
          const i = order[k] * rowSize + j, g = grad[k * rowSize + j];
          m64[i] += (g - m64[i]) * (1 - o.beta1);
          v64[i] += (g * g - v64[i]) * (1 - o.beta2);
          p64[i] -= stepSize * (m64[i] / (Math.sqrt(v64[i]) + o.eps));
        }
    }
    let worst = 0;
    for (let i = 0; i < p64.length; i++) worst = Math.max(worst, Math.abs(p.data[i] - p64[i]) / Math.max(1e-3, Math.abs(p64[i])));
    expect(worst).toBeLessThan(1e-5);
    expect(worst).toBeGreaterThan(0); // float32 did round: the comparison is not vacuous
  });
});

describe('coalesce', () => {
  it('sorts rows ascending and adds duplicates in their order of appearance, in float32', () => {
    const indices = Int32Array.from([7, 2, 7, 7, 2]);
    const grad = Float32Array.from([1e8, 1, 1, -1e8, 2]);
    const { rows, grad: out } = coalesce(indices, grad, 1);
    expect(Array.from(rows)).toEqual([2, 7]);
    // (1e8 + 1) + -1e8 in float32 is 0 (1e8 + 1 rounds to 1e8); another order would give 1.
    expect(Array.from(out)).toEqual([3, 0]);
  });

  it('keeps strictly ascending indices as they are, and handles no rows', () => {
    const indices = Int32Array.from([1, 4, 9]), grad = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const c = coalesce(indices, grad, 2);
    expect(Array.from(c.rows)).toEqual([1, 4, 9]);
    expect(firstBitDifference(c.grad, grad)).toBe(-1);
    expect(coalesce(new Int32Array(0), new Float32Array(0), 3).rows.length).toBe(0);
  });

  it('gives ascending rows and the same bits for many rows, large row numbers included', () => {
    const { indices, grad } = batch(1000, 2, 5000, 9, 1);
    indices[7] = 2 ** 31 - 1; // three radix passes
    const a = coalesce(indices, grad, 2), b = coalesce(indices.slice(), grad.slice(), 2);
    expect(firstBitDifference(a.grad, b.grad)).toBe(-1);
    for (let k = 1; k < a.rows.length; k++) expect(a.rows[k]).toBeGreaterThan(a.rows[k - 1]);
  });
});

describe.skipIf(NATIVE_ISAS.length === 0)('the addon plans the coalescing as coalescePlan', () => {
  const b = loadNative().binding!;
  const plan = (indices: Int32Array, rowCount: number, spare = 0) => {
    const n = indices.length;
    const rows = new Int32Array(n + spare), order = new Uint32Array(n + spare), starts = new Uint32Array(n + 1 + spare);
    const u = b.coalesceRows(indices, rowCount, rows, order, starts);
    return u < 0 ? u : { rows: Array.from(rows.subarray(0, u)), order: Array.from(order.subarray(0, n)), starts: Array.from(starts.subarray(0, u + 1)) };
  };
  const reference = (indices: Int32Array) => {
    const p = coalescePlan(indices);
    return { rows: Array.from(p.rows), order: Array.from(p.order), starts: Array.from(p.starts) };
  };

  it('on random indices: any order, duplicates, ascending, one row, large row numbers, longer buffers', () => {
    const next = rng(11);
    const tables = [1, 2, 300, 1 << 16, 1 << 20, 2 ** 31 - 1];
    for (let c = 0; c < 400; c++) {
      const rowCount = tables[c % tables.length];
      const n = c < 6 ? c : Math.floor(next() * (c % 5 === 0 ? 20000 : 300));
      const indices = new Int32Array(n);
      for (let k = 0; k < n; k++) indices[k] = k > 0 && next() < 0.3 ? indices[Math.floor(next() * k)] : Math.floor(next() * rowCount);
      if (c % 7 === 3) indices.sort();
      if (c % 11 === 4 && n > 0) indices[n - 1] = rowCount - 1; // the top byte in use
      expect({ c, plan: plan(indices, rowCount, c % 3) }).toEqual({ c, plan: reference(indices) });
    }
  });

  it('returns -1 - k for the first index out of range, and refuses short or shared buffers', () => {
    expect(plan(Int32Array.from([3, 9, -1, 10]), 10)).toBe(-3);
    expect(plan(Int32Array.from([3, -1, 10]), 10)).toBe(-2);
    expect(plan(Int32Array.from([0, 4]), 4)).toBe(-2);
    const indices = Int32Array.from([2, 1]);
    expect(() => b.coalesceRows(indices, 4, new Int32Array(1), new Uint32Array(2), new Uint32Array(3))).toThrow(/need indices.length places/);
    expect(() => b.coalesceRows(indices, 4, new Int32Array(2), new Uint32Array(2), new Uint32Array(2))).toThrow(/starts one more/);
    const memory = new ArrayBuffer(64);
    expect(() => b.coalesceRows(indices, 4, new Int32Array(memory, 0, 2), new Uint32Array(memory, 4, 2), new Uint32Array(3))).toThrow(/share memory/);
    expect(() => b.coalesceRows(indices, 4, new Int32Array(2), new Uint32Array(2), new Uint32Array(indices.buffer))).toThrow(/share memory|starts one more/);
    expect(() => b.coalesceRows(new Float32Array(2) as never, 4, new Int32Array(2), new Uint32Array(2), new Uint32Array(3))).toThrow(TypeError);
  });
});

describe('the optimizer with sparse parameters', () => {
  const rows = 100, rowSize = 4;

  it('a step with zero indices changes nothing but counts', () => {
    const p = makeTable(rows, rowSize, 1);
    const before = new Float32Array(p.data);
    const opt = new SparseAdam([p]);
    expect(opt.step()).toBe(true);
    expect(opt.stepCount).toBe(1);
    expect(firstBitDifference(p.data, before)).toBe(-1);
  });

  it('reads indices and grad at every step, new arrays or reused ones alike', () => {
    const a = makeTable(rows, rowSize, 1), b = makeTable(rows, rowSize, 1);
    const oa = new SparseAdam([a], { backend: 'js' }), ob = new SparseAdam([b], { backend: 'js' });
    const idx = new Int32Array(10), g = new Float32Array(40);
    for (let t = 1; t <= 3; t++) {
      const x = batch(rows, rowSize, 10, 2, t);
      Object.assign(a, x);
      idx.set(x.indices);
      g.set(x.grad);
      b.indices = idx;
      b.grad = g;
      oa.step();
      ob.step();
    }
    expect(firstBitDifference(a.data, b.data)).toBe(-1);
  });

  it('sparse and dense parameters share one AdaGrad optimizer, each as if alone', () => {
    const s1 = makeTable(rows, rowSize, 1), s2 = makeTable(rows, rowSize, 1);
    const d1 = { name: 'w', data: Float32Array.from({ length: 33 }, (_, i) => i / 7 - 2), grad: new Float32Array(33) };
    const d2 = { name: 'w', data: new Float32Array(d1.data), grad: new Float32Array(33) };
    const mixed = new AdaGrad([s1, d1], { lr: 0.1 });
    const alone = [new AdaGrad([s2], { lr: 0.1 }), new AdaGrad([d2], { lr: 0.1 })];
    for (let t = 1; t <= 3; t++) {
      const x = batch(rows, rowSize, 20, 4, t);
      Object.assign(s1, x);
      Object.assign(s2, x);
      d1.grad.fill(t / 3);
      d2.grad.fill(t / 3);
      mixed.step();
      alone.forEach((o) => o.step());
    }
    expect(firstBitDifference(s1.data, s2.data)).toBe(-1);
    expect(firstBitDifference(d1.data, d2.data)).toBe(-1);
  });

  it('groups, schedules and stepAsync: each group with its own lr, as a plain step', async () => {
    const make = () => [makeTable(rows, rowSize, 1, 'a'), makeTable(rows, rowSize, 2, 'b')];
    const [a1, b1] = make(), [a2, b2] = make();
    const o1 = new SparseAdam([{ params: [a1], lr: (t: number) => 0.01 / Math.sqrt(t) }, { params: [b1], lr: 0.02 }], { backend: 'js' });
    const o2 = new SparseAdam([{ params: [a2], lr: (t: number) => 0.01 / Math.sqrt(t) }, { params: [b2], lr: 0.02 }]);
    for (let t = 1; t <= 4; t++) {
      for (const p of [a1, a2]) Object.assign(p, batch(rows, rowSize, 15, 6, t));
      for (const p of [b1, b2]) Object.assign(p, batch(rows, rowSize, 15, 7, t));
      o1.step();
      await o2.stepAsync();
    }
    expect(firstBitDifference(a1.data, a2.data)).toBe(-1);
    expect(firstBitDifference(b1.data, b2.data)).toBe(-1);
    expect(firstBitDifference(a1.data, b1.data)).not.toBe(-1);
  });

  it('a state dict resumes bitwise, with PyTorch slot names', () => {
    const shape = { rows, rowSize, touched: 30 };
    const full = runSparse(SparseAdam as never, {}, shape, 6, 8);
    const p = makeTable(rows, rowSize, 8);
    const first = new SparseAdam([p]);
    for (let t = 1; t <= 3; t++) {
      Object.assign(p, batch(rows, rowSize, 30, 8, t));
      first.step();
    }
    const sd = first.stateDict();
    expect(Object.keys(sd.state.emb)).toEqual(['exp_avg', 'exp_avg_sq']);
    const second = new SparseAdam([p]);
    second.loadStateDict(sd);
    for (let t = 4; t <= 6; t++) {
      Object.assign(p, batch(rows, rowSize, 30, 8, t));
      second.step();
    }
    expect(firstBitDifference(p.data, full.p.data)).toBe(-1);
  });

  it('skipNonFinite: a NaN in a sparse grad, or an update that overflows, changes nothing', () => {
    const p = makeTable(rows, rowSize, 1);
    const before = new Float32Array(p.data);
    const opt = new SGD([p], { lr: 1e38, skipNonFinite: true });
    p.indices = Int32Array.from([3]);
    p.grad = Float32Array.from([1, Number.NaN, 0, 0]);
    expect(opt.step()).toBe(false);
    p.grad = Float32Array.from([1e10, 0, 0, 0]); // -1e38*1e10 overflows
    expect(opt.step()).toBe(false);
    expect(opt.stepCount).toBe(0);
    expect(firstBitDifference(p.data, before)).toBe(-1);
    p.grad = Float32Array.from([1e-38, 0, 0, 0]);
    expect(opt.step()).toBe(true);
  });

  it('clipGradNorm and zeroGrad work on the given rows (the grad as set)', () => {
    const p = makeTable(rows, rowSize, 1);
    const opt = new SGD([p], { lr: 0.1 });
    p.indices = Int32Array.from([1, 1]);
    p.grad = Float32Array.from([3, 0, 0, 0, 4, 0, 0, 0]);
    expect(clipGradNorm([p], 1)).toBe(5);
    expect(Math.abs(p.grad[0] - 0.6)).toBeLessThan(1e-6);
    opt.zeroGrad();
    expect(Array.from(p.grad)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
