import { describe, expect, it } from 'vitest';
import { Adam, SGD } from '../lib';
import { bf16Narrow, bf16Widen, f16Narrow, f16Widen } from '../lib/compact/convert';
import { bf16NarrowSr, f16NarrowSr, srHash, srKey, srMix } from '../lib/compact/stochastic';
import { loadNative } from '../lib/backends/load';
import { NATIVE_ISAS, NO_NATIVE, rng } from './helpers';

const bits = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0];
const fromBits = (b: number): number => new Float32Array(Uint32Array.of(b).buffer)[0];

type Dtype = 'bf16' | 'fp16';
const narrow = (dtype: Dtype, x: number): number => (dtype === 'bf16' ? bf16Narrow(bits(x)) : f16Narrow(bits(x)));
const widen = (dtype: Dtype, h: number): number => fromBits(dtype === 'bf16' ? bf16Widen(h) : f16Widen(h));

describe('stochastic rounding: known answers', () => {
  it('the mixer is murmur3 fmix32 (published values), the key and hash chain it over the counters', () => {
    expect(srMix(0)).toBe(0);
    expect(srMix(1)).toBe(0x514e28b7);
    expect(srMix(2)).toBe(0x30f4c306);
    expect(srMix(0xdeadbeef)).toBe(0x0de5c6a9);
    // An independent formula: BigInt arithmetic mod 2^32.
    const mix = (x: bigint): bigint => {
      const m = (1n << 32n) - 1n;
      x ^= x >> 16n;
      x = (x * 0x85ebca6bn) & m;
      x ^= x >> 13n;
      x = (x * 0xc2b2ae35n) & m;
      return x ^ (x >> 16n);
    };
    for (const [seed, step, param, element] of [
      [0, 1, 0, 0],
      [0, 1, 0, 255],
      [42, 7, 3, 1000],
      [2 ** 32 - 1, 123456, 9, 2 ** 31 + 5],
    ]) {
      const key = mix(mix(mix(BigInt(seed)) ^ BigInt(step)) ^ BigInt(param));
      expect(srKey(seed, step, param)).toBe(Number(key));
      expect(srHash(srKey(seed, step, param), element)).toBe(Number(mix(key ^ BigInt(element))));
    }
    expect(srKey(0, 1, 0)).toBe(0x2fef5c8f);
    expect(srHash(0x2fef5c8f, 1)).toBe(0xbb704eb1);
    // Step and element count mod 2^32.
    expect(srKey(5, 2 ** 32 + 3, 1)).toBe(srKey(5, 3, 1));
  });

  it.each([
    // [float32 bits, hash, bf16]: the hash's low 16 bits are added, then truncated.
    [0x3f808000, 0x7fff, 0x3f80],
    [0x3f808000, 0x8000, 0x3f81],
    [0x3f800000, 0xffff, 0x3f80], // exact values never move
    [0x3f80ffff, 0x0001, 0x3f81],
    [0xbf808000, 0x8000, 0xbf81], // magnitude rounds, sign kept
    [0x7f7fffff, 0x0001, 0x7f80], // past the largest bf16: Inf
    [0x7f800000, 0xffff, 0x7f80], // Inf stays
    [0x7f800001, 0x1234, 0x7fc0], // NaN: quiet
    [0x00008000, 0x8000, 0x0001], // float32 subnormal, same rule
    [0x3f808000, 0xabcd7fff, 0x3f80], // only the low 16 bits count
  ])('bf16NarrowSr(%s, %s) = %s', (f, h, out) => expect(bf16NarrowSr(f, h)).toBe(out));

  it.each([
    // [value, hash, fp16]: normals add the low 13 bits.
    [1 + 2 ** -11, 0x0fff, 0x3c00],
    [1 + 2 ** -11, 0x1000, 0x3c01],
    [1, 0x1fff, 0x3c00],
    [-(1 + 2 ** -11), 0x1000, 0xbc01],
    [65504 + 16, 0x0fff, 0x7bff],
    [65504 + 16, 0x1000, 0x7c00], // to Inf with the probability of the next step (32) up
    [65536, 0, 0x7c00],
    [Infinity, 0, 0x7c00],
    // Subnormals: s = 126 - e bits dropped, the low s bits of the hash added.
    [2 ** -25, 0x7fffff, 0x0000],
    [2 ** -25, 0x800000, 0x0001],
    [2 ** -24 * 1.25, 0x5fffff, 0x0001], // e = 103, s = 23: 0xa00000 + 0x5fffff < 2^24
    [2 ** -24 * 1.25, 0x600000, 0x0002],
    [2 ** -24 * 1.25, 0xff800000, 0x0001], // only the low 23 bits count
    [2 ** -15, 0, 0x0200],
    [2 ** -14 - 2 ** -24, 0x3fff, 0x03ff], // exactly 1023 units: never moves
    [2 ** -14 - 2 ** -25, 0x1fff, 0x03ff], // e = 112, s = 14: 0xffe000 + 0x1fff < 2^24
    [2 ** -14 - 2 ** -25, 0x2000, 0x0400], // into the normals
    [2 ** -32, 0xffffffff, 0x0001], // e = 95, s = 31: 2^23 + 2^31 - 1 >> 31
    [2 ** -32, 0x7fffffff, 0x0001],
    [2 ** -32, 0x77ffffff, 0x0000],
    [2 ** -33, 0xffffffff, 0x0000], // below 2^-32: truncated
  ])('f16NarrowSr(%s, %s) = %s', (x, h, out) => expect(f16NarrowSr(bits(x), h)).toBe(out));

  it('fp16 NaN stays a quiet NaN with its sign', () => {
    expect(f16NarrowSr(0xffc12345, 0xffffffff)).toBe(0xfe00 | ((0x7fc12345 >>> 13) & 0x3ff));
    expect(f16NarrowSr(0x7f800001, 0)).toBe(0x7e00);
  });

  it.each([
    ['bf16', 1 + 0.3 * 2 ** -7, 2 ** -7],
    ['bf16', -3.7e-3, 2 ** -16], // [2^-9, 2^-8): step 2^-9 * 2^-7
    ['fp16', 1 + 0.7 * 2 ** -10, 2 ** -10],
    ['fp16', 3.3 * 2 ** -24, 2 ** -24], // subnormal
  ] as const)('unbiased: the mean of %s rounding of %s over 2^17 elements is within 5 sigma', (dtype, value, ulp) => {
    const x = Math.fround(value);
    const n = 2 ** 17;
    const key = srKey(7, 11, 2);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const h = srHash(key, i);
      const r = dtype === 'bf16' ? bf16NarrowSr(bits(x), h) : f16NarrowSr(bits(x), h);
      sum += widen(dtype, r);
    }
    const below = widen(dtype, dtype === 'bf16' ? bits(x) >>> 16 : f16NarrowSr(bits(x), 0));
    const f = (Math.abs(x) - Math.abs(below)) / ulp;
    expect(f).toBeGreaterThan(0.05);
    expect(f).toBeLessThan(0.95);
    const sigma = ulp * Math.sqrt((f * (1 - f)) / n);
    expect(Math.abs(sum / n - x)).toBeLessThan(5 * sigma);
    // Truncation would be off by f ulps: the test can tell.
    expect(Math.abs(below - x)).toBeGreaterThan(50 * sigma);
  });
});

describe('native plan: stochastic rounding and the master copy of edge values, on every ISA', () => {
  // SGD with lr -1 from a zero param: p = g exactly, then narrowed. Every exponent, subnormals of
  // both formats, the fp16 overflow edge; no NaN (its sign after arithmetic is not specified).
  const n = 3000;
  const next = rng(77);
  const u = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    u[i] = (Math.floor(next() * 2 ** 32) >>> 0) % 0xff800000;
    if ((u[i] & 0x7fffffff) >= 0x7f800000) u[i] = 0x3f800000;
  }
  u.set([bits(65520), bits(65535), bits(65536), bits(2 ** -25), bits(2 ** -32), bits(2 ** -33), 0x00000001, bits(-(2 ** -14 - 2 ** -25))]);
  const values = new Float32Array(u.buffer);
  const scalars = Float32Array.of(-1, 0, 1, 0, 1);
  const [seed, step, index] = [5, 7, 2];
  it.skipIf(NO_NATIVE[0]).each(NATIVE_ISAS.flatMap((isa) => [[isa, 1], [isa, 2]] as const))('native/%s storage %i, stochastic', (isa, storage) => {
    const b = loadNative().binding!;
    const param = new Uint16Array(n);
    const half = { seed, params: [{ index, mirror: null }] };
    const plan = new b.CompactPlan(b.rules.sgd.id, [param, values, null], Uint8Array.of(storage, 0, 0), [null, null, null], undefined, b.isas.indexOf(isa), 3, half);
    plan.step(scalars, Uint32Array.of(0), step);
    const key = srKey(seed, step, index);
    const sr = storage === 1 ? bf16NarrowSr : f16NarrowSr;
    for (let i = 0; i < n; i++) if (param[i] !== sr(u[i], srHash(key, i))) expect.fail(`element ${i} (${u[i].toString(16)}): ${param[i].toString(16)}, not ${sr(u[i], srHash(key, i)).toString(16)}`);
  });
  it.skipIf(NO_NATIVE[0]).each(NATIVE_ISAS.flatMap((isa) => [[isa, 1], [isa, 2]] as const))('native/%s storage %i, master copy', (isa, storage) => {
    const b = loadNative().binding!;
    const master = new Float32Array(n), mirror = new Uint16Array(n);
    const half = { seed, params: [{ index, mirror }] };
    const plan = new b.CompactPlan(b.rules.sgd.id, [master, new Uint16Array(n), null], Uint8Array.of(0, storage, 0), [null, null, null], undefined, b.isas.indexOf(isa), 3, half);
    // lr 0 and a zero grad leave the master as it is: the step only copies it into the mirror.
    master.set(values);
    plan.step(Float32Array.of(0, 0, 1, 0, 1), Uint32Array.of(0));
    const rne = storage === 1 ? bf16Narrow : f16Narrow;
    for (let i = 0; i < n; i++) if (mirror[i] !== rne(u[i])) expect.fail(`element ${i} (${u[i].toString(16)}): ${mirror[i].toString(16)}, not ${rne(u[i]).toString(16)}`);
    expect(new Uint32Array(master.buffer)).toEqual(u);
  });
  it.skipIf(NO_NATIVE[0])('the plan refuses a mirror of another length, a float32 grad, and a missing step', () => {
    const b = loadNative().binding!;
    const make = (arrays: Array<Float32Array | Uint16Array | null>, storages: number[], half: unknown) =>
      new b.CompactPlan(b.rules.sgd.id, arrays, Uint8Array.from(storages), [null, null, null], undefined, 0, 1, half as never);
    expect(() => make([new Float32Array(4), new Uint16Array(4), null], [0, 1, 0], { seed: 0, params: [{ index: 0, mirror: new Uint16Array(5) }] })).toThrow(/mirror has a different length/);
    expect(() => make([new Float32Array(4), new Float32Array(4), null], [0, 0, 0], { seed: 0, params: [{ index: 0, mirror: new Uint16Array(4) }] })).toThrow(/the grad must be bf16 or fp16/);
    expect(() => make([new Float32Array(4), new Float32Array(4), null], [0, 0, 0], { seed: 0, params: [{ index: 0, mirror: null }] })).toThrow(/the param slot must be bf16 or fp16/);
    expect(() => make([new Uint16Array(4), new Uint16Array(4), null], [1, 1, 0], { seed: 0, params: [] })).toThrow(/one entry per tensor/);
    const plan = make([new Uint16Array(4), new Uint16Array(4), null], [1, 1, 0], { seed: 0, params: [{ index: 0, mirror: null }] });
    expect(() => plan.step(scalars, Uint32Array.of(0))).toThrow(/step \(a number\) is required/);
  });
});

// Three parameters: one large enough for int8 state (4096+), one not, one shorter than a block.
const LENGTHS = [4100, 300, 17];

function makeHalf(dtype: Dtype, seed: number): Array<{ name: string; data: Uint16Array; grad: Uint16Array; dtype: Dtype }> {
  const next = rng(seed);
  return LENGTHS.map((n, i) => {
    const data = new Uint16Array(n);
    for (let k = 0; k < n; k++) data[k] = narrow(dtype, (next() - 0.5) * 2 * 10 ** (Math.floor(next() * 3) - 2));
    return { name: `w${i}`, data, grad: new Uint16Array(n), dtype };
  });
}

function setGrads(params: ReturnType<typeof makeHalf>, step: number): void {
  const next = rng(1000 + step);
  for (const p of params) for (let k = 0; k < p.grad.length; k++) p.grad[k] = narrow(p.dtype, (next() - 0.5) * 10 ** (Math.floor(next() * 4) - 3));
}

type Make = (params: ReturnType<typeof makeHalf>, options: Record<string, unknown>) => Adam | SGD;
const OPTIMIZERS: Array<[string, Make]> = [
  ['Adam', (p, o) => new Adam(p, { lr: 1e-2, weightDecay: 0.01, ...o })],
  ['SGD', (p, o) => new SGD(p, { lr: 1e-2, momentum: 0.9, ...o })],
];

/** Every parameter's bits and every state slot's bits after `steps` steps. */
function run(make: Make, dtype: Dtype, options: Record<string, unknown>, steps = 3): { params: Uint16Array[]; state: Record<string, Record<string, ArrayLike<number>>> } {
  const params = makeHalf(dtype, 5);
  const opt = make(params, { seed: 9, ...options });
  for (let s = 1; s <= steps; s++) {
    setGrads(params, s);
    opt.step();
  }
  const sd = opt.stateDict();
  opt.dispose();
  const state: Record<string, Record<string, ArrayLike<number>>> = {};
  for (const [name, slots] of Object.entries(sd.state))
    state[name] = Object.fromEntries(Object.entries(slots).map(([k, a]) => [k, a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : a]));
  return { params: params.map((p) => p.data), state };
}

function expectSame(a: ReturnType<typeof run>, b: ReturnType<typeof run>): void {
  a.params.forEach((p, i) => expect(Buffer.from(b.params[i].buffer).equals(Buffer.from(p.buffer)), `param ${i}`).toBe(true));
  expect(Object.keys(b.state)).toEqual(Object.keys(a.state));
  for (const name of Object.keys(a.state)) {
    expect(Object.keys(b.state[name])).toEqual(Object.keys(a.state[name]));
    for (const [slot, x] of Object.entries(a.state[name])) expect(Array.from(b.state[name][slot]), `${name}.${slot}`).toEqual(Array.from(x));
  }
}

for (const [optName, make] of OPTIMIZERS)
  for (const dtype of ['bf16', 'fp16'] as const)
    for (const masterWeights of [true, false])
      for (const stateDtype of ['fp32', 'bf16', 'int8'] as const)
        describe(`${optName}, ${dtype} params, masterWeights ${masterWeights}, stateDtype ${stateDtype}: bitwise js == native`, () => {
          const options = { masterWeights, stateDtype };
          const reference = run(make, dtype, { backend: 'js', ...options });
          it('the parameters moved, and master exists exactly with masterWeights', () => {
            const start = makeHalf(dtype, 5);
            reference.params.forEach((p, i) => expect(p).not.toEqual(start[i].data));
            for (const slots of Object.values(reference.state)) expect('master' in slots).toBe(masterWeights);
          });
          it.each(NATIVE_ISAS)('native/%s', (isa) => expectSame(reference, run(make, dtype, { backend: 'native', isa, ...options })));
          it.skipIf(NO_NATIVE[0]).each([1, 2, 3, 7])('%i threads', (threads) => expectSame(reference, run(make, dtype, { backend: 'native', threads, ...options })));
        });

// Each group's stateDtype and masterWeights override the optimizer's (bf16 state, masters).
const mixedGroups: Make = (p, o) =>
  new Adam(
    [
      { params: [p[0]], stateDtype: 'int8', masterWeights: false },
      { params: [p[1]], amsgrad: true },
      { params: [p[2]], stateDtype: 'fp32', masterWeights: false, weightDecay: 0 },
    ],
    { lr: 1e-2, weightDecay: 0.01, stateDtype: 'bf16', masterWeights: true, ...o },
  );
describe.each(['bf16', 'fp16'] as const)('groups with their own stateDtype and masterWeights, %s params: bitwise js == native', (dtype) => {
  const reference = run(mixedGroups, dtype, { backend: 'js' }, 4);
  it("each group's storage took effect", () => {
    const { w0, w1, w2 } = reference.state;
    expect(['master' in w0, 'master' in w1, 'master' in w2]).toEqual([false, true, false]);
    expect([w0.exp_avg, w1.exp_avg, w2.exp_avg].map((a) => a.constructor)).toEqual([Uint8Array, Uint16Array, Uint32Array]);
  });
  it.each(NATIVE_ISAS)('native/%s', (isa) => expectSame(reference, run(mixedGroups, dtype, { backend: 'native', isa }, 4)));
  it.skipIf(NO_NATIVE[0]).each([1, 3])('%i threads', (threads) => expectSame(reference, run(mixedGroups, dtype, { backend: 'native', threads }, 4)));

  it("stateDict().groups records each group's storage; loading checks the record and converts to the loader's own storage", () => {
    const params = makeHalf(dtype, 5);
    const opt = mixedGroups(params, { backend: 'js' });
    setGrads(params, 1);
    opt.step();
    const dict = opt.stateDict();
    expect(dict.groups.map((g) => [g.stateDtype, g.masterWeights])).toEqual([['int8', false], ['bf16', true], ['fp32', false]]);
    // Into an optimizer whose groups all keep bf16 state without masters: the record is not applied.
    const other = makeHalf(dtype, 5);
    const into = new Adam(
      other.map((p) => ({ params: [p] })),
      { lr: 1e-2, stateDtype: 'bf16', masterWeights: false, backend: 'js' },
    );
    const noMasters = { ...dict, state: Object.fromEntries(Object.entries(dict.state).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).filter(([s]) => s !== 'master'))])) };
    into.loadStateDict(noMasters);
    expect(into.stateDict().groups.map((g) => g.stateDtype)).toEqual(['bf16', 'bf16', 'bf16']);
    expect(into.stateDict().state.w0.exp_avg).toBeInstanceOf(Uint16Array);
    const bad = (group: Record<string, unknown>) => ({ ...dict, groups: dict.groups.map((g, i) => (i === 1 ? { ...g, ...group } : g)) });
    expect(() => opt.loadStateDict(bad({ stateDtype: 'fp8' }))).toThrow(/groups\[1\] 'stateDtype' must be one of 'fp32', 'bf16', 'int8', got "fp8"/);
    expect(() => opt.loadStateDict(bad({ masterWeights: 1 }))).toThrow(/groups\[1\] 'masterWeights' must be a boolean/);
  });
});

describe('master weights', () => {
  it.each(['bf16', 'fp16'] as const)('%s: master starts as data widened exactly; after each step data = nearest-even(master)', (dtype) => {
    const params = makeHalf(dtype, 3);
    const opt = new Adam(params, { lr: 1e-3, backend: 'js' });
    const m0 = opt.stateDict().state.w0.master as Float32Array;
    for (let k = 0; k < m0.length; k++) expect(m0[k]).toBe(widen(dtype, params[0].data[k]));
    setGrads(params, 1);
    opt.step();
    const m = opt.stateDict().state.w0.master as Float32Array;
    expect(m).not.toEqual(m0);
    for (let k = 0; k < m.length; k++) if (params[0].data[k] !== narrow(dtype, m[k])) expect.fail(`element ${k}`);
  });

  it('stateBytes counts the master (4 bytes per parameter); none without it', () => {
    const n = LENGTHS.reduce((a, b) => a + b, 0);
    const withMaster = new SGD(makeHalf('bf16', 1), { lr: 0.1 });
    const without = new SGD(makeHalf('bf16', 1), { lr: 0.1, masterWeights: false });
    expect(withMaster.stateBytes).toBe(4 * n);
    expect(without.stateBytes).toBe(0);
    const adam = new Adam(makeHalf('bf16', 1), { lr: 0.1, stateDtype: 'int8' });
    // master 4 + int8 moments 2 (the 4100-element tensor) or 8 (fp32 state of the small ones), absmax per block.
    expect(adam.stateBytes).toBe(4 * n + 2 * 4100 + 2 * 4 * Math.ceil(4100 / 256) + 8 * (300 + 17));
  });

  it('stochastic rounding keeps a parameter below its ulp moving on average; nearest-even from bf16 data alone would not', () => {
    // SGD with no master: each step adds lr*g = 2^-10 to 1 (bf16 ulp 2^-7): 1/8 ulp per step.
    const n = 4096;
    const data = new Uint16Array(n).fill(0x3f80);
    const grad = new Uint16Array(n).fill(bf16Narrow(bits(-1)));
    const opt = new SGD([{ data, grad, dtype: 'bf16' }], { lr: 2 ** -10, masterWeights: false, backend: 'js' });
    for (let s = 0; s < 8; s++) opt.step();
    let sum = 0;
    for (let k = 0; k < n; k++) sum += widen('bf16', data[k]);
    // Expected 1 + 8 * 2^-10 = 1.0078125; per element the variance is bounded by ulp^2/4 per step.
    expect(Math.abs(sum / n - (1 + 8 * 2 ** -10))).toBeLessThan(5 * Math.sqrt((8 * 2 ** -14) / 4 / n));
  });
});

describe('mixed parameters', () => {
  function mixed(options: Record<string, unknown>): number[][] {
    const half = makeHalf('bf16', 8);
    const wide = { name: 'f', data: new Float32Array(500).fill(0.25), grad: new Float32Array(500).fill(0.5) };
    const opt = new Adam([half[0], wide], { lr: 1e-2, masterWeights: false, seed: 1, ...options });
    const later = makeHalf('fp16', 9)[1];
    opt.addParamGroup({ params: [{ ...later, name: 'later' }], lr: 3e-3 });
    for (let s = 1; s <= 3; s++) {
      setGrads([half[0], later], s);
      opt.step();
    }
    return [Array.from(half[0].data), Array.from(new Uint32Array(wide.data.buffer)), Array.from(later.data)];
  }
  it('fp32 and half parameters in one optimizer, a half group added later: js == native', () => {
    const reference = mixed({ backend: 'js' });
    expect(reference[1][0]).not.toBe(bits(0.25));
    if (!NO_NATIVE[0]) expect(mixed({ backend: 'native', threads: 2 })).toEqual(reference);
  });
});

describe('state dicts', () => {
  it.each([true, false])('round trip (masterWeights %s): a fresh optimizer loaded from the dict steps on bitwise identically', (masterWeights) => {
    const a = makeHalf('fp16', 4);
    const optA = new Adam(a, { lr: 1e-2, masterWeights, stateDtype: 'int8', seed: 3 });
    setGrads(a, 1);
    optA.step();
    const sd = optA.stateDict();
    if (masterWeights) expect(sd.state.w0.master).toBeInstanceOf(Float32Array);
    const b = a.map((p) => ({ ...p, data: p.data.slice(), grad: p.grad.slice() }));
    const optB = new Adam(b, { lr: 1e-2, masterWeights, stateDtype: 'int8', seed: 3 });
    optB.loadStateDict(sd);
    for (const s of [2, 3]) {
      setGrads(a, s);
      setGrads(b, s);
      optA.step();
      optB.step();
    }
    a.forEach((p, i) => expect(Array.from(b[i].data)).toEqual(Array.from(p.data)));
  });

  it('a dict without master: master = the data widened at load', () => {
    const params = makeHalf('bf16', 6);
    const opt = new Adam(params, { lr: 1e-2 });
    setGrads(params, 1);
    opt.step();
    const sd = opt.stateDict();
    for (const slots of Object.values(sd.state)) delete (slots as Record<string, unknown>).master;
    params[1].data.fill(bf16Narrow(bits(0.5)));
    opt.loadStateDict(sd);
    expect(Array.from(opt.stateDict().state.w1.master as Float32Array)).toEqual(new Array(300).fill(0.5));
  });

  it('a master of the wrong type or length is refused, naming it, and nothing changes', () => {
    const params = makeHalf('bf16', 6);
    const opt = new Adam(params, { lr: 1e-2 });
    const before = opt.stateDict();
    const sd = opt.stateDict();
    (sd.state.w1 as Record<string, unknown>).master = new Float32Array(3);
    expect(() => opt.loadStateDict(sd)).toThrow(RangeError);
    expect(() => opt.loadStateDict(sd)).toThrow(/state\["w1"\]\.master has length 3/);
    (sd.state.w1 as Record<string, unknown>).master = new Uint16Array(300);
    expect(() => opt.loadStateDict(sd)).toThrow(/master must be a Float32Array/);
    expect(opt.stateDict()).toEqual(before);
    const noMaster = new Adam(makeHalf('bf16', 6), { lr: 1e-2, masterWeights: false });
    expect(() => noMaster.loadStateDict(before)).toThrow(/state\["w0"\]\.master is given, but .* keeps no fp32 master \(its group's masterWeights is false\)/);
  });
});

describe('bad input: a clear error naming the argument', () => {
  const h = (n: number) => new Uint16Array(n);
  const f = (n: number) => new Float32Array(n);
  it.each([
    ['a Uint16Array without dtype', { data: h(4), grad: h(4) }, TypeError, /params\[0\] "0": data is a Uint16Array, but no dtype is given/],
    ["dtype 'fp32' with Uint16Arrays", { data: h(4), grad: h(4), dtype: 'fp32' }, TypeError, /data is a Uint16Array, but dtype is 'fp32'/],
    ['dtype with a Float32Array', { data: f(4), grad: f(4), dtype: 'bf16' }, TypeError, /params\[0\] "0": data must be a Uint16Array of bf16 bits \(dtype 'bf16'\), got a Float32Array/],
    ['data and grad of different types', { data: h(4), grad: f(4), dtype: 'fp16' }, TypeError, /grad must be a Uint16Array of fp16 bits/],
    ['data and grad of different lengths', { data: h(4), grad: h(5), dtype: 'bf16' }, RangeError, /params\[0\] "0": grad has length 5, data has 4/],
    ['an unknown dtype', { data: h(4), grad: h(4), dtype: 'fp8' }, RangeError, /params\[0\] "0": dtype must be one of 'fp32', 'bf16', 'fp16', got .*fp8/],
    ['a dtype that is not a string', { data: h(4), grad: h(4), dtype: 16 }, TypeError, /dtype must be one of/],
  ])('%s', (_, param, Kind, message) => {
    expect(() => new Adam([param as never], { lr: 0.1 })).toThrow(Kind);
    expect(() => new Adam([param as never], { lr: 0.1 })).toThrow(message);
  });

  it('options masterWeights and seed are checked', () => {
    const p = () => [{ data: h(4), grad: h(4), dtype: 'bf16' as const }];
    expect(() => new Adam(p(), { lr: 0.1, masterWeights: 1 as never })).toThrow(/option 'masterWeights'/);
    expect(() => new Adam(p(), { lr: 0.1, seed: -1 })).toThrow(/option 'seed'/);
    expect(() => new Adam(p(), { lr: 0.1, seed: 2 ** 32 })).toThrow(/option 'seed'/);
    expect(() => new Adam(p(), { lr: 0.1, seed: 1.5 })).toThrow(/option 'seed'/);
  });

  it('a replaced data array must stay a Uint16Array of the same length; nothing changes', () => {
    const p = { data: h(4).fill(0x3f80), grad: h(4).fill(0x3f80), dtype: 'bf16' as const };
    const opt = new SGD([p], { lr: 0.5 });
    (p as { data: unknown }).data = f(4);
    expect(() => opt.step()).toThrow(/data \(dtype 'bf16'\) must be a Uint16Array, got a Float32Array/);
    p.data = h(5);
    expect(() => opt.step()).toThrow(/replaced by an array of length 5/);
    p.data = h(4).fill(0x3f80);
    expect(opt.step()).toBe(true);
    expect(Array.from(p.data)).toEqual(new Array(4).fill(0x3f00)); // 1 - 0.5*1
  });

  it('data and grad sharing memory are refused', () => {
    const buffer = h(8);
    expect(() => new Adam([{ data: buffer.subarray(0, 4), grad: buffer.subarray(2, 6), dtype: 'bf16' }], { lr: 0.1 })).toThrow(/shares memory/);
  });

  it('refused where not supported: sparse rows, skipNonFinite', () => {
    expect(() => new Adam([{ data: h(4), grad: h(4), dtype: 'bf16', rowSize: 2, indices: new Int32Array(0) } as never], { lr: 0.1 })).toThrow(/unknown option "dtype"/);
    const skipping = new Adam([{ data: h(4), grad: h(4), dtype: 'bf16' as const }], { lr: 0.1, skipNonFinite: true });
    expect(() => skipping.step()).toThrow(/skipNonFinite needs float32 grads/);
    expect(skipping.stepCount).toBe(0);
  });
});
