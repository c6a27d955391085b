// The CUDA backend's compact step (native/cuda/compact.cu) through its host+device block code
// (native/cuda/compact_block.h). Without a GPU the same code runs on the CPU (cuda.CompactPlan
// mode 'host'): here backend 'cuda' is given a binding whose plans run in that mode and whose
// "device" buffers are host arrays, so lib's whole CUDA compact path and the device code's
// arithmetic are compared bit for bit with 'js' on any machine. With a GPU, the plan-level checks
// also run in mode 'device'; test/cuda.test.ts runs the optimizers on the real device.
import { describe, expect, it, vi } from 'vitest';
import type { CudaBinding } from '../binding';
import { Adam, AdamW, SGD, cuda } from '../lib';
import { loadNative } from '../lib/backends/load';
import { CASES } from './cases';
import { COMPACT_SETTINGS, compactRun, firstDifference, settingLabel } from './compact-runs';
import { NO_NATIVE, itUnless } from './helpers';

vi.mock('../lib/cuda', async (importOriginal) => {
  const real = await importOriginal<typeof import('../lib/cuda')>();
  const { loadNative: load } = await import('../lib/backends/load');
  const copy = (dst: Float32Array, src: Float32Array) => new Uint32Array(dst.buffer, dst.byteOffset, dst.length).set(new Uint32Array(src.buffer, src.byteOffset, src.length));
  // A "device" buffer in host memory: what backend.alloc gives float32 state slots here.
  class HostBuffer {
    array: Float32Array;
    freed = false;
    constructor(n: number) {
      this.array = new Float32Array(n);
    }
    get length() {
      return this.array.length;
    }
    get ptr() {
      return 0n;
    }
    download(into: Float32Array) {
      copy(into, this.array);
      return into;
    }
    copyFrom(src: Float32Array | HostBuffer) {
      copy(this.array, src instanceof HostBuffer ? src.array : src);
    }
    zero() {
      this.array.fill(0);
    }
    free() {
      this.freed = true;
    }
  }
  function compactPlan(rule: number, arrays: unknown[], storages: Uint8Array, absmax: unknown[], groups: unknown, half: unknown) {
    const host = arrays.map((a) => (a instanceof HostBuffer ? a.array : a));
    return new (load().binding!.cuda.CompactPlan)(rule, host as never, storages, absmax as never, groups as never, half as never, 'host');
  }
  const emulated = {
    info: () => ({ compiled: false, deviceCount: 1, devices: [], error: null }),
    DeviceBuffer: HostBuffer,
    // Without a compact slot (SGD without momentum): the block code on float32 storage.
    Plan: function (rule: number, items: unknown[], groups: unknown) {
      return compactPlan(rule, items, new Uint8Array(items.length), items.map(() => null), groups, null);
    },
    CompactPlan: compactPlan,
    timeCopy: () => 0,
  } as unknown as CudaBinding;
  return { ...real, requireCuda: () => emulated };
});

const info = cuda.info();
const hasGpu = info.deviceCount > 0;
const MODES = hasGpu ? (['host', 'device'] as const) : (['host'] as const);
const bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];
const fromBits = (u: number) => new Float32Array(Uint32Array.of(u).buffer)[0];

/**
 * Edge values for the conversions and the 8-bit codes: blocks led by +-1 (absmax 1, so x/absmax
 * = x) holding each midpoint of both maps rounded to float32 and its neighbours; a NaN block, an
 * Inf block, a zero block; ties of bf16 and fp16; subnormals; fp16's overflow edge; a short tail.
 */
function edgeValues(): Float32Array {
  const b = loadNative().binding!;
  const body: number[] = [];
  for (const values of [b.quant8Maps.signed, b.quant8Maps.unsigned])
    for (let k = 0; k < 255; k++) {
      const f = Math.fround((values[k] + values[k + 1]) / 2);
      body.push(fromBits(bits(f) - 1), f, fromBits(bits(f) + 1));
    }
  const out: number[] = [];
  for (let i = 0; i < body.length; i += 255) out.push(out.length % 512 ? -1 : 1, ...body.slice(i, i + 255));
  while (out.length % 256) out.push(0.25);
  const block = (f: (i: number) => number) => Array.from({ length: 256 }, (_, i) => f(i));
  out.push(...block((i) => (i === 7 ? NaN : i / 300)), ...block((i) => (i === 9 ? -Infinity : i - 100)), ...block(() => 0));
  out.push(...block((i) => fromBits(((Math.imul(i + 1, 2654435761) >>> 0) & 0xffff0000) | 0x8000)));
  out.push(...block((i) => fromBits(((Math.imul(i + 7, 2246822519) >>> 0) & 0xbfffe000) | 0x1000)));
  out.push(65520, 65504, 65535, 2 ** -25, 3 * 2 ** -25, 2 ** -32, 2 ** -33, fromBits(1), -(2 ** -14 - 2 ** -25), 5, -2, 1e-7, 0, 0.5);
  return Float32Array.from(out, (x) => (Number.isNaN(x) ? x : Math.fround(x)));
}

describe.skipIf(NO_NATIVE[0])('cuda.CompactPlan: the device code equals the CPU plan on edge values', () => {
  const g = edgeValues();
  const n = g.length, blocks = Math.ceil(n / 256);
  const b = () => loadNative().binding!;
  const momentum = () => b().flags.momentum | b().flags.firstStep;

  // SGD's first momentum step stores buf = g: each storage's narrowing of every edge value. The
  // CPU plan (scalar unit) is the reference: compact.test.ts checks it against the TypeScript functions.
  it.each(MODES.flatMap((mode) => [1, 3, 4].map((storage) => [mode, storage] as const)))('mode %s, momentum buffer storage %i', (mode, storage) => {
    const run = (make: (arrays: Array<Float32Array | Uint16Array | Uint8Array | null>, absmax: Array<Float32Array | null>) => { step(s: Float32Array, f: Uint32Array): void }) => {
      const param = new Float32Array(n), buf = storage === 1 ? new Uint16Array(n) : new Uint8Array(n), absmax = storage === 1 ? null : new Float32Array(blocks);
      const plan = make([param, g, buf], [null, null, absmax]);
      plan.step(Float32Array.of(0, 0.9, 1, 0, 1), Uint32Array.of(momentum()));
      // A second step (momentum 1, zero grad, lr -1) writes param = the widened buffer.
      const zero = new Float32Array(n);
      const plan2 = make([param, zero, buf], [null, null, absmax]);
      plan2.step(Float32Array.of(-1, 1, 0, 0, 1), Uint32Array.of(b().flags.momentum));
      return { param, buf, absmax };
    };
    const storages = Uint8Array.of(0, 0, storage);
    const want = run((arrays, absmax) => new (b().CompactPlan)(b().rules.sgd.id, arrays, storages, absmax, undefined, 0, 1));
    const got = run((arrays, absmax) => new (b().cuda.CompactPlan)(b().rules.sgd.id, arrays, storages, absmax, undefined, null, mode));
    expect(Buffer.from(got.buf.buffer).equals(Buffer.from(want.buf.buffer))).toBe(true);
    if (want.absmax) expect(Buffer.from(got.absmax!.buffer).equals(Buffer.from(want.absmax.buffer))).toBe(true);
    // The widened buffer: NaN and Inf blocks give NaNs by arithmetic, whose payload the IEEE
    // standard leaves to the hardware; every other element compares by bits.
    const at = got.param.findIndex((x, i) => !Object.is(x, want.param[i]) && !(Number.isNaN(x) && Number.isNaN(want.param[i])));
    expect(at).toBe(-1);
    expect(got.param.findIndex((x, i) => !Number.isNaN(x) && bits(x) !== bits(want.param[i]))).toBe(-1);
  });

  // SGD with lr -1 from a zero param: p = g, then narrowed into a half parameter, to nearest even
  // (from a master) or stochastically.
  it.each(MODES.flatMap((mode) => [1, 2].flatMap((storage) => [true, false].map((master) => [mode, storage, master] as const))))(
    'mode %s, half parameter storage %i, master %s',
    (mode, storage, master) => {
      const finite = g.map((x) => (Number.isFinite(x) ? x : 1));
      const run = (make: (arrays: Array<Float32Array | Uint16Array | null>, storages: Uint8Array, half: unknown) => { step(s: Float32Array, f: Uint32Array, t?: number): void }) => {
        const bitsOut = new Uint16Array(n), masterArray = new Float32Array(n);
        const grad = master ? new Uint16Array(n) : finite;
        // With a master: lr 0 and a zero grad leave it as set, the step copies it into the mirror.
        if (master) masterArray.set(finite);
        const plan = master
          ? make([masterArray, grad, null], Uint8Array.of(0, storage, 0), { seed: 5, params: [{ index: 2, mirror: bitsOut }] })
          : make([bitsOut, grad, null], Uint8Array.of(storage, 0, 0), { seed: 5, params: [{ index: 2, mirror: null }] });
        plan.step(master ? Float32Array.of(0, 0, 1, 0, 1) : Float32Array.of(-1, 0, 1, 0, 1), Uint32Array.of(0), 7);
        return bitsOut;
      };
      const want = run((arrays, storages, half) => new (b().CompactPlan)(b().rules.sgd.id, arrays, storages, [null, null, null], undefined, 0, 1, half as never));
      const got = run((arrays, storages, half) => new (b().cuda.CompactPlan)(b().rules.sgd.id, arrays, storages, [null, null, null], undefined, half as never, mode));
      const at = got.findIndex((h, i) => h !== want[i]);
      expect(at).toBe(-1);
    },
  );
});

describe.skipIf(NO_NATIVE[0])("backend 'cuda' with compact state (device code on the CPU): bitwise equal to 'js'", () => {
  // Tensors of every kind: empty, shorter than a block, fp32 state under int8 (< 4096), several
  // blocks with a partial last one.
  const lengths = [0, 17, 300, 4100, 8195];
  const fp32Params = COMPACT_SETTINGS.filter((s) => s.dtype === 'fp32');
  const half = COMPACT_SETTINGS.filter((s) => s.dtype !== 'fp32');
  const halfCases = CASES.filter((c) => /^(Adam|SGD|RMSProp|AdaGrad) \{/.test(c.label)).filter((_, i) => i % 3 === 0);
  const refuses = (c: (typeof CASES)[number], stateDtype: string) => c.label.includes('"centered":true') && stateDtype === 'int8';
  for (const s of fp32Params)
    describe(settingLabel(s), () => {
      it.each(CASES.filter((c) => !refuses(c, s.stateDtype)).map((c) => [c.label, c] as const))('%s', async (_, c) => {
        const want = await compactRun(c, s, lengths, { backend: 'js' });
        const got = await compactRun(c, s, lengths, { backend: 'cuda' });
        expect(firstDifference(got, want)).toBe(null);
      });
    });
  for (const s of half)
    describe(settingLabel(s), () => {
      it.each(halfCases.filter((c) => !refuses(c, s.stateDtype)).map((c) => [c.label, c] as const))('%s', async (_, c) => {
        const want = await compactRun(c, s, lengths, { backend: 'js' });
        const got = await compactRun(c, s, lengths, { backend: 'cuda' });
        expect(firstDifference(got, want)).toBe(null);
      });
    });

  it('state dicts move between backends: a cuda int8 run continues on native with the same bits', async () => {
    const c = CASES.find((x) => x.label.startsWith('Adam {'))!;
    const s = { dtype: 'fp32', stateDtype: 'int8' } as const;
    const want = await compactRun(c, s, lengths, { backend: 'native' });
    expect(firstDifference(await compactRun(c, s, lengths, { backend: 'cuda' }), want)).toBe(null);
  });
});

describe.skipIf(NO_NATIVE[0])('cuda.CompactPlan: bad arguments, nothing run', () => {
  const b = () => loadNative().binding!;
  const make = (over: Partial<{ arrays: unknown[]; storages: Uint8Array; absmax: unknown[]; half: unknown; mode: string }>) =>
    new (b().cuda.CompactPlan)(
      b().rules.sgd.id,
      (over.arrays ?? [new Float32Array(300), new Float32Array(300), new Uint8Array(300)]) as never,
      over.storages ?? Uint8Array.of(0, 0, 3),
      (over.absmax ?? [null, null, new Float32Array(2)]) as never,
      undefined,
      (over.half ?? null) as never,
      (over.mode ?? 'host') as never,
    );
  it('names the argument', () => {
    expect(() => make({ mode: 'gpu' })).toThrow(RangeError);
    expect(() => make({ absmax: [null, null, new Float32Array(3)] })).toThrow(/absmax has length 3, not one per block of 256/);
    expect(() => make({ storages: Uint8Array.of(3, 0, 3) })).toThrow(/tensor 0 slot 0 \(param\): storage 3/);
    expect(() => make({ arrays: [new Float32Array(300), new Float32Array(299), new Uint8Array(300)] })).toThrow(/slot 1 \(grad\) has a different length/);
    expect(() => make({ arrays: [new Uint16Array(300), new Float32Array(300), new Uint8Array(300)] })).toThrow(TypeError);
    expect(() => make({ storages: Uint8Array.of(1, 0, 3), arrays: [new Uint16Array(300), new Float32Array(300), new Uint8Array(300)], half: { seed: 0, params: [{ index: 0, mirror: new Uint16Array(300) }] } })).toThrow(
      /with a mirror the param slot must be the float32 master/,
    );
  });
  it('a released plan and a missing step throw; the arrays are untouched', () => {
    const param = new Uint16Array(300);
    const plan = make({ storages: Uint8Array.of(1, 0, 3), arrays: [param, new Float32Array(300).fill(1), new Uint8Array(300)], half: { seed: 0, params: [{ index: 0, mirror: null }] } });
    expect(() => plan.step(Float32Array.of(-1, 0, 1, 0, 1), Uint32Array.of(0))).toThrow(/step \(a number\) is required/);
    plan.release();
    expect(() => plan.step(Float32Array.of(-1, 0, 1, 0, 1), Uint32Array.of(0), 1)).toThrow(/released/);
    expect(param.every((x) => x === 0)).toBe(true);
  });
  itUnless([hasGpu, 'this machine has a CUDA device'])("mode 'device' without a device says why", () => {
    expect(() => make({ mode: 'device' })).toThrow(/./);
  });
});

describe.skipIf(NO_NATIVE[0])("optimizers take compact state on backend 'cuda' (no longer refused)", () => {
  it('constructs and steps where a device (here: the emulation) is present', () => {
    const p = { data: new Float32Array(5000).fill(1), grad: new Float32Array(5000).fill(0.5) };
    for (const opt of [new Adam([p], { backend: 'cuda', stateDtype: 'int8' }), new AdamW([p], { backend: 'cuda', stateDtype: 'bf16' }), new SGD([{ data: new Uint16Array(8), grad: new Uint16Array(8), dtype: 'bf16' }], { backend: 'cuda', lr: 0.1 })]) {
      expect(opt.backend).toBe('cuda');
      opt.step();
      opt.dispose();
    }
    expect(p.data[0]).not.toBe(1);
  });
});
