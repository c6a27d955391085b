import { describe, expect, it } from 'vitest';
import { Adam, NAdam, type Param } from '../lib';
import { JS_STEP_MAX_ELEMENTS } from '../lib/backends/native';
import { fillGrads, makeParams } from './cases';
import { NATIVE_LOADED } from './helpers';

// The per-step path reuses what it can (lib/spec.ts stepOptions: one rule-options object per
// hyperparameters object; 'auto' steps tiny plans in TypeScript): what a step computes must still
// follow every change made between steps, on every backend.
const BACKENDS = NATIVE_LOADED ? (['auto', 'js', 'native'] as const) : (['js'] as const);

const bits = (params: Param[]) => params.map((p) => Array.from(new Uint32Array(p.data.buffer, p.data.byteOffset, p.data.length)));

describe.each(BACKENDS)('the step path (%s)', (backend) => {
  it('a hyperparameter set through paramGroups between steps is the one the next step uses', () => {
    const lengths = [5, 40];
    const changed = makeParams(lengths, 3), fresh = makeParams(lengths, 3);
    const a = new Adam(changed, { backend, beta1: 0.9, lr: 0.01 });
    const b = new Adam(fresh, { backend, beta1: 0.9, lr: 0.01 });
    for (const p of [changed, fresh]) fillGrads(p, 3, 1);
    a.step();
    b.step();
    a.paramGroups[0].beta1 = 0.5;
    a.paramGroups[0].eps = 1e-3;
    // The same values through a state dict into the other optimizer: its hyperparameters object is new.
    const sd = b.stateDict();
    b.loadStateDict({ ...sd, groups: sd.groups!.map((g) => ({ ...g, options: { ...g.options, beta1: 0.5, eps: 1e-3 } })) });
    for (let t = 2; t <= 4; t++) {
      for (const p of [changed, fresh]) fillGrads(p, 3, t);
      a.step();
      b.step();
    }
    expect(bits(changed)).toEqual(bits(fresh));
    // And the change mattered: a third optimizer that kept beta1 0.9 ends elsewhere.
    const kept = makeParams(lengths, 3);
    const c = new Adam(kept, { backend, beta1: 0.9, lr: 0.01 });
    for (let t = 1; t <= 4; t++) (fillGrads(kept, 3, t), c.step());
    expect(bits(kept)).not.toEqual(bits(changed));
  });

  it('lr and gradScale set between steps, and host state (NAdam mu_product), are what the next step uses', () => {
    const changed = makeParams([7, 70], 4), fresh = makeParams([7, 70], 4);
    const a = new NAdam(changed, { backend, lr: 0.01 });
    const b = new NAdam(fresh, { backend, lr: 0.01 });
    for (const p of [changed, fresh]) fillGrads(p, 4, 1);
    a.step();
    b.step();
    a.lr = 0.02;
    a.gradScale = 2;
    const sd = b.stateDict();
    const c = new NAdam(fresh, { backend, lr: 0.02, gradScale: 2 });
    c.loadStateDict({ ...sd, groups: sd.groups!.map((g) => ({ ...g, options: { ...g.options, lr: 0.02 } })) });
    for (let t = 2; t <= 4; t++) {
      for (const p of [changed, fresh]) fillGrads(p, 4, t);
      a.step();
      c.step();
    }
    expect(bits(changed)).toEqual(bits(fresh));
    expect(a.stateDict().groups![0].hostState).toEqual(c.stateDict().groups![0].hostState);
  });
});

describe.runIf(NATIVE_LOADED)("backend 'auto' around the size where it steps in TypeScript", () => {
  it('gives the bits of the native and js backends just below and above it', () => {
    for (const n of [1, JS_STEP_MAX_ELEMENTS, JS_STEP_MAX_ELEMENTS + 1]) {
      const runs = (['auto', 'native', 'js'] as const).map((backend) => {
        const params = makeParams([n], 9);
        const opt = new Adam(params, { backend, lr: 0.01, amsgrad: true });
        for (let t = 1; t <= 5; t++) (fillGrads(params, 9, t), opt.step());
        return bits(params);
      });
      expect(runs[0]).toEqual(runs[2]);
      expect(runs[1]).toEqual(runs[2]);
    }
  });

  it('still refuses a detached array of a tiny plan before touching anything', () => {
    const data = new Float32Array(4).fill(1), grad = new Float32Array(4).fill(0.5);
    const opt = new Adam([{ data, grad }]);
    opt.step();
    const before = Array.from(data);
    structuredClone(grad.buffer, { transfer: [grad.buffer] });
    expect(() => opt.step()).toThrow(/grad was detached/);
    expect(Array.from(data)).toEqual(before);
    expect(opt.stepCount).toBe(1);
  });
});

describe.runIf(NATIVE_LOADED)('many separately allocated tensors (the native step prefetches where a stream jumps)', () => {
  it('give the bits of the js backend on 1 and 2 threads, amsgrad state present or not', () => {
    const lengths = Array.from({ length: 60 }, (_, i) => 1 + ((i * 37) % 300));
    const separate = () =>
      lengths.map((n, i) => {
        const data = new Float32Array(n), grad = new Float32Array(n);
        for (let j = 0; j < n; j++) (data[j] = Math.sin(i + j), grad[j] = Math.cos(3 * i + j));
        return { data, grad };
      });
    for (const threads of [1, 2])
      for (const amsgrad of [false, true]) {
        const [a, b] = [separate(), separate()];
        const native = new Adam(a, { backend: 'native', threads, amsgrad });
        const js = new Adam(b, { backend: 'js', amsgrad });
        for (let t = 0; t < 3; t++) (native.step(), js.step());
        expect(bits(a)).toEqual(bits(b));
      }
  });
});
