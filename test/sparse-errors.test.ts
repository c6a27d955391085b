import { describe, expect, it } from 'vitest';
import { AdaGrad, AdaMax, Adam, AdamW, RMSProp, SGD, SparseAdam } from '../lib';
import { loadNative } from '../lib/backends/load';
import { NATIVE_ISAS, firstBitDifference } from './helpers';
import { makeTable } from './sparse-cases';

const BACKENDS = [{ backend: 'js' }, ...NATIVE_ISAS.slice(-1).map((isa) => ({ backend: 'native', isa }))];

describe.each(BACKENDS)('bad sparse input is refused before anything changes (%j)', (backend) => {
  const rows = 10, rowSize = 3;
  const setup = () => {
    const p = makeTable(rows, rowSize, 1);
    const other = { name: 'w', data: new Float32Array(6), grad: new Float32Array(6) };
    const opt = new AdaGrad([p, other], { ...backend } as never);
    // One good step, so the state is not all zeros.
    p.indices = Int32Array.from([1, 2]);
    p.grad = new Float32Array(6).fill(0.5);
    opt.step();
    return { p, other, opt, data: new Float32Array(p.data), sum: opt.stateDict().state.emb.sum };
  };
  const bad: Array<[string, (s: ReturnType<typeof setup>) => void, ErrorConstructor, RegExp]> = [
    ['an index below 0', (s) => ((s.p.indices = Int32Array.from([1, -1])), (s.p.grad = new Float32Array(6))), RangeError, /indices\[1\] is -1, outside \[0, 10\)/],
    ['an index past the last row', (s) => ((s.p.indices = Int32Array.from([10])), (s.p.grad = new Float32Array(3))), RangeError, /indices\[0\] is 10/],
    ['indices not an Int32Array', (s) => ((s.p as { indices: unknown }).indices = Uint32Array.from([1])), TypeError, /indices must be an Int32Array/],
    ['indices a plain array', (s) => ((s.p as { indices: unknown }).indices = [1]), TypeError, /indices must be an Int32Array/],
    ['grad of the wrong length', (s) => ((s.p.indices = Int32Array.from([1, 2])), (s.p.grad = new Float32Array(5))), RangeError, /grad has length 5, expected indices.length \* rowSize = 2 \* 3 = 6/],
    ['grad not a Float32Array', (s) => ((s.p as { grad: unknown }).grad = new Float64Array(6)), TypeError, /grad must be a Float32Array/],
    ['rowSize changed', (s) => ((s.p as { rowSize: unknown }).rowSize = 5), RangeError, /rowSize changed from 3 to 5/],
    ['grad sharing memory with the data', (s) => ((s.p.indices = Int32Array.from([1])), (s.p.grad = s.p.data.subarray(3, 6))), Error, /"emb" grad shares memory with .*"emb" data|"emb" data shares memory/],
    ['indices sharing memory with another parameter', (s) => ((s.p.indices = new Int32Array(s.other.data.buffer, 0, 1)), (s.p.grad = new Float32Array(3))), Error, /shares memory/],
    ['data replaced by a shorter array', (s) => (s.p.data = new Float32Array(27)), RangeError, /data has length 27; the parameter has length 30/],
  ];
  it.each(bad)('%s', (_label, spoil, Kind, message) => {
    const s = setup();
    spoil(s);
    expect(() => s.opt.step()).toThrow(Kind);
    expect(() => s.opt.step()).toThrow(message);
    expect(s.opt.stepCount).toBe(1);
    const p = s.p as { data: Float32Array };
    if (p.data.length === 30) expect(firstBitDifference(p.data, s.data)).toBe(-1);
    expect(firstBitDifference(s.opt.stateDict().state.emb.sum, s.sum)).toBe(-1);
  });
});

describe('which optimizers take sparse parameters', () => {
  const sparse = () => makeTable(10, 2, 1);
  it.each([
    ['Adam', Adam],
    ['AdamW', AdamW],
    ['AdaMax', AdaMax],
    ['RMSProp', RMSProp],
  ] as const)('%s refuses one and points to SparseAdam', (_n, Make) => {
    expect(() => new Make([sparse()])).toThrow(TypeError);
    expect(() => new Make([sparse()])).toThrow(/params\[0\] "emb" is a sparse parameter .*use SparseAdam/);
  });

  it('SparseAdam refuses a dense parameter, naming it', () => {
    const dense = { name: 'bias', data: new Float32Array(3), grad: new Float32Array(3) };
    expect(() => new SparseAdam([sparse(), dense])).toThrow(/params\[1\] "bias" is a dense parameter; SparseAdam takes sparse parameters only/);
  });

  it('rowSize must be a positive integer dividing data.length', () => {
    for (const rowSize of [0, 3, 2.5, -2]) {
      const p = { ...sparse(), rowSize };
      expect(() => new SparseAdam([p])).toThrow(RangeError);
      expect(() => new SparseAdam([p])).toThrow(/rowSize must be a positive integer that divides data.length \(20\)/);
    }
    expect(() => new SparseAdam([{ ...sparse(), rowSize: '2' as unknown as number }])).toThrow(TypeError);
  });

  it('AdaGrad and SGD refuse weightDecay with a sparse grad (as PyTorch), SGD also momentum', () => {
    expect(() => new AdaGrad([sparse()], { weightDecay: 0.1 })).toThrow(/"emb" is a sparse parameter: weightDecay 0.1 does not support sparse gradients/);
    expect(() => new SGD([sparse()], { lr: 0.1, weightDecay: 0.1 })).toThrow(RangeError);
    expect(() => new SGD([sparse()], { lr: 0.1, momentum: 0.9 })).toThrow(/momentum 0.9 is not supported with sparse gradients/);
  });

  it('setting weightDecay on a group with a sparse parameter throws and changes nothing', () => {
    const opt = new AdaGrad([sparse()]);
    expect(() => ((opt.paramGroups[0] as { weightDecay: number }).weightDecay = 0.1)).toThrow(RangeError);
    expect(opt.paramGroups[0].weightDecay).toBe(0);
  });

  it('addParamGroup checks sparse parameters too', () => {
    const opt = new Adam([{ name: 'w', data: new Float32Array(2), grad: new Float32Array(2) }]);
    expect(() => opt.addParamGroup({ params: [sparse()] })).toThrow(/use SparseAdam/);
    expect(opt.paramGroups.length).toBe(1);
  });
});

describe.skipIf(NATIVE_ISAS.length === 0)('stepRows re-checks what the row kernels rely on', () => {
  const b = loadNative().binding!;
  const id = b.rules.sgd.id;
  const scalars = new Float32Array(5);
  // A 4-row table of rowSize 3, and a grad of two rows for rows 0 and 1.
  const call = (o: { rows?: unknown; order?: unknown; starts?: unknown; grad?: Float32Array; data?: Float32Array; rowSize?: number } = {}) => () =>
    b.stepRows(id, 0, 1, [o.data ?? new Float32Array(12), o.grad ?? new Float32Array(6), null], (o.rows ?? Int32Array.from([0, 1])) as Int32Array,
      (o.order ?? Uint32Array.from([0, 1])) as Uint32Array, (o.starts ?? Uint32Array.from([0, 1, 2])) as Uint32Array, o.rowSize ?? 3, scalars, 0);
  it('accepts a good call (the control)', () => expect(call()).not.toThrow());
  it('rows out of range, not ascending, or the wrong type', () => {
    expect(call({ rows: Int32Array.from([0, 4]) })).toThrow(/rows\[1\] = 4 is outside \[0, 4\)/);
    expect(call({ rows: Int32Array.from([1, 1]) })).toThrow(/strictly ascending/);
    expect(call({ rows: Float32Array.from([0, 1]) })).toThrow(TypeError);
  });
  it('a plan that reads past the grad or has an empty run', () => {
    expect(call({ order: Uint32Array.from([0, 2]) })).toThrow(/order\[1\] is outside/);
    expect(call({ starts: Uint32Array.from([0, 0, 2]) })).toThrow(/starts must be strictly ascending/);
    expect(call({ starts: Uint32Array.from([0, 2]) })).toThrow(/rows.length \+ 1/);
  });
  it('a grad of the wrong length, a rowSize that does not divide, overlapping arrays', () => {
    expect(call({ grad: new Float32Array(5) })).toThrow(/grad\) has length 5, expected 6/);
    expect(call({ data: new Float32Array(13) })).toThrow(/does not divide/);
    const data = new Float32Array(12);
    expect(call({ data, grad: data.subarray(6, 12) })).toThrow(/share|overlap/);
  });
  it('a plan in memory the kernels write', () => {
    const data = new Float32Array(12);
    expect(call({ data, rows: new Int32Array(data.buffer, 0, 2) })).toThrow(/shares memory with rows, order or starts/);
    expect(call({ data, starts: new Uint32Array(data.buffer, 16, 3) })).toThrow(/shares memory with rows, order or starts/);
    const memory = new ArrayBuffer(32); // the grad is only read: a plan beside it is fine
    const order = new Uint32Array(memory, 24, 2);
    order.set([1, 0]);
    expect(call({ grad: new Float32Array(memory, 0, 6), order })).not.toThrow();
  });
});
