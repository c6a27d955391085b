import { describe, expect, it } from 'vitest';
import { OPTIMIZERS, type Param, SGD } from '../lib';
import { fillGrads, makeParams } from './cases';
import { NATIVE_LOADED, firstBitDifference } from './helpers';

const BACKENDS = NATIVE_LOADED ? (['js', 'native'] as const) : (['js'] as const);
type Make = (p: Param[], o: Record<string, unknown>) => { step(): boolean; stepAsync(): Promise<boolean>; stepCount: number; stateDict(): unknown };
// Each optimizer with state in every slot its main paths use (registry `paths`).
const MAKERS: Array<[string, Make]> = OPTIMIZERS.map((e) => [e.name, (p, o) => new e.Class(p, { ...e.base, ...e.paths, ...o })]);
const CASES = MAKERS.flatMap(([name, make]) => BACKENDS.map((backend) => ({ label: `${name} ${backend}`, make, backend })));

describe.each(CASES)('gradScale: $label', ({ make, backend }) => {
  it('gradScale: grads scaled by a power of two and divided back give the bits of unscaled grads', () => {
    const plain = makeParams([40, 1025], 4), scaled = makeParams([40, 1025], 4);
    const a = make(plain, { backend }), b = make(scaled, { backend, gradScale: 1024 });
    for (let t = 1; t <= 5; t++) {
      fillGrads(plain, 4, t);
      fillGrads(scaled, 4, t);
      for (const p of scaled) for (let i = 0; i < p.grad.length; i++) p.grad[i] *= 1024;
      a.step();
      b.step();
    }
    plain.forEach((p, i) => expect(firstBitDifference(p.data, scaled[i].data)).toBe(-1));
  });
});

describe('gradScale is a division inside the kernel, not a reciprocal multiply', () => {
  it.each(BACKENDS)('SGD lr 1 from 0: p = -(g/3) exactly (%s)', (backend) => {
    const p: Param = { data: new Float32Array(1000), grad: new Float32Array(1000) };
    for (let i = 0; i < 1000; i++) p.grad[i] = Math.fround(1 + i / 7);
    const opt = new SGD([p], { lr: 1, gradScale: 3, backend });
    opt.step();
    let differsFromReciprocal = 0;
    for (let i = 0; i < 1000; i++) {
      expect(p.data[i]).toBe(-Math.fround(p.grad[i] / 3));
      if (p.data[i] !== -Math.fround(p.grad[i] * Math.fround(1 / 3))) differsFromReciprocal++;
    }
    expect(differsFromReciprocal).toBeGreaterThan(0); // the two would be told apart
  });

  it('opt.gradScale can change between steps (dynamic loss scaling)', () => {
    const p: Param = { data: new Float32Array([0]), grad: new Float32Array([8]) };
    const opt = new SGD([p], { lr: 1, backend: 'js' });
    expect(opt.gradScale).toBe(1);
    opt.gradScale = 4;
    opt.step();
    expect(p.data[0]).toBe(-2);
  });
});

