import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Adam, type Param, SGD, allocFloat32, cuda } from '../lib';
import { loadNative } from '../lib/backends/load';
import { fillGrads, makeParams } from './cases';
import { NATIVE_LOADED } from './helpers';

const BACKENDS = NATIVE_LOADED ? (['js', 'native'] as const) : (['js'] as const);
const LENGTHS = [5, 33, 1000, 17];

const bits = (params: Param[]) => params.map((p) => Array.from(new Uint32Array(p.data.buffer, p.data.byteOffset, p.data.length)));

describe.each(BACKENDS)('training-loop API (%s)', (backend) => {
  it('addParamGroup: the new group steps as a fresh optimizer of its own (its own step count, as PyTorch)', () => {
    const together = makeParams(LENGTHS, 3);
    const apart = makeParams(LENGTHS, 3);
    const opt = new Adam(together.slice(0, 2), { lr: 0.01, backend });
    const a = new Adam(apart.slice(0, 2), { lr: 0.01, backend });
    for (let t = 1; t <= 2; t++) {
      fillGrads(together, 3, t);
      fillGrads(apart, 3, t);
      opt.step();
      a.step();
    }
    opt.addParamGroup({ params: together.slice(2), lr: 0.05, amsgrad: true });
    const b = new Adam(apart.slice(2), { lr: 0.05, amsgrad: true, backend });
    expect(opt.paramGroups.length).toBe(2);
    expect(opt.paramGroups[1].params[0]).toBe(together[2]);
    expect(opt.paramGroups[1].beta1).toBe(0.9);
    const resumed = makeParams(LENGTHS, 3);
    let copy: Adam | null = null;
    for (let t = 3; t <= 7; t++) {
      if (t === 5) {
        // A state dict carries the group's own step count: a copy made now steps on identically.
        for (const [i, p] of resumed.entries()) p.data.set(together[i].data);
        copy = new Adam([{ params: resumed.slice(0, 2) }, { params: resumed.slice(2), lr: 0.05, amsgrad: true }], { lr: 0.01, backend });
        copy.loadStateDict(opt.stateDict());
        expect(opt.stateDict().groups.map((g) => g.step)).toEqual([undefined, 2]);
      }
      fillGrads(together, 3, t);
      fillGrads(apart, 3, t);
      fillGrads(resumed, 3, t);
      opt.step();
      a.step();
      b.step();
      copy?.step();
    }
    expect(bits(together)).toEqual(bits(apart));
    expect(bits(resumed)).toEqual(bits(together));
    expect(Object.keys(opt.stateDict().state)).toEqual(['p0', 'p1', 'p2', 'p3']);
  });

  it('addParamGroup with SGD steps the new group bitwise as a separate SGD (no step-count dependence)', () => {
    const together = makeParams(LENGTHS, 4);
    const apart = makeParams(LENGTHS, 4);
    const opt = new SGD(together.slice(0, 1), { lr: 0.1, momentum: 0.9, backend });
    const a = new SGD(apart.slice(0, 1), { lr: 0.1, momentum: 0.9, backend });
    opt.addParamGroup({ params: together.slice(1), lr: 0.02, nesterov: true });
    const b = new SGD(apart.slice(1), { lr: 0.02, momentum: 0.9, nesterov: true, backend });
    for (let t = 1; t <= 5; t++) {
      fillGrads(together, 4, t);
      fillGrads(apart, 4, t);
      opt.step();
      a.step();
      b.step();
    }
    expect(bits(together)).toEqual(bits(apart));
  });

  it('addParamGroup checks everything first and names the problem; a throw changes nothing', () => {
    const params = makeParams(LENGTHS, 5);
    const opt = new Adam(params.slice(0, 2), { backend });
    expect(() => opt.addParamGroup({ params: params.slice(1, 3) })).toThrow(/paramGroups\[1\]\.params\[0\] "p1" has the same name as params\[1\]/);
    expect(() => opt.addParamGroup({ params: [{ name: 'x', data: params[0].data, grad: new Float32Array(5) }] })).toThrow(/share|overlap/);
    expect(() => opt.addParamGroup({ params: params.slice(2), beta1: 1 })).toThrow(RangeError);
    expect(() => opt.addParamGroup({ params: params.slice(2), betaOne: 0.5 } as never)).toThrow(/betaOne/);
    expect(() => opt.addParamGroup({} as never)).toThrow(/params is required/);
    expect(() => opt.addParamGroup({ params: [] })).toThrow(/empty/);
    expect(opt.paramGroups.length).toBe(1);
    // Unnamed parameters go on numbering after the existing ones.
    opt.addParamGroup({ params: params.slice(2) });
    expect(opt.stateDict().groups.map((g) => g.params)).toEqual([['p0', 'p1'], ['p2', 'p3']]);
    const sgd = new SGD(params.slice(0, 1), { lr: 0.1 });
    expect(() => sgd.addParamGroup({ params: params.slice(1, 2), nesterov: true })).toThrow(/nesterov/);
  });

  it('every hyperparameter is writable, applied from the next step, bitwise as a state dict carrying it', () => {
    const mine = makeParams(LENGTHS, 6);
    const ref = makeParams(LENGTHS, 6);
    const opt = new Adam([{ params: mine.slice(0, 2) }, { params: mine.slice(2) }], { backend });
    const other = new Adam([{ params: ref.slice(0, 2) }, { params: ref.slice(2) }], { backend });
    for (let t = 1; t <= 3; t++) {
      fillGrads(mine, 6, t);
      fillGrads(ref, 6, t);
      opt.step();
      other.step();
    }
    opt.paramGroups[1].beta1 = 0.95;
    opt.paramGroups[0].weightDecay = 0.1;
    opt.paramGroups[1].amsgrad = true; // needs max_exp_avg_sq: allocated zeroed
    expect(opt.paramGroups[1].options).toMatchObject({ beta1: 0.95, amsgrad: true });
    const sd = other.stateDict();
    sd.groups[0].options.weightDecay = 0.1;
    sd.groups[1].options.beta1 = 0.95;
    sd.groups[1].options.amsgrad = true;
    for (const name of ['p2', 'p3']) sd.state[name].max_exp_avg_sq = new Float32Array(sd.state[name].exp_avg.length);
    other.loadStateDict(sd);
    for (let t = 4; t <= 8; t++) {
      fillGrads(mine, 6, t);
      fillGrads(ref, 6, t);
      opt.step();
      other.step();
    }
    expect(bits(mine)).toEqual(bits(ref));
    expect(opt.stateDict().state.p2.max_exp_avg_sq).toBeDefined();
  });

  it('momentum from 0 allocates a zeroed buffer: bitwise as an SGD that had momentum from a zero buffer', () => {
    const mine = makeParams(LENGTHS, 7);
    const ref = makeParams(LENGTHS, 7);
    const opt = new SGD(mine, { lr: 0.1, backend });
    const other = new SGD(ref, { lr: 0.1, momentum: 0.5, backend });
    fillGrads(mine, 7, 1);
    fillGrads(ref, 7, 1);
    opt.step();
    // Without momentum the first step is p - lr*g; the reference gets there with a zero buffer reset after.
    for (const [i, p] of ref.entries()) p.data.set(mine[i].data);
    opt.paramGroups[0].momentum = 0.5;
    const sd = other.stateDict();
    sd.step = 1;
    for (const k of Object.keys(sd.state)) sd.state[k].momentum_buffer.fill(0);
    other.loadStateDict(sd);
    for (let t = 2; t <= 5; t++) {
      fillGrads(mine, 7, t);
      fillGrads(ref, 7, t);
      opt.step();
      other.step();
    }
    expect(bits(mine)).toEqual(bits(ref));
  });

  it('invalid hyperparameter values throw (naming group and option) and change nothing', () => {
    const params = makeParams(LENGTHS, 8);
    const opt = new SGD([{ params: params.slice(0, 1) }, { params: params.slice(1), momentum: 0.9 }], { lr: 0.1, backend });
    const g = opt.paramGroups[1];
    expect(() => (g.momentum = -1)).toThrow(RangeError);
    expect(() => (g.momentum = -1)).toThrow(/paramGroups\[1\] option 'momentum'/);
    expect(() => (g.nesterov = 'yes' as never)).toThrow(TypeError);
    expect(() => (g.weightDecay = undefined as never)).toThrow(TypeError);
    expect(() => (opt.paramGroups[0].nesterov = true)).toThrow(/nesterov/); // momentum 0 there
    expect(() => ((g as unknown as Record<string, number>).mommentum = 1)).toThrow(TypeError);
    expect(opt.paramGroups.map((x) => x.options)).toEqual([
      { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false },
      { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, maximize: false },
    ]);
    expect(Object.keys(opt.stateDict().state.p0)).toEqual([]);
  });

  it('p.grad and p.data replaced by new arrays are used from the next step, bitwise as copying the values in', () => {
    const mine = makeParams(LENGTHS, 9);
    const ref = makeParams(LENGTHS, 9);
    const opt = new Adam(mine, { lr: 0.01, backend });
    const other = new Adam(ref, { lr: 0.01, backend });
    for (let t = 1; t <= 6; t++) {
      fillGrads(ref, 9, t);
      const fresh = makeParams(LENGTHS, 9).map((p, i) => ({ ...p, name: mine[i].name }));
      fillGrads(fresh, 9, t);
      for (const [i, p] of mine.entries()) {
        p.grad = fresh[i].grad; // a new array every step, as an autograd library hands out
        if (t === 3) p.data = new Float32Array(p.data); // and once a new data array
      }
      opt.step();
      other.step();
    }
    expect(bits(mine)).toEqual(bits(ref));
    opt.zeroGrad();
    expect(mine.every((p) => p.grad.every((x) => x === 0))).toBe(true);
  });

  it('a replacement of another length or type is an error naming the parameter; nothing changes', () => {
    const params = makeParams(LENGTHS, 10);
    const opt = new Adam(params, { backend });
    fillGrads(params, 10, 1);
    const before = bits(params);
    const grad = params[2].grad;
    params[2].grad = new Float32Array(999);
    expect(() => opt.step()).toThrow(/params\[2\] "p2": grad was replaced by an array of length 999; the parameter has length 1000/);
    params[2].grad = new Float64Array(1000) as never;
    expect(() => opt.step()).toThrow(TypeError);
    params[2].grad = params[2].data;
    expect(() => opt.step()).toThrow(/params\[2\] "p2" (data|grad)/);
    expect(bits(params)).toEqual(before);
    expect(opt.stepCount).toBe(0);
    params[2].grad = grad;
    expect(opt.step()).toBe(true);
  });

  it('dispose(): every later call throws "disposed"; a second dispose does nothing', () => {
    const params = makeParams(LENGTHS, 11);
    const opt = new Adam(params, { backend });
    fillGrads(params, 11, 1);
    opt.step();
    opt.dispose();
    expect(opt.disposed).toBe(true);
    expect(() => opt.step()).toThrow(/disposed/);
    expect(() => opt.zeroGrad()).toThrow(/disposed/);
    expect(() => opt.stateDict()).toThrow(/disposed/);
    expect(() => opt.addParamGroup({ params: makeParams([3], 1).map((p) => ({ ...p, name: 'n' })) })).toThrow(/disposed/);
    expect(() => (opt.paramGroups[0].beta1 = 0.5)).toThrow(/disposed/);
    expect(() => (opt.lr = 0.5)).toThrow(/disposed/);
    return expect(opt.stepAsync()).rejects.toThrow(/disposed/).then(() => opt.dispose());
  });
});

// Under `npm run test:asan` the allocator's quarantine keeps freed memory resident (256 MB by
// default), which is the sanitizer's RSS, not this library's: the RSS children run without it.
function rssEnv(): NodeJS.ProcessEnv {
  const asan = process.env.ASAN_OPTIONS;
  return asan === undefined ? process.env : { ...process.env, ASAN_OPTIONS: `${asan}:quarantine_size_mb=0:thread_local_quarantine_size_kb=0` };
}

// Peak RSS of 100 x (new Adam over 4M params, one step) in one synchronous loop, in a child process
// against the compiled package (dist/, built by pretest): this process's heap is not measured.
function peakRss(dispose: boolean): number {
  const code = `
    const { Adam } = require('./dist');
    const n = 4 << 20;
    const p = { data: new Float32Array(n), grad: new Float32Array(n).fill(0.01) };
    let peak = 0;
    for (let i = 0; i < 100; i++) {
      const opt = new Adam([p], { lr: 1e-3, backend: 'native' });
      opt.step();
      ${dispose ? 'opt.dispose();' : ''}
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    console.log(JSON.stringify({ peak }));`;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: path.join(__dirname, '..'), encoding: 'utf8', env: rssEnv() });
  expect(r.stderr).toBe('');
  return (JSON.parse(r.stdout) as { peak: number }).peak;
}

describe.skipIf(!NATIVE_LOADED)('dispose frees native memory now', () => {
  it('100 x (new Adam over 4M params, one step, dispose) in one synchronous loop peaks below 600 MB RSS', () => {
    expect(peakRss(true)).toBeLessThan(600 * 2 ** 20);
  });
});

describe.skipIf(!NATIVE_LOADED)('without dispose() memory stays bounded', () => {
  it('100 x (new Adam over 4M params, one step, dropped) in one synchronous loop peaks below 600 MB RSS, no explicit gc', () => {
    // The state is V8's own memory and a plan holds its arrays weakly, so the collector frees both
    // within the loop; nothing waits for the event loop to turn.
    expect(peakRss(false)).toBeLessThan(600 * 2 ** 20);
  });

  it('an optimizer dropped during its stepAsync keeps its arrays until the step settles', async () => {
    const code = `
      const { Adam } = require('./dist');
      const n = 1 << 22;
      const p = { data: new Float32Array(n), grad: new Float32Array(n).fill(0.01) };
      let opt = new Adam([p], { backend: 'native' });
      const pending = opt.stepAsync();
      opt = null;
      for (let i = 0; i < 20; i++) { new Float32Array(n); gc(); }
      pending.then(() => console.log('ok'));`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', code], { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
  });
});

describe.skipIf(!NATIVE_LOADED)('freeFloat32 (the native release dispose() uses)', () => {
  const binding = loadNative().binding!;

  it('detaches an allocFloat32 buffer (every view empty) once; any other array is left alone', () => {
    const a = allocFloat32(1 << 20);
    const view = a.subarray(16, 32);
    a.fill(2);
    expect(binding.freeFloat32!(a)).toBe(true);
    expect(a.length).toBe(0);
    expect(view.length).toBe(0);
    expect(binding.freeFloat32!(a)).toBe(false);
    const mine = new Float32Array([1, 2]);
    expect(binding.freeFloat32!(mine)).toBe(false);
    expect(Array.from(mine)).toEqual([1, 2]);
    expect(() => binding.freeFloat32!(new Float64Array(2) as never)).toThrow(TypeError);
  });

  it('frees nothing while a step runs off the JavaScript thread: the array is left to the collector', async () => {
    const opt = new Adam(makeParams([1 << 16], 1), { backend: 'native' });
    const a = allocFloat32(1 << 20);
    a.fill(3);
    const pending = opt.stepAsync();
    expect(binding.freeFloat32!(a)).toBe(false);
    expect(a.length).toBe(1 << 20);
    expect(a[12345]).toBe(3);
    await pending;
    expect(binding.freeFloat32!(a)).toBe(true);
    expect(a.length).toBe(0);
  });

  it('allocFloat32 views are aligned inside a V8 buffer one alignment larger', () => {
    const small = allocFloat32(1000);
    expect(small.buffer.byteLength).toBe(4000 + 64);
    expect(small.byteOffset).toBeLessThan(64);
    const large = allocFloat32(1 << 20);
    expect(large.buffer.byteLength).toBe(4 * (1 << 20) + 2 ** 21);
    expect(large.byteOffset).toBeLessThan(2 ** 21);
  });

  it('a step over a freed array throws instead of touching it', () => {
    const data = allocFloat32(64), grad = allocFloat32(64);
    const opt = new Adam([{ data, grad }], { backend: 'native' });
    opt.step();
    binding.freeFloat32!(grad);
    expect(() => opt.step()).toThrow(/grad was detached/);
  });

  it('dispose() waits for nothing: refused while a stepAsync is in flight', async () => {
    const params = makeParams([1000], 1);
    const opt = new Adam(params, { backend: 'native' });
    const pending = opt.stepAsync();
    expect(() => opt.dispose()).toThrow(/stepAsync is in flight/);
    await pending;
    opt.dispose();
    expect(opt.disposed).toBe(true);
  });
});

describe.skipIf(!NATIVE_LOADED)('setting options while a stepAsync is in flight', () => {
  it('a value is taken for the next step; a value that needs new state is refused', async () => {
    const params = makeParams([1000], 2);
    const opt = new Adam(params, { backend: 'native' });
    const pending = opt.stepAsync();
    opt.paramGroups[0].beta1 = 0.8;
    opt.lr = 0.002;
    expect(() => (opt.paramGroups[0].amsgrad = true)).toThrow(/stepAsync is in flight/);
    await pending;
    expect(opt.paramGroups[0].options).toMatchObject({ beta1: 0.8, lr: 0.002, amsgrad: false });
    opt.paramGroups[0].amsgrad = true;
    expect(opt.step()).toBe(true);
  });
});

const gpu = cuda.info();
const hasGpu = gpu.deviceCount > 0;
describe('on the GPU', () => {
  const title = 'DeviceTensor params: a replaced grad is used, host params refused by addParamGroup, dispose';
  it.skipIf(!hasGpu)(hasGpu ? title : `${title} (skipped: no CUDA device: ${gpu.error})`, () => {
    const host = makeParams([1000, 17], 12);
    fillGrads(host, 12, 1);
    const upload = () => host.map((p) => ({ name: p.name, data: cuda.upload(p.data), grad: cuda.upload(p.grad) }));
    const mine = upload(), ref = upload();
    const opt = new Adam(mine), other = new Adam(ref);
    opt.step();
    other.step();
    fillGrads(host, 12, 2);
    mine.forEach((p, i) => (p.grad = cuda.upload(host[i].grad)));
    ref.forEach((p, i) => p.grad.copyFrom(host[i].grad));
    opt.step();
    other.step();
    mine.forEach((p, i) => expect(Array.from(p.data.download())).toEqual(Array.from(ref[i].data.download())));
    expect(() => opt.addParamGroup({ params: [{ name: 'h', data: new Float32Array(3), grad: new Float32Array(3) }] })).toThrow(TypeError);
    opt.dispose();
    expect(() => opt.step()).toThrow(/disposed/);
  });
});
