import { describe, expect, it } from 'vitest';
import { Adam, DeviceTensor, type Param, cuda } from '../lib';
import { CASES, type HostParam, type OptimizerCase, fillGrads, makeParams, runSteps } from './cases';
import { COMPACT_SETTINGS, compactRun, firstDifference, narrowAll, settingLabel } from './compact-runs';
import { LENGTHS, firstBitDifference } from './helpers';

const info = cuda.info();
const hasGpu = info.deviceCount > 0;
const noGpuReason = `(skipped: no CUDA device: ${info.error})`;
/** A test that needs a GPU: skipped with the reason in its title when there is none. */
const gpuIt = (title: string, fn: () => unknown) => it.skipIf(!hasGpu)(hasGpu ? title : `${title} ${noGpuReason}`, fn);

// Lengths around the kernel's float4 groups (4), block pass (2048) and chunk (8192), plus the
// foundation's tail lengths (0, 1, 3, 15, ...).
const CUDA_LENGTHS = [...LENGTHS, 2047, 2049, 8191, 8192, 8193, 16387];

describe('the CUDA build', () => {
  const expectCuda = process.env.CI_EXPECT_CUDA === '1';
  it.skipIf(!expectCuda)(
    `was compiled in when CI_EXPECT_CUDA=1${expectCuda ? '' : ' (skipped: CI_EXPECT_CUDA is not 1)'}`,
    () => {
      expect(info.error ?? '').not.toMatch(/built without CUDA|did not load/);
      expect(info.compiled).toBe(true);
    },
  );

  it('info() answers without throwing, with a reason whenever there is no device', () => {
    expect(typeof info.compiled).toBe('boolean');
    expect(info.devices).toHaveLength(info.deviceCount);
    if (info.deviceCount === 0) expect(info.error).toMatch(/\S/);
    for (const d of info.devices) {
      expect(d.name).toMatch(/\S/);
      expect(d.memory).toBeGreaterThan(0);
      expect(d.computeCapability).toMatch(/^\d+\.\d+$/);
    }
  });
});

describe('without a GPU', () => {
  const title = (t: string) => (hasGpu ? `${t} (skipped: this machine has a CUDA device)` : t);
  it.skipIf(hasGpu)(title('cuda.tensor and cuda.upload throw the reason'), () => {
    expect(() => cuda.tensor(4)).toThrow(`cuda.tensor: CUDA is unavailable: ${info.error}`);
    expect(() => cuda.upload(new Float32Array(4))).toThrow(`cuda.upload: CUDA is unavailable: ${info.error}`);
  });

  it.skipIf(hasGpu)(title("backend 'cuda' throws the reason and leaves the arrays untouched"), () => {
    const data = new Float32Array([1, 2, 3]), grad = new Float32Array([1, 1, 1]);
    expect(() => new Adam([{ data, grad }], { backend: 'cuda' })).toThrow(`Adam: backend 'cuda': CUDA is unavailable: ${info.error}`);
    expect([...data, ...grad]).toEqual([1, 2, 3, 1, 1, 1]);
  });
});

describe('argument checks (no device needed)', () => {
  it('cuda.tensor checks its length before touching CUDA', () => {
    expect(() => cuda.tensor(-1)).toThrow(RangeError);
    expect(() => cuda.tensor(1.5)).toThrow(RangeError);
    expect(() => cuda.tensor('3' as unknown as number)).toThrow(TypeError);
  });

  it('cuda.upload wants a Float32Array', () => {
    expect(() => cuda.upload([1, 2] as unknown as Float32Array)).toThrow(TypeError);
    expect(() => cuda.upload(new Float64Array(2) as unknown as Float32Array)).toThrow(TypeError);
  });

  it('DeviceTensors cannot be made directly or faked', () => {
    const Ctor = DeviceTensor as unknown as new (k: symbol, b: unknown) => DeviceTensor;
    expect(() => new Ctor(Symbol('DeviceTensor'), {})).toThrow(TypeError);
    const fake = Object.create(DeviceTensor.prototype) as DeviceTensor;
    expect(() => fake.download()).toThrow('not a DeviceTensor made by cuda.tensor() or cuda.upload()');
    const grad = new Float32Array(3);
    expect(() => new Adam([{ data: fake, grad: fake }], { backend: 'cuda' })).toThrow(TypeError);
    const lookalike = { length: 3, ptr: 0n } as unknown as Float32Array;
    expect(() => new Adam([{ data: lookalike, grad }], { backend: 'cuda' })).toThrow(
      'Adam: params[0] "0": data must be a Float32Array or a DeviceTensor, got an Object',
    );
  });
});

/** Host params as DeviceTensors (data uploaded, grad zero). */
function toDevice(host: HostParam[]): Array<{ name: string; data: DeviceTensor; grad: DeviceTensor }> {
  return host.map((p) => ({ name: p.name, data: cuda.upload(p.data), grad: cuda.tensor(p.grad.length) }));
}

function freeAll(params: Array<{ data: DeviceTensor; grad: DeviceTensor }>): void {
  for (const p of params) {
    p.data.free();
    p.grad.free();
  }
}

/**
 * The parity runs of cases.ts on the 'cuda' backend: 'device' keeps params and grads in
 * DeviceTensors, 'mirror' hands Float32Arrays to backend 'cuda'. Every third step is a stepAsync.
 */
async function runCuda(c: OptimizerCase, lengths: number[], mode: 'device' | 'mirror', steps = 30, seed = 7) {
  const host = makeParams(lengths, seed);
  const dev = mode === 'device' ? toDevice(host) : null;
  const opt = c.make((dev ?? host) as Param[], { ...c.options, backend: 'cuda' });
  expect(opt.backend).toBe('cuda');
  for (let t = 1; t <= steps; t++) {
    fillGrads(host, seed, t);
    dev?.forEach((p, i) => p.grad.copyFrom(host[i].grad));
    if (t % 3 === 0) await opt.stepAsync();
    else opt.step();
  }
  const params = dev ? dev.map((p) => p.data.download()) : host.map((p) => p.data);
  const state = opt.stateDict();
  if (dev) freeAll(dev);
  return { params, state };
}

function expectBitwise(
  got: { params: Float32Array[]; state: { state: Record<string, Record<string, Float32Array>> } },
  want: ReturnType<typeof runSteps>,
): void {
  got.params.forEach((data, i) => {
    const name = want.params[i].name;
    expect({ param: name, at: firstBitDifference(data, want.params[i].data as Float32Array) }).toEqual({ param: name, at: -1 });
    const slots = want.state.state[name];
    expect(Object.keys(got.state.state[name]).sort()).toEqual(Object.keys(slots).sort());
    for (const [slot, array] of Object.entries(got.state.state[name]))
      expect({ param: name, slot, at: firstBitDifference(array, slots[slot]) }).toEqual({ param: name, slot, at: -1 });
  });
}

describe.each(CASES)('cuda: $label', (c) => {
  const reference = hasGpu ? runSteps(c, CUDA_LENGTHS, { backend: 'js' }) : null;

  gpuIt('DeviceTensor params are bitwise equal to js after 30 steps (step and stepAsync)', async () => {
    expectBitwise(await runCuda(c, CUDA_LENGTHS, 'device'), reference!);
  });

  gpuIt('host-mirror mode is bitwise equal to js after 30 steps', async () => {
    expectBitwise(await runCuda(c, CUDA_LENGTHS, 'mirror'), reference!);
  });
});

describe('DeviceTensor', () => {
  gpuIt('round-trips bits, copies on the device, and reports its length and address', () => {
    const values = new Float32Array([1.5, -0, Number.NaN, 3e-42, -Infinity, 7]);
    const a = cuda.upload(values);
    const b = cuda.tensor(values.length);
    expect(a.length).toBe(6);
    expect(typeof a.ptr).toBe('bigint');
    expect(a.ptr).not.toBe(0n);
    expect(a.ptr).not.toBe(b.ptr);
    expect(firstBitDifference(b.download(), new Float32Array(6))).toBe(-1);
    b.copyFrom(a);
    const into = new Float32Array(6);
    expect(b.download(into)).toBe(into);
    expect(firstBitDifference(into, values)).toBe(-1);
    b.copyFrom(new Float32Array(6).fill(2));
    expect([...b.download()]).toEqual([2, 2, 2, 2, 2, 2]);
    expect(firstBitDifference(a.download(), values)).toBe(-1);
    const empty = cuda.tensor(0);
    expect(empty.download()).toEqual(new Float32Array(0));
    freeAll([{ data: a, grad: b }]);
    empty.free();
  });

  gpuIt('refuses other lengths and types with clear errors', () => {
    const a = cuda.tensor(4);
    expect(() => a.download(new Float32Array(3))).toThrow(RangeError);
    expect(() => a.copyFrom(new Float32Array(5))).toThrow('DeviceTensor.copyFrom: src has length 5, the tensor has 4');
    expect(() => a.copyFrom(cuda.tensor(3))).toThrow(RangeError);
    expect(() => a.copyFrom([1, 2, 3, 4] as unknown as Float32Array)).toThrow(TypeError);
    a.free();
  });

  gpuIt('is unusable after free(), and freeing twice is harmless', () => {
    const a = cuda.tensor(4);
    a.free();
    expect(a.freed).toBe(true);
    expect(a.length).toBe(4);
    expect(() => a.download()).toThrow('DeviceTensor.download: the DeviceTensor was freed');
    expect(() => a.copyFrom(new Float32Array(4))).toThrow('was freed');
    expect(() => a.ptr).toThrow('was freed');
    expect(() => a.free()).not.toThrow();
  });
});

describe("optimizers on backend 'cuda'", () => {
  const c = CASES.find((x) => x.label.startsWith('Adam {"amsgrad":true'))!;

  gpuIt("DeviceTensor params choose backend 'cuda' under 'auto' and are refused by 'js' and 'native'", () => {
    const p = toDevice(makeParams([5], 1));
    expect(new Adam(p).backend).toBe('cuda');
    expect(() => new Adam(p, { backend: 'js' })).toThrow(TypeError);
    expect(() => new Adam(p, { backend: 'native' })).toThrow(`params[0] "p0" is on the GPU (DeviceTensor)`);
    freeAll(p);
  });

  gpuIt('refuses mixed host/device params, repeated tensors and freed tensors', () => {
    const [p] = toDevice(makeParams([5], 1));
    expect(() => new Adam([{ data: p.data, grad: new Float32Array(5) }], { backend: 'cuda' })).toThrow(
      'data and grad must both be Float32Arrays or both DeviceTensors',
    );
    expect(() => new Adam([{ data: p.data, grad: p.data }])).toThrow('is the same DeviceTensor as');
    const opt = new Adam([p], { backend: 'cuda' });
    p.grad.copyFrom(new Float32Array(5).fill(1));
    opt.step();
    p.grad.free();
    expect(() => opt.step()).toThrow('Adam.step: params[0] "p0": grad was freed');
    expect(opt.stepCount).toBe(1);
    p.data.free();
  });

  gpuIt('a stepAsync in flight blocks steps, state access and freeing its tensors', async () => {
    const [p] = toDevice(makeParams([1 << 20], 2));
    const opt = new Adam([p], { backend: 'cuda' });
    const pending = opt.stepAsync();
    expect(() => opt.step()).toThrow('in flight');
    expect(() => opt.stateDict()).toThrow('in flight');
    expect(() => p.data.free()).toThrow('in flight');
    await pending;
    expect(opt.stepCount).toBe(1);
    freeAll([p]);
  });

  gpuIt('skipNonFinite checks host grads in host-mirror mode, and is refused for DeviceTensor grads', () => {
    const [p] = makeParams([6], 4);
    p.grad.fill(1);
    p.grad[3] = Number.NaN;
    const before = new Float32Array(p.data);
    const mirror = new Adam([p], { backend: 'cuda', skipNonFinite: true });
    expect(mirror.step()).toBe(false);
    expect(firstBitDifference(p.data, before)).toBe(-1);
    expect(mirror.stepCount).toBe(0);
    const dev = toDevice(makeParams([6], 4));
    const opt = new Adam(dev, { skipNonFinite: true });
    expect(() => opt.step()).toThrow('skipNonFinite needs the grads on the host');
    expect(opt.stepCount).toBe(0);
    freeAll(dev);
  });

  gpuIt('zeroGrad zeroes device grads', () => {
    const [p] = toDevice(makeParams([9], 3));
    p.grad.copyFrom(new Float32Array(9).fill(3));
    new Adam([p]).zeroGrad();
    expect([...p.grad.download()]).toEqual(new Array(9).fill(0));
    freeAll([p]);
  });

  gpuIt('stateDict downloads the state; loadStateDict uploads it and stepping on matches js bitwise', async () => {
    const lengths = [3, 2049, 8193];
    const reference = runSteps(c, lengths, { backend: 'js' }, 20);
    for (const mode of ['device', 'mirror'] as const) {
      const host = makeParams(lengths, 7);
      const dev = mode === 'device' ? toDevice(host) : null;
      const params = (dev ?? host) as Param[];
      let opt = c.make(params, { ...c.options, backend: 'cuda' });
      for (let t = 1; t <= 20; t++) {
        if (t === 11) {
          const saved = opt.stateDict();
          opt = c.make(params, { ...c.options, backend: 'cuda' }); // a fresh optimizer, fresh state
          opt.loadStateDict(saved);
        }
        fillGrads(host, 7, t);
        dev?.forEach((p, i) => p.grad.copyFrom(host[i].grad));
        opt.step();
      }
      const got = { params: dev ? dev.map((p) => p.data.download()) : host.map((p) => p.data), state: opt.stateDict() };
      expectBitwise(got, reference);
      if (dev) freeAll(dev);
    }
  });
});

// Compact state and half-precision parameters on the device (native/cuda/compact.cu): every
// setting against 'js', bit for bit, state dicts included. Lengths: empty, shorter than a block,
// fp32 state under int8 (< 4096), several blocks with a partial last one.
describe('cuda: compact state', () => {
  const lengths = [0, 17, 300, 4100, 8195];
  const fp32Params = COMPACT_SETTINGS.filter((s) => s.dtype === 'fp32');
  const halfCases = CASES.filter((c) => /^(Adam|SGD|RMSProp|AdaGrad) \{/.test(c.label)).filter((_, i) => i % 3 === 0);
  const refuses = (c: OptimizerCase, stateDtype: string) => c.label.includes('"centered":true') && stateDtype === 'int8';
  for (const s of COMPACT_SETTINGS)
    describe(settingLabel(s), () => {
      const cases = (s.dtype === 'fp32' ? CASES : halfCases).filter((c) => !refuses(c, s.stateDtype));
      it.skipIf(!hasGpu).each(cases.map((c) => [hasGpu ? c.label : `${c.label} ${noGpuReason}`, c] as const))('%s', async (_, c) => {
        const want = await compactRun(c, s, lengths, { backend: 'js' });
        expect(firstDifference(await compactRun(c, s, lengths, { backend: 'cuda' }), want)).toBe(null);
        if (fp32Params.includes(s)) expect(firstDifference(await compactRun(c, s, lengths, { backend: 'cuda' }, 12, true), want)).toBe(null);
      });
    });

  // More 256-element blocks than the grid has CUDA blocks (8 per SM): each CUDA block loops.
  gpuIt('a tensor of 2^20 + 5 elements (the kernel loops over blocks): int8 state, and bf16 params by stochastic rounding', async () => {
    const c = CASES.find((x) => x.label.startsWith('Adam {'))!;
    for (const s of [COMPACT_SETTINGS[1], { dtype: 'bf16', masterWeights: false, stateDtype: 'int8' } as const]) {
      const want = await compactRun(c, s, [(1 << 20) + 5, 3], { backend: 'js' }, 4);
      expect(firstDifference(await compactRun(c, s, [(1 << 20) + 5, 3], { backend: 'cuda' }, 4), want)).toBe(null);
    }
  });

  gpuIt('a stateDict of int8 state and bf16 params (stochastic rounding) taken mid-run continues bitwise on a fresh optimizer', async () => {
    const c = CASES.find((x) => x.label.startsWith('Adam {'))!;
    const s = { dtype: 'bf16', masterWeights: false, stateDtype: 'int8' } as const;
    const want = await compactRun(c, s, lengths, { backend: 'js' });
    const host = makeParams(lengths, 7);
    const half = host.map((p) => ({ name: p.name, data: narrowAll('bf16', p.data), grad: new Uint16Array(p.grad.length), dtype: 'bf16' as const }));
    const options = { ...c.options, backend: 'cuda', stateDtype: 'int8', masterWeights: false, seed: 11 };
    let opt = c.make(half as unknown as Param[], options);
    for (let t = 1; t <= 12; t++) {
      if (t === 7) {
        const saved = opt.stateDict();
        opt.dispose();
        opt = c.make(half as unknown as Param[], options);
        opt.loadStateDict(saved);
      }
      fillGrads(host, 7, t);
      half.forEach((p, i) => narrowAll('bf16', host[i].grad, p.grad));
      if (t % 3 === 0) await opt.stepAsync();
      else opt.step();
    }
    half.forEach((p) => expect(Buffer.from(p.data.buffer).equals(want.get(`param ${p.name}`)!)).toBe(true));
    opt.dispose();
  });
});
