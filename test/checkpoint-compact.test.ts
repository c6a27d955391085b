import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Adam, type AnyParam, SGD } from '../lib';
import { bf16Narrow, f16Narrow } from '../lib/compact/convert';
import { crc32c } from '../lib/checkpoint/crc32c';
import { CASES, type HostParam, fillGrads, makeParams } from './cases';
import { firstBitDifference } from './helpers';

// Checkpoint files of compact state (bf16 and 8-bit moments) and of half-precision parameters
// (with and without an fp32 master): resuming is bitwise, other dtypes convert as loadStateDict
// converts, and bad files are refused naming the tensor, nothing changed.

const DIR = mkdtempSync(join(tmpdir(), 'adam-ckpt-compact-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
let files = 0;
const fresh = () => join(DIR, `c${files++}.safetensors`);

// One tensor kept in 8 bits (20 blocks, the last partial), two below the 8-bit threshold.
const LENGTHS = [5000, 300, 17];
const SEED = 23;

type Typed = Float32Array | Uint16Array | Uint8Array;
const bytesOf = (a: Typed) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
function sameBytes(a: Typed, b: Typed): boolean {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  const x = bytesOf(a), y = bytesOf(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

type Opt = { step(): boolean; stateDict(): { step: number; state: Record<string, Record<string, Typed>> }; saveSync(p: string, o?: object): void; loadSync(p: string, o?: object): void; loadStateDict(sd: unknown): void };
interface Run {
  params: Array<{ name: string; data: Typed; grad: Typed }>;
  opt: Opt;
  /** Fills the grads of step t (the same values for every run of this kind). */
  grads(t: number): void;
}

function steps(r: Run, from: number, to: number): void {
  for (let t = from; t <= to; t++) {
    r.grads(t);
    r.opt.step();
  }
}

interface Snap {
  data: Typed[];
  sd: ReturnType<Opt['stateDict']>;
}
const snap = (r: Run): Snap => ({ data: r.params.map((p) => p.data.slice()), sd: r.opt.stateDict() });

function expectSameSnap(a: Snap, b: Snap): void {
  const sa = a.sd, sb = b.sd;
  expect(sb.step).toBe(sa.step);
  a.data.forEach((d, i) => expect({ param: i, same: sameBytes(d, b.data[i]) }).toEqual({ param: i, same: true }));
  expect(Object.keys(sb.state)).toEqual(Object.keys(sa.state));
  for (const [name, slots] of Object.entries(sa.state)) {
    expect(Object.keys(sb.state[name]).sort()).toEqual(Object.keys(slots).sort());
    for (const [slot, v] of Object.entries(slots)) expect({ name, slot, same: sameBytes(v, sb.state[name][slot]) }).toEqual({ name, slot, same: true });
  }
}
const expectSameRun = (a: Run, b: Run): void => expectSameSnap(snap(a), snap(b));

/** Float32 params (seeded by `seed`: a fresh optimizer starts from other values). */
function floatRun(make: (p: AnyParam[]) => Opt, seed = SEED): Run {
  const params = makeParams(LENGTHS, seed);
  return { params, opt: make(params), grads: (t) => fillGrads(params, SEED, t) };
}

/** Half-precision params: makeParams' values and grads narrowed to bf16 or fp16 bits. */
function halfRun(dtype: 'bf16' | 'fp16', make: (p: AnyParam[]) => Opt, seed = SEED): Run {
  const narrow = dtype === 'bf16' ? bf16Narrow : f16Narrow;
  const toHalf = (a: Float32Array) => Uint16Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length), (b) => narrow(b));
  const wide = makeParams(LENGTHS, seed);
  const params = wide.map((p) => ({ name: p.name, data: toHalf(p.data), grad: new Uint16Array(p.data.length), dtype }));
  return {
    params,
    opt: make(params),
    grads: (t) => {
      fillGrads(wide, SEED, t);
      wide.forEach((p, i) => params[i].grad.set(toHalf(p.grad)));
    },
  };
}

/**
 * N steps, a checkpoint, a fresh optimizer (other starting values) loads it, M more steps: the
 * same bits as never stopping.
 */
function expectResume(start: (seed?: number) => Run, n = 4, m = 3): void {
  const a = start(), b = start();
  steps(a, 1, n);
  steps(b, 1, n);
  const file = fresh();
  b.opt.saveSync(file, { params: true });
  const c = start(SEED + 100);
  c.opt.loadSync(file);
  steps(a, n + 1, n + m);
  steps(c, n + 1, n + m);
  expectSameRun(a, c);
}

const COMPACT_CASES = CASES.filter((c) => !c.label.startsWith('SparseAdam'));

describe.each(['bf16', 'int8'] as const)('stateDtype %s: every optimizer resumes from a checkpoint bit for bit', (stateDtype) => {
  const cases = COMPACT_CASES.filter((c) => !(stateDtype === 'int8' && (c.options as { centered?: boolean }).centered));
  it.each(cases.map((c) => [c.label, c] as const))('%s', (_label, c) => {
    expectResume((seed) => floatRun((p) => c.make(p, { ...c.options, stateDtype }) as unknown as Opt, seed));
  });
});

describe('half-precision parameters resume from a checkpoint bit for bit', () => {
  const grid = (['bf16', 'fp16'] as const).flatMap((dtype) =>
    [true, false].flatMap((masterWeights) => (['fp32', 'bf16', 'int8'] as const).map((stateDtype) => ({ dtype, masterWeights, stateDtype }))),
  );
  it.each(grid)('Adam, $dtype params, masterWeights $masterWeights, stateDtype $stateDtype', ({ dtype, masterWeights, stateDtype }) => {
    expectResume((seed) => halfRun(dtype, (p) => new Adam(p, { lr: 0.01, amsgrad: true, weightDecay: 0.01, masterWeights, stateDtype, seed: 5 }) as unknown as Opt, seed));
  });
  // Without a master the rounding is keyed by the step: a resumed run must continue the count.
  it.each(COMPACT_CASES.filter((c) => !(c.options as { centered?: boolean }).centered).map((c) => [c.label, c] as const))(
    'bf16 params without master, int8 state: %s',
    (_label, c) => expectResume((seed) => halfRun('bf16', (p) => c.make(p, { ...c.options, masterWeights: false, stateDtype: 'int8' }) as unknown as Opt, seed)),
  );
  it('groups that differ in stateDtype and masterWeights', () => {
    const make = (p: AnyParam[]) =>
      new Adam(
        [
          { params: [p[0]], stateDtype: 'int8', masterWeights: false },
          { params: [p[1]], stateDtype: 'bf16' },
          { params: [p[2]], amsgrad: true },
        ],
        { lr: 0.01, seed: 9 },
      ) as unknown as Opt;
    expectResume((seed) => halfRun('fp16', make, seed));
  });
});

describe('save and load (async) of compact state and half params', () => {
  it('fp16 params without master, int8 and bf16 groups: the bits of never stopping', async () => {
    type AsyncOpt = Opt & { save(p: string, o?: object): Promise<void>; load(p: string): Promise<void> };
    const start = (seed?: number) =>
      halfRun('fp16', (p) => new Adam([{ params: [p[0]], stateDtype: 'int8' }, { params: [p[1], p[2]], stateDtype: 'bf16' }], { lr: 0.01, masterWeights: false }) as unknown as Opt, seed);
    const a = start(), b = start();
    steps(a, 1, 3);
    steps(b, 1, 3);
    const file = fresh();
    await (b.opt as AsyncOpt).save(file, { params: true });
    const c = start(SEED + 7);
    await (c.opt as AsyncOpt).load(file);
    steps(a, 4, 6);
    steps(c, 4, 6);
    expectSameRun(a, c);
  });
});

describe('a file in another dtype converts as loadStateDict converts', () => {
  const DTYPES = ['fp32', 'bf16', 'int8'] as const;
  const pairs = DTYPES.flatMap((from) => DTYPES.filter((to) => to !== from).map((to) => ({ from, to })));
  it.each(pairs)('$from file into $to state: the state of loadStateDict, then the same steps', ({ from, to }) => {
    const make = (stateDtype: string) => (p: AnyParam[]) => new Adam(p, { lr: 0.01, stateDtype: stateDtype as never }) as unknown as Opt;
    const b = floatRun(make(from));
    steps(b, 1, 4);
    const file = fresh();
    b.opt.saveSync(file, { params: true });
    const viaFile = floatRun(make(to), SEED + 1);
    viaFile.opt.loadSync(file);
    const viaDict = floatRun(make(to), SEED + 1);
    viaDict.params.forEach((p, i) => p.data.set(b.params[i].data as Float32Array));
    viaDict.opt.loadStateDict(b.opt.stateDict());
    expectSameRun(viaDict, viaFile);
    const kind = { fp32: Float32Array, bf16: Uint16Array, int8: Uint8Array }[to];
    expect(viaFile.opt.stateDict().state.p0.exp_avg).toBeInstanceOf(kind);
    steps(viaFile, 5, 7);
    steps(viaDict, 5, 7);
    expectSameRun(viaDict, viaFile);
  });

  it('a file without masters into an optimizer with them: each master starts from the parameter the file restores', () => {
    const b = halfRun('bf16', (p) => new Adam(p, { lr: 0.01, masterWeights: false }) as unknown as Opt);
    steps(b, 1, 3);
    const file = fresh();
    b.opt.saveSync(file, { params: true });
    const c = halfRun('bf16', (p) => new Adam(p, { lr: 0.01 }) as unknown as Opt, SEED + 1);
    c.opt.loadSync(file);
    const d = halfRun('bf16', (p) => new Adam(p, { lr: 0.01 }) as unknown as Opt, SEED + 1);
    d.params.forEach((p, i) => p.data.set(b.params[i].data));
    d.opt.loadStateDict(b.opt.stateDict());
    expectSameRun(d, c);
    expect(c.opt.stateDict().state.p0.master).toBeInstanceOf(Float32Array);
  });

  it('the file holds each slot in the storage the optimizer keeps it in', () => {
    const r = halfRun('fp16', (p) => new Adam([{ params: [p[0], p[1]], stateDtype: 'int8' }, { params: [p[2]], stateDtype: 'bf16', masterWeights: false }], { lr: 0.01 }) as unknown as Opt);
    steps(r, 1, 2);
    const file = fresh();
    r.opt.saveSync(file, { params: true });
    const { tensors } = readSafetensors(file);
    const shapes = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, `${t.dtype}[${t.shape}]`]));
    expect(shapes).toEqual({
      'state.p0.exp_avg': 'U8[5000]',
      'state.p0.exp_avg_absmax': 'F32[20]',
      'state.p0.exp_avg_sq': 'U8[5000]',
      'state.p0.exp_avg_sq_absmax': 'F32[20]',
      'state.p0.master': 'F32[5000]',
      'param.p0': 'F16[5000]',
      // Below 4,096 elements int8 state stays float32.
      'state.p1.exp_avg': 'F32[300]',
      'state.p1.exp_avg_sq': 'F32[300]',
      'state.p1.master': 'F32[300]',
      'param.p1': 'F16[300]',
      'state.p2.exp_avg': 'BF16[17]',
      'state.p2.exp_avg_sq': 'BF16[17]',
      'param.p2': 'F16[17]',
    });
    const sd = r.opt.stateDict();
    for (const [name, t] of Object.entries(tensors)) {
      const [kind, p, slot] = name.split('.');
      const expected = kind === 'param' ? r.params[Number(p.slice(1))].data : sd.state[p][slot];
      expect({ name, same: Buffer.compare(t.bytes, Buffer.from(bytesOf(expected))) }).toEqual({ name, same: 0 });
    }
  });
});

// An independent reader and writer of the format (not lib/checkpoint), to make bad files.
interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Buffer;
}
function readSafetensors(path: string) {
  const file = readFileSync(path);
  const n = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + n).toString('utf8'));
  const tensors: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries<{ dtype: string; shape: number[]; data_offsets: [number, number] }>(header)) {
    if (name === '__metadata__') continue;
    tensors[name] = { dtype: t.dtype, shape: t.shape, bytes: file.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]) };
  }
  return { metadata: header.__metadata__ as Record<string, string>, tensors };
}
function writeSafetensors(path: string, metadata: Record<string, string>, tensors: Record<string, RawTensor>): void {
  const header: Record<string, unknown> = {};
  const crcs: Record<string, string> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    crcs[name] = crc32c(t.bytes, 0).toString(16).padStart(8, '0');
    offset += t.bytes.length;
  }
  header.__metadata__ = { ...metadata, crc32c: JSON.stringify(crcs) };
  let json = Buffer.from(JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([prefix, json, ...Object.values(tensors).map((t) => t.bytes)]));
}

describe('a bad compact file is refused naming the tensor, and nothing changes', () => {
  const start = (seed = SEED) => halfRun('fp16', (p) => new Adam([{ params: [p[0], p[1]], stateDtype: 'int8' }, { params: [p[2]], stateDtype: 'bf16' }], { lr: 0.01 }) as unknown as Opt, seed);
  const source = start();
  steps(source, 1, 2);
  const good = fresh();
  source.opt.saveSync(good, { params: true });
  const { metadata, tensors } = readSafetensors(good);
  const edit = (change: (t: Record<string, RawTensor>) => void) => {
    const copy = { ...tensors };
    change(copy);
    const path = fresh();
    writeSafetensors(path, metadata, copy);
    return path;
  };
  const shorter = (t: RawTensor, bytes: number): RawTensor => ({ ...t, shape: [t.shape[0] - 1], bytes: t.bytes.subarray(0, t.bytes.length - bytes) });
  const bad: Array<[string, (t: Record<string, RawTensor>) => void, RegExp]> = [
    ['codes of the wrong length', (t) => (t['state.p0.exp_avg'] = shorter(t['state.p0.exp_avg'], 1)), /tensor "state.p0.exp_avg": shape \[4999\] has 4999 elements, but .* has 5000/],
    ['an absmax of the wrong length', (t) => (t['state.p0.exp_avg_absmax'] = shorter(t['state.p0.exp_avg_absmax'], 4)), /tensor "state.p0.exp_avg_absmax": shape \[19\] .* make 20 blocks of 256/],
    ['an absmax of the wrong dtype', (t) => (t['state.p0.exp_avg_absmax'] = { ...t['state.p0.exp_avg_absmax'], dtype: 'U8', shape: [80] }), /tensor "state.p0.exp_avg_absmax": dtype U8, but an absmax is F32/],
    ['codes without their absmax', (t) => delete t['state.p0.exp_avg_sq_absmax'], /tensor "state.p0.exp_avg_sq": 8-bit codes need "state.p0.exp_avg_sq_absmax"/],
    ['an absmax without codes', (t) => (t['state.p2.exp_avg_absmax'] = { dtype: 'F32', shape: [1], bytes: Buffer.alloc(4) }), /tensor "state.p2.exp_avg_absmax": an absmax goes with U8 codes, but "state.p2.exp_avg" is BF16/],
    ['a slot in a dtype no slot takes', (t) => (t['state.p2.exp_avg'] = { ...t['state.p2.exp_avg'], dtype: 'F16' }), /tensor "state.p2.exp_avg": dtype F16, but a state slot is F32, BF16 or U8/],
    ['a parameter in another half dtype', (t) => (t['param.p1'] = { ...t['param.p1'], dtype: 'BF16' }), /tensor "param.p1": dtype BF16, but .*"p1".* is a fp16 parameter \(F16\)/],
    ['a master that is not F32', (t) => (t['state.p0.master'] = { ...t['state.p0.master'], dtype: 'BF16', shape: [10000] }), /tensor "state.p0.master": dtype BF16, but a master is F32/],
  ];
  const refused = (path: string, message: RegExp) => {
    const r = start(SEED + 1);
    steps(r, 1, 1);
    const before = snap(r);
    expect(() => r.opt.loadSync(path)).toThrow(message);
    expectSameSnap(before, snap(r));
  };
  it.each(bad)('%s', (_label, change, message) => refused(edit(change), message));

  it("the file's groups record each group's stateDtype and masterWeights; a bad record is refused", () => {
    const groups = JSON.parse(metadata.groups) as Array<Record<string, unknown>>;
    expect(groups.map((g) => [g.stateDtype, g.masterWeights])).toEqual([['int8', true], ['bf16', true]]);
    const path = fresh();
    writeSafetensors(path, { ...metadata, groups: JSON.stringify(groups.map((g, i) => (i === 0 ? { ...g, stateDtype: 'int4' } : g))) }, tensors);
    refused(path, /groups\[0\] 'stateDtype' must be one of 'fp32', 'bf16', 'int8', got "int4"/);
  });

  it('a flipped bit in the codes fails their CRC-32C', () => {
    const path = edit(() => {});
    const file = readFileSync(path);
    const n = Number(file.readBigUInt64LE(0));
    const header = JSON.parse(file.subarray(8, 8 + n).toString());
    file[8 + n + header['state.p0.exp_avg'].data_offsets[0] + 3] ^= 1;
    writeFileSync(path, file);
    refused(path, /tensor "state.p0.exp_avg": CRC-32C/);
  });

  it('a master for a group without masters', () => {
    const r = halfRun('fp16', (p) => new Adam([{ params: [p[0], p[1]], stateDtype: 'int8', masterWeights: false }, { params: [p[2]], stateDtype: 'bf16' }], { lr: 0.01 }) as unknown as Opt, SEED + 1);
    expect(() => r.opt.loadSync(good)).toThrow(/tensor "state.p0.master": .*"p0" keeps no fp32 master \(its group's masterWeights is false\)/);
  });

  it('the good file loads (the edits above are what made them bad)', () => {
    const r = start(SEED + 1);
    r.opt.loadSync(good);
    expectSameRun(source, r);
  });
});

describe('masterWeights per group', () => {
  const h = (n: number) => new Uint16Array(n).fill(0x3c00);
  it('a group overrides the optimizer; paramGroups show it and refuse a change', () => {
    const a = { name: 'a', data: h(4), grad: h(4), dtype: 'fp16' as const };
    const b = { name: 'b', data: h(4), grad: h(4), dtype: 'fp16' as const };
    const opt = new SGD([{ params: [a] }, { params: [b], masterWeights: false, stateDtype: 'bf16' }], { lr: 0.1, momentum: 0.9 });
    expect(opt.paramGroups.map((g) => [g.masterWeights, g.stateDtype])).toEqual([
      [true, 'fp32'],
      [false, 'bf16'],
    ]);
    expect(Object.keys(opt.stateDict().state.a)).toContain('master');
    expect(Object.keys(opt.stateDict().state.b)).not.toContain('master');
    expect(() => ((opt.paramGroups[1] as { masterWeights: boolean }).masterWeights = true)).toThrow(/masterWeights of a parameter group is fixed/);
    expect(opt.paramGroups[1].masterWeights).toBe(false);
  });

  it("a state dict with a master for a group without masters is refused naming it; the other way the master starts from data", () => {
    const p = () => ({ data: h(4), grad: h(4), dtype: 'fp16' as const });
    const withMasters = new Adam([{ params: [p()] }, { params: [p()] }], { lr: 0.1 });
    const mixed = new Adam([{ params: [p()] }, { params: [p()], masterWeights: false }], { lr: 0.1 });
    expect(() => mixed.loadStateDict(withMasters.stateDict())).toThrow(/state\["1"\]\.master is given, but paramGroups\[1\]\.params\[0\] "1" keeps no fp32 master \(its group's masterWeights is false\)/);
    withMasters.loadStateDict(mixed.stateDict());
    expect(withMasters.stateDict().state[1].master).toEqual(new Float32Array(4).fill(1));
  });

  it('bad values name the group and the option; addParamGroup takes them too', () => {
    const p = () => ({ data: h(4), grad: h(4), dtype: 'bf16' as const });
    expect(() => new Adam([{ params: [p()] }, { params: [p()], masterWeights: 1 as never }], { lr: 0.1 })).toThrow(/paramGroups\[1\] option 'masterWeights' must be a boolean/);
    expect(() => new Adam([{ params: [p()] }, { params: [p()], stateDtype: 'int4' as never }], { lr: 0.1 })).toThrow(/paramGroups\[1\] option 'stateDtype' must be one of/);
    const opt = new Adam([p()], { lr: 0.1, masterWeights: false });
    expect(() => opt.addParamGroup({ params: [p()], masterWeights: 'yes' as never })).toThrow(/option 'masterWeights' must be a boolean/);
    expect(opt.paramGroups.length).toBe(1);
    opt.addParamGroup({ params: [{ name: 'late', ...p() }], masterWeights: true, stateDtype: 'int8' });
    expect(opt.paramGroups[1].masterWeights).toBe(true);
    expect(opt.stateDict().state.late.master).toBeInstanceOf(Float32Array);
    expect(opt.stateDict().state[0].master).toBeUndefined();
  });
});
