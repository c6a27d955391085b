import { describe, expect, it } from 'vitest';
import { allocArena } from '../lib/arena';
import { loadNative } from '../lib/backends/load';
import { adamRule } from '../lib/rules/adam';
import { NATIVE_ISAS, NO_NATIVE, fillRandom, firstBitDifference, itUnless, rng } from './helpers';

const binding = () => loadNative().binding!;

function adamScalars(t: number): Float32Array {
  const out = new Float32Array(adamRule.scalarCount);
  const o = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, decoupled: false, biasCorrection: true, gradScale: 1 };
  adamRule.scalars(o, t, out);
  return out;
}

/** One Adam step through the rule's TypeScript reference: the bits a native plan must give. */
function referenceStep(slots: Float32Array[]): Float32Array[] {
  const copy = slots.map((a) => new Float32Array(a));
  adamRule.update(adamScalars(1), 0, [...copy, null], copy[0].length);
  return copy;
}

function seeded(n: number, seed: number): Float32Array[] {
  const next = rng(seed);
  return [0, 1, 2, 3].map((k) => {
    const a = fillRandom(new Float32Array(n), next);
    if (k === 3) a.forEach((x, i) => (a[i] = Math.abs(x))); // v >= 0
    return a;
  });
}

const best = () => binding().isas.indexOf(binding().cpuInfo().best);

/** An Adam plan of one group on `isa`; step(scalars, flags) takes the group's flags as a number. */
function plan(arrays: ReadonlyArray<Float32Array | null>, isa = best(), threads = 1) {
  const b = binding();
  const p = new b.Plan(b.rules.adam.id, arrays, undefined, isa, threads);
  return { step: (scalars: Float32Array, flags = 0) => p.step(scalars, new Uint32Array([flags])) };
}

function detach(buffer: ArrayBuffer): void {
  structuredClone(buffer, { transfer: [buffer] });
}

describe('the per-step array check (one look-up per ArrayBuffer)', () => {
  itUnless(NO_NATIVE)('throws, naming tensor and slot, when a state buffer was detached, and writes nothing', () => {
    const [p, g, m, v] = seeded(1000, 1);
    const p2 = new Float32Array(1000).fill(1);
    const before = new Float32Array(p);
    const steps = plan([p2, g.slice(), m.slice(), v.slice(), null, p, g, m, v, null]);
    detach(v.buffer as ArrayBuffer);
    expect(() => steps.step(adamScalars(1))).toThrow(
      new Error('tensor 1 slot 3 (exp_avg_sq) was detached since the optimizer was created'),
    );
    expect(firstBitDifference(p, before)).toBe(-1);
    expect(p2.every((x) => x === 1)).toBe(true);
  });

  itUnless(NO_NATIVE)('finds a detached buffer among thousands, in any batch of the look-up, the last one included', () => {
    const tensors = 300; // 1,200 separate buffers: several batches of handles
    for (const [t, k, name] of [[0, 0, 'param'], [200, 2, 'exp_avg'], [tensors - 1, 3, 'exp_avg_sq']] as const) {
      const arrays = Array.from({ length: tensors }, (_, i) => seeded(8, 100 + i));
      const steps = plan(arrays.flatMap((a) => [...a, null]));
      steps.step(adamScalars(1));
      const params = arrays.map((a) => new Float32Array(a[0]));
      detach(arrays[t][k].buffer as ArrayBuffer);
      expect(() => steps.step(adamScalars(2))).toThrow(new Error(`tensor ${t} slot ${k} (${name}) was detached since the optimizer was created`));
      arrays.forEach((a, i) => i === t || expect(firstBitDifference(a[0], params[i])).toBe(-1));
    }
  });

  itUnless(NO_NATIVE)('sees a detach through any view of a shared buffer', () => {
    const next = rng(2);
    const shared = fillRandom(new Float32Array(4 * 300), next).map(Math.abs);
    const views = [0, 1, 2, 3].map((k) => shared.subarray(k * 300, (k + 1) * 300));
    const steps = plan([...views, null]);
    steps.step(adamScalars(1));
    detach(shared.buffer as ArrayBuffer);
    expect(() => steps.step(adamScalars(2))).toThrow(/^tensor 0 slot 0 \(param\) was detached since/);
  });

  itUnless(NO_NATIVE)('refuses arrays on a resizable ArrayBuffer at registration, even behind a spoofed buffer property', () => {
    const [, g, m, v] = seeded(64, 3);
    const buffer = new ArrayBuffer(4 * 64, { maxByteLength: 4 * 128 });
    const tracking = new Float32Array(buffer).fill(0.5);
    const fixed = new Float32Array(buffer, 0, 64);
    const message = new TypeError('tensor 0 slot 0 (param) is on a resizable ArrayBuffer; use a fixed-length one');
    expect(() => plan([tracking, g, m, v, null])).toThrow(message);
    expect(() => plan([fixed, g, m, v, null])).toThrow(message);
    Object.defineProperty(fixed, 'buffer', { value: new ArrayBuffer(4 * 64) }); // what lib would have read
    expect(() => plan([fixed, g, m, v, null])).toThrow(message);
  });

  itUnless(NO_NATIVE)('refuses arrays on a growable SharedArrayBuffer', () => {
    const [p, g, m] = seeded(64, 3);
    const growable = new Float32Array(new SharedArrayBuffer(4 * 64, { maxByteLength: 4 * 128 }));
    expect(() => plan([p, g, m, growable, null])).toThrow(
      new TypeError('tensor 0 slot 3 (exp_avg_sq) is on a growable SharedArrayBuffer; use a fixed-length one'),
    );
  });

  itUnless(NO_NATIVE)('refuses arrays that share memory, by address: overlapping views and SharedArrayBuffer clones', () => {
    const [p, g, m, v] = seeded(64, 3);
    const one = new Float32Array(4 * 64);
    const views = [0, 1, 2, 3].map((k) => one.subarray(k * 64, (k + 1) * 64));
    expect(() => plan([...views, null])).not.toThrow(); // disjoint views of one buffer are fine
    const shifted = one.subarray(32, 96);
    expect(() => plan([views[0], g, m, shifted, null])).toThrow(
      new Error('tensor 0 slot 0 (param) and tensor 0 slot 3 (exp_avg_sq) share memory: every array of an optimizer needs its own'),
    );
    const sab = new SharedArrayBuffer(4 * 64);
    const clone = structuredClone(sab); // another SharedArrayBuffer object over the same memory
    expect(clone).not.toBe(sab);
    expect(() => plan([p, g, m, v, null, new Float32Array(sab), g.slice(), m.slice(), v.slice(), null])).not.toThrow();
    expect(() => plan([p, g, m, v, null, new Float32Array(sab), g.slice(), m.slice(), new Float32Array(clone), null])).toThrow(
      /^tensor 1 slot 0 \(param\) and tensor 1 slot 3 \(exp_avg_sq\) share memory/,
    );
  });

  itUnless(NO_NATIVE)('steps arrays on a SharedArrayBuffer exactly', () => {
    const [p, g, m, v] = seeded(5000, 5);
    const expected = referenceStep([p, g, m, v]);
    const shared = new Float32Array(new SharedArrayBuffer(4 * 5000));
    shared.set(p);
    plan([shared, g, m, v, null]).step(adamScalars(1));
    expect(firstBitDifference(shared, expected[0])).toBe(-1);
    expect(firstBitDifference(v, expected[3])).toBe(-1);
  });

  itUnless(NO_NATIVE)('keeps tiny arrays (stored inside the V8 heap until registered) in place across garbage collections', () => {
    const [p, g, m, v] = seeded(3, 8); // 12 bytes each: V8 keeps such arrays on its heap, where GC moves them
    let expected = [p, g, m, v].map((a) => new Float32Array(a));
    const steps = plan([p, g, m, v, null]);
    const churn: object[][] = [];
    for (let t = 1; t <= 3; t++) {
      for (let i = 0; i < 200; i++) churn.push(Array.from({ length: 1000 }, (_, k) => ({ k }))); // young-generation GCs
      churn.length = 0;
      steps.step(adamScalars(t));
      const next = expected.map((a) => new Float32Array(a));
      adamRule.update(adamScalars(t), 0, [...next, null], 3);
      expected = next;
    }
    [p, m, v].forEach((a, k) => expect({ k, at: firstBitDifference(a, expected[[0, 2, 3][k]]) }).toEqual({ k, at: -1 }));
  });

  itUnless(NO_NATIVE)('still rejects a non-Float32Array at construction', () => {
    const [p, g, m] = seeded(8, 6);
    expect(() => plan([p, g, m, new Float64Array(8) as unknown as Float32Array, null])).toThrow(
      new TypeError('tensor 0 slot 3 (exp_avg_sq) is not a Float32Array'),
    );
  });
});

describe('the kernels touch exactly the slots the options need', () => {
  it.each(NATIVE_ISAS)('%s: without amsgrad a given max_exp_avg_sq is neither read nor written; with it, it is', (isa) => {
    const b = binding();
    const [p, g, m, v] = seeded(1000, 9);
    const vmax = new Float32Array(1000).fill(NaN); // a read of it would poison p
    const want = referenceStep([p, g, m, v]);
    const arrays = [p, g, m, v].map((a) => new Float32Array(a));
    plan([...arrays, vmax], b.isas.indexOf(isa)).step(adamScalars(1));
    arrays.forEach((a, k) => expect({ k, at: firstBitDifference(a, want[k]) }).toEqual({ k, at: -1 }));
    expect(vmax.every(Number.isNaN)).toBe(true);

    const withAmsgrad = [p, g, m, v].map((a) => new Float32Array(a));
    const zeros = new Float32Array(1000);
    plan([...withAmsgrad, zeros], b.isas.indexOf(isa)).step(adamScalars(1), b.flags.amsgrad);
    expect(firstBitDifference(zeros, want[3])).toBe(-1); // vmax = max(0, v) = v
  });
});

describe('StreamProbe (the bench roof)', () => {
  const n = 3 * 16384 + 37; // several chunks and a ragged tail
  it.each(NATIVE_ISAS.flatMap((isa) => [1, 2, 3].map((threads) => [isa, threads] as const)))(
    '%s on %i threads reads 4 arrays and writes p += g, m += g, v += g',
    (isa, threads) => {
      const [p, g, m, v] = seeded(n, 7);
      const want = [p, m, v].map((a) => a.map((x, i) => Math.fround(x + g[i])));
      const gBefore = new Float32Array(g);
      new (binding().StreamProbe)(binding().isas.indexOf(isa), [p, g, m, v], threads).run();
      [p, m, v].forEach((a, k) => expect({ k, at: firstBitDifference(a, want[k]) }).toEqual({ k, at: -1 }));
      expect(firstBitDifference(g, gBefore)).toBe(-1);
    },
  );

  it.each(NATIVE_ISAS.flatMap((isa) => [1, 2].map((threads) => [isa, threads] as const)))(
    '%s on %i threads: many tensors of several lengths, separate arrays and views, every run',
    (isa, threads) => {
      const lengths = [5, 16384 + 3, 1, 300, 2 * 16384, 17];
      const shared = seeded(lengths.reduce((a, b) => a + b, 0), 3);
      let at = 0;
      const tensors = lengths.map((n, t) => {
        const views = shared.map((a) => a.subarray(at, at + n));
        at += n;
        return t % 2 ? views : seeded(n, 11 + t); // odd tensors: views of one buffer per slot
      });
      const want = tensors.map(([p, g, m, v]) => [p, m, v].map((a) => a.map((x, i) => Math.fround(Math.fround(x + g[i]) + g[i]))));
      const probe = new (binding().StreamProbe)(binding().isas.indexOf(isa), tensors.flat(), threads);
      probe.run();
      probe.run();
      tensors.forEach(([p, , m, v], t) => [p, m, v].forEach((a, k) => expect({ t, k, at: firstBitDifference(a, want[t][k]) }).toEqual({ t, k, at: -1 })));
    },
  );

  itUnless(NO_NATIVE)('checks its arguments, and its arrays at every run', () => {
    const a = () => new Float32Array(10);
    const Probe = binding().StreamProbe as unknown as new (...args: unknown[]) => { run(): void };
    const probe = (...args: unknown[]) => new Probe(...args);
    expect(() => probe(0, [a(), a(), a()], 1)).toThrow(new RangeError('StreamProbe: arrays must hold 4 Float32Arrays per tensor (p, g, m, v)'));
    expect(() => probe(0, [], 1)).toThrow(RangeError);
    expect(() => probe(0, [a(), a(), new Float32Array(9), a()], 1)).toThrow(new RangeError('tensor 0 slot 2 (exp_avg) has a different length'));
    expect(() => probe(0, [a(), [1], a(), a()], 1)).toThrow(TypeError);
    expect(() => probe(0, [a(), a(), null, a()], 1)).toThrow(new TypeError('StreamProbe: every tensor needs all 4 arrays'));
    const shared = a();
    expect(() => probe(0, [shared, a(), shared, a()], 1)).toThrow(/share memory|overlap/);
    expect(() => probe(99, [a(), a(), a(), a()], 1)).toThrow(new RangeError('StreamProbe: isa must be an integer in [0, ' + binding().isas.length + ')'));
    expect(() => probe('x', [], 1)).toThrow(TypeError);
    const g = a();
    const ok = probe(0, [a(), g, a(), a()], 1);
    ok.run();
    structuredClone(g.buffer, { transfer: [g.buffer] });
    expect(() => ok.run()).toThrow(/tensor 0 slot 1 \(grad\) was detached/);
  });
});

describe('allocArena (optimizer state for many tensors)', () => {
  it('carves zeroed, disjoint, 64-byte aligned views in list order out of few blocks', () => {
    const blocks: Float32Array[] = [];
    const alloc = (n: number) => {
      const b = new Float32Array(n);
      blocks.push(b);
      return b;
    };
    const lengths = [5, 0, 16, 17, 1000, 3];
    const views = allocArena(alloc, lengths);
    expect(blocks.length).toBe(1);
    expect(views.map((v) => v.length)).toEqual(lengths);
    expect(views.map((v) => v.byteOffset / 4)).toEqual([0, 16, 16, 32, 64, 1072]);
    expect(views.every((v) => v.buffer === blocks[0].buffer && v.every((x) => x === 0))).toBe(true);
  });

  it('starts a new block when the next array would not fit, and gives a long array its own', () => {
    const sizes: number[] = [];
    const alloc = (n: number) => (sizes.push(n), new Float32Array(n));
    const views = allocArena(alloc, [40, 40, 100, 10], 64);
    expect(sizes).toEqual([48, 48, 112, 16]);
    expect(views.map((v) => v.length)).toEqual([40, 40, 100, 10]);
    expect(new Set(views.map((v) => v.buffer)).size).toBe(4);
  });
});
