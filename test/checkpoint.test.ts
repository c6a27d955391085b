import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Adam, SGD, cosine, cuda, inverseSqrt } from '../lib';
import { CASES, type HostParam, fillGrads, makeParams } from './cases';
import { crc32c, crc32cBitwise as fallback } from '../lib/checkpoint/crc32c';
import { firstBitDifference } from './helpers';

const DIR = mkdtempSync(join(tmpdir(), 'adam-ckpt-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
let files = 0;
const fresh = () => join(DIR, `c${files++}.safetensors`);

// An independent reader, written from the safetensors description (not from lib/checkpoint):
// u64 LE header length, JSON header, raw little-endian data, offsets relative to the data start.
function readSafetensors(path: string) {
  const file = readFileSync(path);
  const n = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + n).toString('utf8'));
  const start = 8 + n;
  const tensors: Record<string, { dtype: string; shape: number[]; bytes: Buffer }> = {};
  for (const [name, t] of Object.entries<{ dtype: string; shape: number[]; data_offsets: [number, number] }>(header)) {
    if (name === '__metadata__') continue;
    tensors[name] = { dtype: t.dtype, shape: t.shape, bytes: file.subarray(start + t.data_offsets[0], start + t.data_offsets[1]) };
  }
  return { n, start, size: file.length, header, metadata: header.__metadata__ as Record<string, string>, tensors };
}

// CRC-32C bit by bit (reflected polynomial 0x82F63B78), no table: the slow, obvious definition.
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const f32 = (b: Buffer) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
const bitsEqual = (a: Float32Array, b: Float32Array) => a.length === b.length && firstBitDifference(a, b) === -1;

type Snap = { sd: { step: number; state: Record<string, Record<string, Float32Array>> }; data: Float32Array[] };
function snapshot(opt: { stateDict(): Snap['sd'] }, params: HostParam[]): Snap {
  return { sd: opt.stateDict(), data: params.map((p) => new Float32Array(p.data)) };
}
function expectSame(a: Snap, b: Snap) {
  expect(b.sd.step).toBe(a.sd.step);
  a.data.forEach((d, i) => expect(bitsEqual(d, b.data[i]), `param ${i}`).toBe(true));
  for (const [name, slots] of Object.entries(a.sd.state))
    for (const [slot, v] of Object.entries(slots)) expect(bitsEqual(v, b.sd.state[name][slot]), `${name}.${slot}`).toBe(true);
  expect(Object.keys(b.sd.state)).toEqual(Object.keys(a.sd.state));
}

const LENGTHS = [5, 17, 1, 33, 64, 3, 9, 100, 2];

describe('resuming from a checkpoint is bitwise identical to never stopping', () => {
  CASES.forEach((c, k) => {
    it(c.label, async () => {
      const seed = 11 + k;
      const params = makeParams(LENGTHS, seed);
      const opt = c.make(params, c.options);
      const path = fresh();
      for (let t = 1; t <= 4; t++) {
        fillGrads(params, seed, t);
        opt.step();
        if (t === 2) {
          if (k % 2) await opt.save(path, { params: true });
          else opt.saveSync(path, { params: true });
        }
      }
      // A new process would start from other initial values: the file brings params and state back.
      const other = makeParams(LENGTHS, seed + 500);
      const resumed = c.make(other, c.options);
      if (k % 2) await resumed.load(path);
      else resumed.loadSync(path);
      expect(resumed.stepCount).toBe(2);
      for (let t = 3; t <= 4; t++) {
        fillGrads(other, seed, t);
        resumed.step();
      }
      expectSame(snapshot(opt, params), snapshot(resumed, other));
    });
  });
});

describe('the file is safetensors, as an independent reader sees it', () => {
  const params = makeParams([7, 0, 12], 3);
  params[1].name = 'embed.weight';
  const opt = new Adam(params, { lr: cosine(0.01, { totalSteps: 10, warmupSteps: 2 }), amsgrad: true });
  fillGrads(params, 3, 1);
  opt.step();
  const path = fresh();
  opt.saveSync(path, { params: true });
  const file = readSafetensors(path);
  const sd = opt.stateDict();

  it('is aligned, contiguous, and holds every state slot and param by name', () => {
    expect((8 + file.n) % 8).toBe(0);
    const names = params.flatMap((p) => [`state.${p.name}.exp_avg`, `state.${p.name}.exp_avg_sq`, `state.${p.name}.max_exp_avg_sq`, `param.${p.name}`]);
    expect(Object.keys(file.tensors).sort()).toEqual(names.sort());
    const spans = Object.values<{ data_offsets: [number, number] }>(file.header).filter((t) => t.data_offsets).map((t) => t.data_offsets).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let at = 0;
    for (const [b, e] of spans) {
      expect(b).toBe(at);
      at = e;
    }
    expect(file.start + at).toBe(file.size);
    for (const p of params) {
      const t = file.tensors[`state.${p.name}.exp_avg`];
      expect(t.dtype).toBe('F32');
      expect(t.shape).toEqual([p.data.length]);
      expect(bitsEqual(f32(t.bytes), sd.state[p.name!].exp_avg)).toBe(true);
      expect(bitsEqual(f32(file.tensors[`param.${p.name}`].bytes), p.data)).toBe(true);
    }
  });

  it('records the optimizer, step, version, groups with the schedule, and a CRC-32C per tensor', () => {
    const m = file.metadata;
    for (const v of Object.values(m)) expect(typeof v).toBe('string');
    expect(m.optimizer).toBe('Adam');
    expect(m.step).toBe('1');
    expect(m.version).toBe(JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version);
    const groups = JSON.parse(m.groups);
    expect(groups[0].params).toEqual(params.map((p) => p.name));
    expect(groups[0].options).toMatchObject({ amsgrad: true, beta1: 0.9, lr: { name: 'cosine', args: [0.01, { totalSteps: 10, warmupSteps: 2, minLr: 0 }] } });
    const crcs = JSON.parse(m.crc32c);
    expect(Object.keys(crcs).sort()).toEqual(Object.keys(file.tensors).sort());
    for (const [name, t] of Object.entries(file.tensors)) expect(crcs[name]).toBe(crc32cBitwise(t.bytes).toString(16).padStart(8, '0'));
  });
});

describe('load checks everything first: a bad file names the problem and changes nothing', () => {
  const make = () => {
    const params = makeParams([6, 4], 5);
    const opt = new Adam(params, { lr: 0.01 });
    fillGrads(params, 5, 1);
    opt.step();
    return { params, opt };
  };
  const source = make();
  const good = fresh();
  source.opt.saveSync(good, { params: true });
  const bytes = readFileSync(good);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  // The file with a different header (re-padded) and the same data.
  const withHeader = (edit: (h: Record<string, any>) => void) => {
    const h = structuredClone(header);
    edit(h);
    let text = Buffer.from(JSON.stringify(h));
    text = Buffer.concat([text, Buffer.alloc((8 - ((8 + text.length) % 8)) % 8, 0x20)]);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(text.length));
    return Buffer.concat([len, text, bytes.subarray(8 + n)]);
  };
  const first = Object.entries<any>(header).find(([k]) => k !== '__metadata__')!;
  const [name0, t0] = first;
  const flipped = Buffer.from(bytes);
  flipped[8 + n + t0.data_offsets[0] + 1] ^= 1;
  const bigLen = Buffer.from(bytes);
  bigLen.writeBigUInt64LE(BigInt(bytes.length), 0);
  const other = Object.entries<any>(header).find(([k, v]) => k !== '__metadata__' && v.data_offsets[0] === t0.data_offsets[1])!;

  const bad: Array<[string, Buffer | string, RegExp]> = [
    ['truncated to 5 bytes', bytes.subarray(0, 5), /too short/],
    ['a header longer than the file', bigLen, /header/],
    ['truncated data', bytes.subarray(0, bytes.length - 4), /run past the end|bytes after/],
    ['a header that is not JSON', (() => { const b = Buffer.from(bytes); b[8] = 0x7b + 1; return b; })(), /not valid JSON/],
    ['an unknown dtype', withHeader((h) => (h[name0].dtype = 'F99')), new RegExp(`"${name0}".*dtype "F99"`)],
    ['a dtype no state slot takes', withHeader((h) => (h[name0].dtype = 'F16', h[name0].shape = [h[name0].shape[0] * 2])), new RegExp(`"${name0}".*dtype F16, but a state slot is F32, BF16 or U8`)],
    ['a shape that does not match the parameter', withHeader((h) => (h[name0].shape = [h[name0].shape[0] + 1])), new RegExp(`"${name0}".*shape`)],
    ['offsets out of bounds', withHeader((h) => (h[name0].data_offsets = [bytes.length, bytes.length + 24])), new RegExp(`"${name0}"`)],
    ['overlapping offsets', withHeader((h) => (h[other[0]].data_offsets = [t0.data_offsets[1] - 4, t0.data_offsets[1] - 4 + other[1].data_offsets[1] - other[1].data_offsets[0]])), /overlap/],
    ['an unknown tensor name', withHeader((h) => ((h['state.nope.exp_avg'] = h[name0]), delete h[name0])), /"state.nope.exp_avg".*names no parameter/],
    ['a flipped data bit', flipped, new RegExp(`"${name0}": CRC-32C`)],
    ['another optimizer', withHeader((h) => (h.__metadata__.optimizer = 'SGD')), /checkpoint of "SGD", not of 'Adam'/],
    ['a bad hyperparameter', withHeader((h) => (h.__metadata__.groups = h.__metadata__.groups.replace('"beta1":0.9', '"beta1":2'))), /beta1/],
    ['a missing CRC', withHeader((h) => (h.__metadata__.crc32c = '{}')), /no CRC-32C/],
    ['an unknown schedule', withHeader((h) => (h.__metadata__.groups = h.__metadata__.groups.replace('"lr":0.01', '"lr":{"name":"zigzag","args":[]}'))), /zigzag/],
  ];
  for (const [label, content, message] of bad)
    it(label, async () => {
      const path = fresh();
      writeFileSync(path, content);
      const { params, opt } = make();
      fillGrads(params, 5, 2);
      opt.step();
      const before = snapshot(opt, params);
      expect(() => opt.loadSync(path)).toThrow(message);
      await expect(opt.load(path)).rejects.toThrow(message);
      expectSame(before, snapshot(opt, params));
      expect(opt.lr).toBe(0.01);
    });

  it('a missing file and wrong arguments throw without changing anything', async () => {
    const { opt } = make();
    await expect(opt.load(join(DIR, 'absent'))).rejects.toThrow(/ENOENT/);
    expect(() => opt.loadSync(42 as never)).toThrow(TypeError);
    expect(() => opt.saveSync(good, { param: true } as never)).toThrow(/param/);
    expect(() => opt.loadSync(good, { params: 'yes' } as never)).toThrow(TypeError);
  });
});

describe('schedules', () => {
  it('a custom schedule function must be given again before loading', () => {
    const custom = (t: number) => 0.01 / t;
    const a = new SGD([{ name: 'w', data: new Float32Array(3), grad: new Float32Array(3).fill(1) }], { lr: custom, momentum: 0.9 });
    a.step();
    const path = fresh();
    a.saveSync(path);
    expect(JSON.parse(readSafetensors(path).metadata.groups)[0].options.lr).toEqual({ name: 'custom' });
    const b = new SGD([{ name: 'w', data: new Float32Array(3), grad: new Float32Array(3) }], { lr: 0.5 });
    expect(() => b.loadSync(path)).toThrow(/custom schedule function.*give this optimizer the same function/);
    expect(b.stepCount).toBe(0);
    b.lr = custom;
    b.loadSync(path);
    expect(b.lr).toBe(custom);
    expect(b.stepCount).toBe(1);
  });

  it('a built-in schedule is rebuilt from its record', () => {
    const params = makeParams([4], 1);
    const a = new Adam(params, { lr: cosine(0.1, { totalSteps: 5 }) });
    const path = fresh();
    a.saveSync(path);
    const b = new Adam(makeParams([4], 2), { lr: 0.3 });
    b.loadSync(path);
    expect(typeof b.lr).toBe('function');
    expect((b.lr as (t: number) => number)(3)).toBe((a.lr as (t: number) => number)(3));
  });
});

describe('saves are atomic', () => {
  it('leaves no temporary file behind, and a failed save keeps the old file', () => {
    const params = makeParams([4], 1);
    const opt = new Adam(params);
    const path = fresh();
    opt.saveSync(path);
    const before = readFileSync(path);
    expect(() => opt.saveSync(join(DIR, 'no-such-dir', 'x'))).toThrow(/ENOENT/);
    opt.step();
    expect(readdirSync(DIR).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

describe('streams', () => {
  it('a tensor larger than one I/O chunk (16 MiB) goes through in pieces, bit for bit', async () => {
    const n = 5_000_001;
    const data = new Float32Array(n).map((_, i) => Math.sin(i));
    const grad = new Float32Array(n).map((_, i) => Math.cos(i * 0.7));
    const opt = new Adam([{ name: 'big', data, grad }]);
    opt.step();
    const path = fresh();
    await opt.save(path, { params: true });
    const other = new Adam([{ name: 'big', data: new Float32Array(n), grad: new Float32Array(n) }]);
    await other.load(path);
    expect(bitsEqual(other.paramGroups[0].params[0].data as Float32Array, data)).toBe(true);
    expect(bitsEqual(other.stateDict().state.big.exp_avg_sq, opt.stateDict().state.big.exp_avg_sq)).toBe(true);
    rmSync(path);
  });
});

describe('async save and load hold the optimizer', () => {
  it('a step during a save in flight is refused, and the file has the state of the call', async () => {
    const params = makeParams([10], 2);
    const opt = new Adam(params);
    fillGrads(params, 2, 1);
    opt.step();
    const path = fresh();
    const pending = opt.save(path);
    expect(() => opt.step()).toThrow(/a save is in flight/);
    await pending;
    const loaded = readSafetensors(path);
    expect(loaded.metadata.step).toBe('1');
    expect(opt.step()).toBe(true);
  });
});

describe('schedule descriptions', () => {
  it('are the schedule\'s own description, defaults filled in, and rebuild to the same values', () => {
    const params = makeParams([3], 4);
    const opt = new Adam(params, { lr: inverseSqrt(0.02, undefined) });
    const path = fresh();
    opt.saveSync(path);
    expect(JSON.parse(readSafetensors(path).metadata.groups)[0].options.lr).toEqual({ name: 'inverseSqrt', args: [0.02, { epochLength: 1 }] });
    const other = new Adam(makeParams([3], 5));
    other.loadSync(path);
    expect((other.lr as (t: number) => number)(9)).toBe((opt.lr as (t: number) => number)(9));
  });
});

const hasGpu = cuda.info().deviceCount > 0;
describe('checkpoints of GPU state', () => {
  // Saved from DeviceTensors on the 'cuda' backend, resumed on the host, and the other way round:
  // the same bits as an uninterrupted host run (every backend computes the same bits).
  it.skipIf(!hasGpu)(`move between the GPU and the host bitwise${hasGpu ? '' : ' (skipped: no CUDA device)'}`, () => {
    const seed = 21;
    const options = { lr: 0.01, amsgrad: true, weightDecay: 0.05 };
    const host = makeParams(LENGTHS, seed);
    const reference = new Adam(host, options);
    for (let t = 1; t <= 4; t++) fillGrads(host, seed, t), reference.step();

    const start = makeParams(LENGTHS, seed);
    const dev = start.map((p) => ({ name: p.name, data: cuda.upload(p.data), grad: cuda.tensor(p.grad.length) }));
    const onGpu = new Adam(dev, { ...options, backend: 'cuda' });
    for (let t = 1; t <= 2; t++) {
      fillGrads(start, seed, t);
      dev.forEach((p, i) => p.grad.copyFrom(start[i].grad));
      onGpu.step();
    }
    const path = fresh();
    onGpu.saveSync(path, { params: true });
    const cpu = makeParams(LENGTHS, seed + 1);
    const resumed = new Adam(cpu, options);
    resumed.loadSync(path);
    fillGrads(cpu, seed, 3);
    resumed.step();
    // And back onto the GPU for the last step.
    resumed.saveSync(path, { params: true });
    onGpu.loadSync(path);
    fillGrads(start, seed, 4);
    dev.forEach((p, i) => p.grad.copyFrom(start[i].grad));
    onGpu.step();
    const got = { sd: onGpu.stateDict(), data: dev.map((p) => p.data.download()) };
    for (const p of dev) p.data.free(), p.grad.free();
    expectSame(snapshot(reference, host), got);
  });
});

describe('CRC-32C', () => {
  it('the addon (or its fallback) and the bitwise definition agree with the check value and with each other, chunked or not', () => {
    const check = Buffer.from('123456789');
    expect(crc32c(check)).toBe(0xe3069283);
    expect(fallback(check)).toBe(0xe3069283);
    const data = new Uint8Array(10_007).map((_, i) => (i * 2654435761) >>> 24);
    const whole = crc32c(data);
    expect(fallback(data)).toBe(whole);
    expect(crc32c(data.subarray(5000), crc32c(data.subarray(0, 5000)))).toBe(whole);
    expect(fallback(data.subarray(777), fallback(data.subarray(0, 777)))).toBe(whole);
  });
});
