import { describe, expect, it } from 'vitest';
import { Adam, AdamW, AdaGrad, RMSProp, SparseAdam } from '../lib';
import { bf16Narrow, bf16Widen, f16Narrow, f16Widen } from '../lib/compact/convert';
import { SIGNED_MAP, UNSIGNED_MAP, q8Code, q8Narrow, q8Widen } from '../lib/compact/quant8';
import { loadNative } from '../lib/backends/load';
import { CompactSlot, Storage, mapOf } from '../lib/compact/slot';
import { freeState } from '../lib/state';
import { CASES, fillGrads, makeParams } from './cases';
import { NATIVE_ISAS, NO_NATIVE, firstBitDifference, itUnless } from './helpers';

const bits = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0];
const fromBits = (b: number): number => new Float32Array(Uint32Array.of(b).buffer)[0];

describe('bf16 and fp16 rounding: known answers', () => {
  it.each([
    [0x3f800000, 0x3f80], // 1
    [0x3f808000, 0x3f80], // tie, even below
    [0x3f818000, 0x3f82], // tie, even above
    [0x3f808001, 0x3f81], // just past the tie
    [0x7f7fffff, 0x7f80], // largest float32 overflows to Inf
    [0xff800000, 0xff80], // -Inf
    [0x7f800001, 0x7fc0], // signalling NaN becomes quiet
    [0xffc12345, 0xffc1], // NaN keeps sign and top payload
    [0x80000000, 0x8000], // -0
    [0x00008000, 0x0000], // subnormal tie to even (0)
    [0x00018000, 0x0002], // subnormal tie to even (2)
  ])('bf16Narrow(%s) = %s', (f, h) => {
    expect(bf16Narrow(f)).toBe(h);
    if ((h & 0x7fff) <= 0x7f80) expect(bf16Narrow(bf16Widen(h))).toBe(h);
  });

  it.each([
    [1, 0x3c00],
    [65504, 0x7bff],
    [65519.99609375, 0x7bff], // below the overflow threshold
    [65520, 0x7c00], // ties away to Inf (65504 is odd)
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // tie between 0 and 2^-24: even
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 units: even
    [5 * 2 ** -25, 0x0002], // tie between 2 and 3 units: even
    [1 + 2 ** -11, 0x3c00], // tie: even
    [1 + 3 * 2 ** -11, 0x3c02],
    [-0, 0x8000],
    [2 ** -14 - 2 ** -25, 0x0400], // rounds up into the normals
  ])('f16Narrow(%s) = %s', (x, h) => expect(f16Narrow(bits(x))).toBe(h));

  it('f16: every half widens exactly and narrows back to itself (NaN to a quiet NaN)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const w = f16Widen(h);
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      expect(f16Narrow(w)).toBe(isNaN ? h | 0x200 : h);
      if (!isNaN && (h & 0x7c00) !== 0x7c00) {
        const e = (h >> 10) & 0x1f, m = h & 0x3ff;
        const value = (h & 0x8000 ? -1 : 1) * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
        if (fromBits(w) !== value) expect.fail(`half ${h.toString(16)} widened to ${fromBits(w)}, not ${value}`);
      }
    }
  });
});

describe('the 8-bit dynamic maps', () => {
  it('signed: 127 negative values, 0, 127 positive, 1; endpoints', () => {
    const v = SIGNED_MAP.values;
    expect(v.length).toBe(256);
    expect(v[0]).toBe(Math.fround(-(0.1 + (63.5 * 0.9) / 64)));
    expect(v[0]).toBeCloseTo(-0.99296875, 7);
    expect(v[255]).toBe(1);
    expect(SIGNED_MAP.zero).toBe(127);
    expect(v[128]).toBe(Math.fround(1e-6 * 0.55)); // smallest positive: decade 10^-6, one step
    for (let i = 1; i < 256; i++) expect(v[i]).toBeGreaterThan(v[i - 1]);
  });

  it('unsigned: 0, 254 positive values, 1; endpoints', () => {
    const v = UNSIGNED_MAP.values;
    expect(v[0]).toBe(0);
    expect(UNSIGNED_MAP.zero).toBe(0);
    expect(v[1]).toBe(Math.fround(1e-6 * (0.1 + (0.5 * 0.9) / 2)));
    expect(v[254]).toBe(Math.fround(0.1 + (127.5 * 0.9) / 128));
    expect(v[255]).toBe(1);
    for (let i = 1; i < 256; i++) expect(v[i]).toBeGreaterThan(v[i - 1]);
  });

  it('codes: nearest value, ties to the lower code, NaN to code 0', () => {
    const m = SIGNED_MAP;
    expect(q8Code(m, 1)).toBe(255);
    expect(q8Code(m, -1)).toBe(0);
    expect(q8Code(m, 0)).toBe(127);
    expect(q8Code(m, NaN)).toBe(0);
    const mid = (m.values[200] + m.values[201]) / 2; // exact in float64
    expect(q8Code(m, mid)).toBe(200);
    expect(q8Code(m, m.values[200])).toBe(200);
    for (let i = 0; i < 256; i++) expect(q8Code(m, m.values[i])).toBe(i);
  });

  itUnless(NO_NATIVE)('the addon builds the same maps, bit for bit', () => {
    const b = loadNative().binding!;
    expect(firstBitDifference(b.quant8Maps.signed, SIGNED_MAP.values)).toBe(-1);
    expect(firstBitDifference(b.quant8Maps.unsigned, UNSIGNED_MAP.values)).toBe(-1);
  });
});

type Typed = Float32Array | Uint16Array | Uint8Array;
/** First differing byte of two typed arrays of the same kind, or -1. */
function firstByteDifference(a: Typed, b: Typed): number {
  if (a.constructor !== b.constructor || a.length !== b.length) return 0;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

// Lengths around the 8-bit threshold (4096) and the block (256), and one tensor of several chunks.
const LENGTHS = [1, 17, 300, 4095, 4096, 4353, 40000];

function run(c: (typeof CASES)[number], extra: Record<string, unknown>, steps = 8, seed = 11) {
  const params = makeParams(LENGTHS, seed);
  const opt = c.make(params, { ...c.options, ...extra });
  for (let t = 1; t <= steps; t++) {
    fillGrads(params, seed, t);
    opt.step();
  }
  return { params, opt, state: opt.stateDict() };
}

function expectSameRun(a: ReturnType<typeof run>, b: ReturnType<typeof run>): void {
  a.params.forEach((p, i) => {
    expect({ param: p.name, at: firstBitDifference(p.data, b.params[i].data) }).toEqual({ param: p.name, at: -1 });
    const slots = a.state.state[p.name];
    expect(Object.keys(slots).sort()).toEqual(Object.keys(b.state.state[p.name]).sort());
    for (const [slot, array] of Object.entries(slots))
      expect({ param: p.name, slot, at: firstByteDifference(array, b.state.state[p.name][slot]) }).toEqual({ param: p.name, slot, at: -1 });
  });
}

describe.each(['bf16', 'int8'] as const)('stateDtype %s: every optimizer and option, native equals js bit for bit', (stateDtype) => {
  // Centred RMSProp refuses int8 state (a test below).
  const cases = CASES.filter((c) => !c.label.startsWith('SparseAdam') && !(stateDtype === 'int8' && (c.options as { centered?: boolean }).centered));
  describe.each(cases)('$label', (c) => {
    const reference = run(c, { backend: 'js', stateDtype });
    itUnless(NO_NATIVE)('native (best ISA) gives the bits of js', () => expectSameRun(run(c, { backend: 'native', stateDtype }), reference));
  });
});

describe.each(['bf16', 'int8'] as const)('stateDtype %s: Adam and AdamW on every ISA and thread count', (stateDtype) => {
  const adam = CASES.find((c) => c.label.startsWith('Adam {"amsgrad":true'))!;
  const reference = run(adam, { backend: 'js', stateDtype, weightDecay: 0.01 });
  it.each(NATIVE_ISAS)('native/%s', (isa) => expectSameRun(run(adam, { backend: 'native', isa, stateDtype, weightDecay: 0.01 }), reference));
  it.each([1, 2, 3, 7])('%i threads', (threads) => expectSameRun(run(adam, { backend: 'native', threads, stateDtype, weightDecay: 0.01 }), reference));
  it('stores what it says, and the state moves (the comparison is not between unchanged arrays)', () => {
    const slots = reference.state.state.p5;
    if (stateDtype === 'bf16') expect(slots.exp_avg).toBeInstanceOf(Uint16Array);
    else {
      expect(slots.exp_avg).toBeInstanceOf(Uint8Array);
      expect(slots.exp_avg_absmax).toBeInstanceOf(Float32Array);
      expect(slots.exp_avg_absmax.length).toBe(Math.ceil(4353 / 256));
      expect(reference.state.state.p3.exp_avg).toBeInstanceOf(Float32Array); // 4095 < 4096: fp32
    }
    expect(new Set(slots.exp_avg).size).toBeGreaterThan(20);
    const fresh = run(adam, { backend: 'js', stateDtype }, 0);
    expect(firstBitDifference(fresh.params[5].data, reference.params[5].data)).not.toBe(-1);
  });
  const adamw = (p: ReturnType<typeof makeParams>, x: Record<string, unknown>) => new AdamW(p, x);
  itUnless(NO_NATIVE)('AdamW', () => {
    const c = { label: 'AdamW', make: adamw as never, options: { lr: 0.01, weightDecay: 0.1 } };
    expectSameRun(run(c, { backend: 'native', stateDtype }), run(c, { backend: 'js', stateDtype }));
  });
  itUnless(NO_NATIVE)('stepAsync gives the bits of step', async () => {
    const params = makeParams(LENGTHS, 11);
    const opt = adam.make(params, { ...adam.options, backend: 'native', stateDtype, weightDecay: 0.01 });
    for (let t = 1; t <= 8; t++) {
      fillGrads(params, 11, t);
      await opt.stepAsync();
    }
    expectSameRun({ params, opt, state: opt.stateDict() }, reference);
  });
});

describe('conversions on every ISA (through a compact plan): bf16 and fp16 narrowing equal the TypeScript functions', () => {
  // SGD with lr = -1 writes p = 0 - (-1*g) = g into a half-precision param: the narrowing of g.
  const values = new Float32Array(8192);
  const u = new Uint32Array(values.buffer);
  for (let i = 0; i < u.length; i++) {
    const r = Math.imul(i + 1, 2654435761) >>> 0;
    // Every exponent, ties (low bits 0x8000 / 0x1000), subnormals and the fp16 overflow edge.
    u[i] = i % 4 === 0 ? (r & 0xffff0000) | 0x8000 : i % 4 === 1 ? (r & 0xffffe000) | 0x1000 : r;
    if ((u[i] & 0x7fffffff) > 0x7f800000 || values[i] === 0) u[i] = 0x3f800000; // NaN and signed zeros: elsewhere
  }
  u[0] = bits(65520);
  u[1] = bits(65504);
  u[2] = bits(2 ** -25);
  u[3] = bits(3 * 2 ** -25);
  it.each(NATIVE_ISAS.flatMap((isa) => [[isa, 1], [isa, 2]] as const))('native/%s storage %i', (isa, storage) => {
    const b = loadNative().binding!;
    const param = new Uint16Array(values.length);
    const plan = new b.CompactPlan(b.rules.sgd.id, [param, values, null], Uint8Array.of(storage, 0, 0), [null, null, null], undefined, b.isas.indexOf(isa), 2);
    plan.step(Float32Array.of(-1, 0, 1, 0, 1), Uint32Array.of(0));
    const narrow = storage === 1 ? bf16Narrow : f16Narrow;
    for (let i = 0; i < values.length; i++) if (param[i] !== narrow(u[i])) expect.fail(`element ${i} (${u[i].toString(16)}): ${param[i].toString(16)}, not ${narrow(u[i]).toString(16)}`);
  });
});

describe('bf16 moment slots on every ISA (converted in registers): narrowing equals the TypeScript function', () => {
  // SGD's first momentum step stores buf = g: the narrowing of g into a bf16 momentum buffer. NaN,
  // infinities, zeros and ties included; a length that is no multiple of any vector width.
  const values = new Float32Array(8192 + 13);
  const u = new Uint32Array(values.buffer);
  for (let i = 0; i < u.length; i++) {
    const r = Math.imul(i + 1, 2654435761) >>> 0;
    u[i] = i % 3 === 0 ? (r & 0xffff0000) | 0x8000 : r;
  }
  u.set([0x7f800000, 0xff800000, 0x7f7fffff, 0x7f7f8000, 0x80000000, 0, 0x7f800001, 0xffffffff, 0x7fbfffff, 0x00008000, 0x00018000], 0);
  u.set([0x7f800001, 0x3f808000, 0xff7fffff], u.length - 3);
  it.each(NATIVE_ISAS.flatMap((isa) => [[isa, 1], [isa, 2]] as const))('native/%s, %i threads', (isa, threads) => {
    const b = loadNative().binding!;
    const param = new Float32Array(values.length);
    const buf = new Uint16Array(values.length);
    const plan = new b.CompactPlan(b.rules.sgd.id, [param, values, buf], Uint8Array.of(0, 0, 1), [null, null, null], undefined, b.isas.indexOf(isa), threads);
    plan.step(Float32Array.of(0, 0.9, 1, 0, 1), Uint32Array.of(b.flags.momentum | b.flags.firstStep));
    for (let i = 0; i < values.length; i++) if (buf[i] !== bf16Narrow(u[i])) expect.fail(`element ${i} (${u[i].toString(16)}): ${buf[i].toString(16)}, not ${bf16Narrow(u[i]).toString(16)}`);
  });
});

describe('8-bit codes on every ISA (through a compact plan): every midpoint and its neighbours, NaN, Inf, zeros', () => {
  // SGD's first momentum step stores buf = g: the quantisation of g. Blocks led by +-1 (absmax 1,
  // so x/absmax = x) hold each midpoint rounded to float32 and the floats on either side of it;
  // then a NaN block, an Inf block, a zero block, a block of other values and a short tail. The
  // second step (momentum 1, no dampening term, zero grad, lr -1) writes p = the widened buf.
  const build = (map: typeof SIGNED_MAP): Float32Array => {
    const body: number[] = [];
    for (const mid of map.mids) {
      const f = Math.fround(mid);
      body.push(fromBits(bits(f) - 1), f, fromBits(bits(f) + 1));
    }
    const out: number[] = [];
    for (let i = 0; i < body.length; i += 255) out.push(out.length % 512 ? -1 : 1, ...body.slice(i, i + 255));
    while (out.length % 256) out.push(0.25);
    const block = (f: (i: number) => number) => Array.from({ length: 256 }, (_, i) => f(i));
    out.push(...block((i) => (i === 7 ? NaN : i / 300)), ...block((i) => (i === 9 ? -Infinity : i - 100)));
    out.push(...block(() => 0), ...block((i) => Math.sin(i) * 3e-3), 5, -2, 1e-7, 0, 0.5);
    return Float32Array.from(out);
  };
  it.each(NATIVE_ISAS.flatMap((isa) => [[isa, 3], [isa, 4]] as const))('native/%s storage %i', (isa, storage) => {
    const b = loadNative().binding!;
    const map = storage === 3 ? SIGNED_MAP : UNSIGNED_MAP;
    const g = build(map);
    const n = g.length, blocks = Math.ceil(n / 256);
    const param = new Float32Array(n), codes = new Uint8Array(n), absmax = new Float32Array(blocks);
    const plan = new b.CompactPlan(b.rules.sgd.id, [param, g, codes], Uint8Array.of(0, 0, storage), [null, null, absmax], undefined, b.isas.indexOf(isa), 2);
    plan.step(Float32Array.of(0, 0.9, 1, 0, 1), Uint32Array.of(b.flags.momentum | b.flags.firstStep));
    const want = new Uint8Array(n);
    for (let k = 0; k < blocks; k++) {
      const len = Math.min(256, n - 256 * k);
      const a = q8Narrow(map, g.slice(256 * k, 256 * k + len), want.subarray(256 * k), len);
      if (!Object.is(absmax[k], Math.fround(a))) expect.fail(`block ${k}: absmax ${absmax[k]}, not ${a}`);
    }
    for (let i = 0; i < n; i++) if (codes[i] !== want[i]) expect.fail(`element ${i} (${g[i]}): code ${codes[i]}, not ${want[i]}`);
    const scales = absmax.slice();
    g.fill(0);
    param.fill(0);
    plan.step(Float32Array.of(-1, 1, 0, 0, 1), Uint32Array.of(b.flags.momentum));
    for (let k = 0; k < blocks; k++) {
      const len = Math.min(256, n - 256 * k);
      const widened = new Float32Array(len);
      q8Widen(map, want.subarray(256 * k), scales[k], widened, len);
      for (let i = 0; i < len; i++)
        if (!Object.is(param[256 * k + i], widened[i])) expect.fail(`element ${256 * k + i}: widened ${param[256 * k + i]}, not ${widened[i]}`);
    }
  });
});

const big = (n = 10000, seed = 3) => makeParams([n], seed);

describe('state dicts of compact state', () => {
  const steps = (opt: { step(): boolean }, params: ReturnType<typeof makeParams>, from: number, to: number) => {
    for (let t = from; t <= to; t++) {
      fillGrads(params, 5, t);
      opt.step();
    }
  };

  it.each(['bf16', 'int8'] as const)('%s: save, load into a fresh optimizer, step on: the bits of never stopping', (stateDtype) => {
    const a = big(), b = big();
    const optA = new Adam(a, { lr: 0.01, stateDtype, backend: 'js' });
    const optB = new Adam(b, { lr: 0.01, stateDtype, backend: 'js' });
    steps(optA, a, 1, 5);
    steps(optB, b, 1, 5);
    const sd = optB.stateDict();
    const c = big();
    c[0].data.set(b[0].data);
    const optC = new Adam(c, { lr: 0.01, stateDtype, backend: 'js' });
    optC.loadStateDict(sd);
    steps(optA, a, 6, 9);
    steps(optC, c, 6, 9);
    expect(firstBitDifference(a[0].data, c[0].data)).toBe(-1);
    expect(firstByteDifference(optA.stateDict().state.p0.exp_avg, optC.stateDict().state.p0.exp_avg)).toBe(-1);
  });

  it('fp32 -> int8 quantises, int8 -> fp32 dequantises, bf16 -> int8 converts', () => {
    const p = big();
    const fp32 = new Adam(p, { lr: 0.01, backend: 'js' });
    steps(fp32, p, 1, 3);
    const sd = fp32.stateDict();
    const int8 = new Adam(big(), { lr: 0.01, stateDtype: 'int8', backend: 'js' });
    int8.loadStateDict(sd);
    const q = int8.stateDict();
    expect(q.state.p0.exp_avg).toBeInstanceOf(Uint8Array);
    const back = new Adam(big(), { lr: 0.01, backend: 'js' });
    back.loadStateDict(q);
    const m = sd.state.p0.exp_avg as Float32Array, mq = back.stateDict().state.p0.exp_avg as Float32Array;
    expect(mq).toBeInstanceOf(Float32Array);
    // Block-wise: each value within the map's spacing (at most 0.9/128 of the decade, ~1.4%) of its block's absmax.
    for (let blk = 0; blk < m.length; blk += 256) {
      const block = m.subarray(blk, blk + 256);
      const absmax = Math.max(...block.map(Math.abs));
      block.forEach((x, i) => expect(Math.abs(mq[blk + i] - x)).toBeLessThanOrEqual(absmax * 0.0071));
    }
    const bf = new Adam(big(), { lr: 0.01, stateDtype: 'bf16', backend: 'js' });
    bf.loadStateDict(q);
    expect(bf.stateDict().state.p0.exp_avg).toBeInstanceOf(Uint16Array);
  });

  it('bad compact slots: wrong type, length, absmax; nothing changes', () => {
    const p = big();
    const opt = new Adam(p, { lr: 0.01, stateDtype: 'int8', backend: 'js' });
    steps(opt, p, 1, 2);
    const good = opt.stateDict();
    const before = opt.stateDict();
    const withSlot = (slot: Record<string, unknown>) => ({ ...good, state: { p0: { ...good.state.p0, ...slot } } }) as never;
    expect(() => opt.loadStateDict(withSlot({ exp_avg_absmax: new Float32Array(3) }))).toThrow(/exp_avg_absmax has length 3, expected 40/);
    expect(() => opt.loadStateDict(withSlot({ exp_avg_absmax: new Uint8Array(40) }))).toThrow(TypeError);
    expect(() => opt.loadStateDict(withSlot({ exp_avg: new Uint8Array(9) }))).toThrow(/exp_avg has length 9/);
    expect(() => opt.loadStateDict(withSlot({ exp_avg: new Int16Array(10000) }))).toThrow(/must be a Float32Array \(fp32\), Uint16Array \(bf16\) or Uint8Array/);
    expect(() => opt.loadStateDict(withSlot({ exp_avg: new Float32Array(10000), exp_avg_absmax: new Float32Array(40) }))).toThrow(/exp_avg_absmax is given, but/);
    const { exp_avg_absmax: _drop, ...noAbsmax } = good.state.p0 as Record<string, unknown>;
    expect(() => opt.loadStateDict({ ...good, state: { p0: noAbsmax } } as never)).toThrow(/exp_avg_absmax must be a Float32Array/);
    const after = opt.stateDict();
    for (const k of Object.keys(before.state.p0)) expect(firstByteDifference(after.state.p0[k], before.state.p0[k])).toBe(-1);
  });
});

describe('options and stateBytes', () => {
  it('stateBytes counts codes, absmax and fp32 slots', () => {
    const n = 10000, blocks = Math.ceil(n / 256);
    expect(new Adam(big(n), { lr: 0.01 }).stateBytes).toBe(2 * 4 * n);
    expect(new Adam(big(n), { lr: 0.01, stateDtype: 'bf16' }).stateBytes).toBe(2 * 2 * n);
    expect(new Adam(big(n), { lr: 0.01, stateDtype: 'int8' }).stateBytes).toBe(2 * (n + 4 * blocks));
    expect(new Adam(big(n), { lr: 0.01, stateDtype: 'int8', amsgrad: true }).stateBytes).toBe(3 * (n + 4 * blocks));
    expect(new Adam(big(4095), { lr: 0.01, stateDtype: 'int8' }).stateBytes).toBe(2 * 4 * 4095); // under 4096: fp32
  });

  it('errors name the option; a bad value is refused', () => {
    expect(() => new Adam(big(), { lr: 0.01, stateDtype: 'fp16' as never })).toThrow(new RangeError("Adam: option 'stateDtype' must be one of 'fp32', 'bf16', 'int8', got \"fp16\""));
    expect(() => new Adam(big(), { lr: 0.01, stateDtype: 8 as never })).toThrow(TypeError);
    expect(() => new RMSProp(big(), { lr: 0.01, stateDtype: 'int8', centered: true })).toThrow(/'centered' RMSProp cannot keep int8 state/);
    const opt = new RMSProp(big(), { lr: 0.01, stateDtype: 'int8' });
    expect(() => (opt.paramGroups[0].centered = true)).toThrow(RangeError);
    expect(opt.paramGroups[0].centered).toBe(false);
    const sparse = { name: 'e', data: new Float32Array(8192), grad: new Float32Array(8), indices: new Int32Array(1), rowSize: 8 };
    expect(() => new SparseAdam([sparse] as never, { lr: 0.01, stateDtype: 'int8' })).toThrow(/row-sparse/);
  });

  it('a block of zeros keeps the code of 0 and absmax 0; AdaGrad starts at its initial value', () => {
    const p = big(5000);
    const opt = new Adam(p, { lr: 0.01, stateDtype: 'int8', backend: 'js' });
    p[0].grad.fill(0);
    p[0].grad.fill(1, 256); // block 0 stays zero
    opt.step();
    const sd = opt.stateDict().state.p0;
    expect(sd.exp_avg_absmax[0]).toBe(0);
    expect([...(sd.exp_avg as Uint8Array).subarray(0, 256)].every((c) => c === SIGNED_MAP.zero)).toBe(true);
    expect([...(sd.exp_avg_sq as Uint8Array).subarray(0, 256)].every((c) => c === UNSIGNED_MAP.zero)).toBe(true);
    expect(sd.exp_avg_absmax[1]).toBe(Math.fround(0.1)); // (1-beta1)*1
    const ada = new AdaGrad(big(5000), { lr: 0.01, stateDtype: 'int8', initialAccumulatorValue: 0.3 });
    const sum = ada.stateDict().state.p0;
    expect(sum.sum_absmax[0]).toBe(Math.fround(0.3));
    expect((sum.sum as Uint8Array)[7]).toBe(255);
  });
});

describe('8-bit codes on every ISA equal the TypeScript reference at the midpoints', () => {
  // SGD's first momentum step stores buf = g: with int8 momentum, the codes of g / absmax. Each
  // block holds 1 (its absmax) and values at, and one float32 either side of, map midpoints.
  const blocks = 16;
  const next = (x: number, up: boolean) => fromBits(bits(x) + ((x > 0) === up ? 1 : -1));
  for (const [map, storage] of [[SIGNED_MAP, 3], [UNSIGNED_MAP, 4]] as const) {
    const g = new Float32Array(blocks * 256);
    let k = 0;
    for (let blk = 0; blk < blocks; blk++) {
      g[blk * 256] = 1;
      for (let i = 1; i < 256; i++, k++) {
        const mid = Math.fround(map.mids[(k * 7) % 255]);
        g[blk * 256 + i] = i % 3 === 0 ? mid : mid === 0 ? 0 : next(mid, i % 3 === 1);
      }
    }
    g[5] = NaN; // block 0: NaN absmax, every code 0
    it.each(NATIVE_ISAS)(`native/%s, ${storage === 3 ? 'signed' : 'unsigned'} map`, (isa) => {
      const b = loadNative().binding!;
      const codes = new Uint8Array(g.length), absmax = new Float32Array(blocks);
      const plan = new b.CompactPlan(b.rules.sgd.id, [new Float32Array(g.length), g, codes], Uint8Array.of(0, 0, storage), [null, null, absmax], undefined, b.isas.indexOf(isa), 1);
      plan.step(Float32Array.of(0, 0.9, 1, 0, 1), Uint32Array.of(b.flags.momentum | b.flags.firstStep));
      expect(Number.isNaN(absmax[0])).toBe(true);
      expect([...codes.subarray(0, 256)].every((c) => c === 0)).toBe(true);
      for (let i = 256; i < g.length; i++) {
        const want = q8Code(map, Math.fround(g[i] / absmax[i >> 8]));
        if (codes[i] !== want) expect.fail(`element ${i} (${g[i]}): code ${codes[i]}, not ${want}`);
      }
      expect(new Set(codes).size).toBeGreaterThan(150); // most of the map is exercised
    });
  }
});

describe('compact slot memory', () => {
  // Slots live in allocFloat32 memory (aligned; huge pages when large), which dispose() gives back
  // through freeState.
  itUnless(NO_NATIVE)('codes view allocFloat32 memory, released by freeState', () => {
    for (const storage of [Storage.bf16, Storage.q8Signed, Storage.q8Unsigned] as const) {
      const slot = new CompactSlot(storage, 5000);
      expect(slot.codes.buffer).toBe(slot.memory.buffer);
      expect(slot.codes.byteOffset).toBe(slot.memory.byteOffset);
      expect(slot.codes.length).toBe(5000);
      if (storage !== Storage.bf16) expect(slot.codes[4999]).toBe(mapOf(storage).zero);
      const entry = { state: new Map([['exp_avg', slot]]) } as unknown as Parameters<typeof freeState>[0][number];
      freeState([entry]);
      expect(slot.memory.buffer.byteLength).toBe(0);
    }
  });
});
