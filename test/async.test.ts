import { describe, expect, it } from 'vitest';
import { Adam } from '../lib';
import { loadNative } from '../lib/backends/load';
import { adamRule } from '../lib/rules/adam';
import { fillGrads, makeParams } from './cases';
import { NO_NATIVE, firstBitDifference, itUnless } from './helpers';


/**
 * Runs stepAsync up to `rounds` times, until a 1 ms interval timer has fired `wanted` times while
 * a step was in flight (between the call and the continuation after its promise settled).
 */
async function ticksDuringSteps(opt: Adam, wanted: number, rounds: number): Promise<number> {
  let inFlight = false;
  let ticks = 0;
  const timer = setInterval(() => {
    if (inFlight) ticks++;
  }, 1);
  try {
    for (let round = 0; round < rounds && ticks < wanted; round++) {
      inFlight = true;
      await opt.stepAsync();
      inFlight = false;
    }
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

function bigParam(n: number) {
  return [{ name: 'w', data: new Float32Array(n).fill(1), grad: new Float32Array(n).fill(0.5) }];
}

describe('stepAsync', () => {
  itUnless(NO_NATIVE)('keeps the event loop free: a timer fires while the step is in flight', async () => {
    const opt = new Adam(bigParam(1 << 22), { backend: 'native', threads: 1 });
    expect(await ticksDuringSteps(opt, 3, 1000)).toBeGreaterThanOrEqual(3);
  });

  it('the timer count can tell: the js backend steps on the calling thread and no tick lands in flight', async () => {
    const opt = new Adam(bigParam(1 << 20), { backend: 'js' });
    expect(await ticksDuringSteps(opt, 1, 5)).toBe(0);
  });

  itUnless(NO_NATIVE)('gives the bits of step()', async () => {
    const lengths = [70001, 5, 1024, 33];
    const a = makeParams(lengths, 11), b = makeParams(lengths, 11);
    const syncOpt = new Adam(a, { backend: 'native', amsgrad: true, threads: 2 });
    const asyncOpt = new Adam(b, { backend: 'native', amsgrad: true, threads: 2 });
    for (let t = 1; t <= 3; t++) {
      fillGrads(a, 11, t);
      fillGrads(b, 11, t);
      syncOpt.step();
      await asyncOpt.stepAsync();
    }
    expect(asyncOpt.stepCount).toBe(3);
    a.forEach((p, i) => expect(firstBitDifference(b[i].data, p.data)).toBe(-1));
  });

  itUnless(NO_NATIVE)('refuses step, stepAsync, zeroGrad, stateDict and loadStateDict while in flight, and changes nothing', async () => {
    const lengths = [100000, 17];
    const params = makeParams(lengths, 5), reference = makeParams(lengths, 5);
    fillGrads(params, 5, 1);
    fillGrads(reference, 5, 1);
    const opt = new Adam(params, { backend: 'native' });
    const saved = opt.stateDict();
    const gradBefore = new Float32Array(params[0].grad);

    const pending = opt.stepAsync();
    // All synchronous: the step cannot settle before this block ends.
    expect(() => opt.step()).toThrow(new Error('Adam.step: a stepAsync is in flight; await it first'));
    const second = opt.stepAsync();
    expect(() => opt.zeroGrad()).toThrow(new Error('Adam.zeroGrad: a stepAsync is in flight; await it first'));
    expect(() => opt.stateDict()).toThrow(new Error('Adam.stateDict: a stepAsync is in flight; await it first'));
    expect(() => opt.loadStateDict(saved)).toThrow(
      new Error('Adam.loadStateDict: a stepAsync is in flight; await it first'),
    );
    await expect(second).rejects.toThrow(new Error('Adam.stepAsync: a stepAsync is in flight; await it first'));
    await pending;

    expect(opt.stepCount).toBe(1);
    expect(firstBitDifference(params[0].grad, gradBefore)).toBe(-1);
    const once = new Adam(reference, { backend: 'native' });
    once.step();
    params.forEach((p, i) => expect(firstBitDifference(p.data, reference[i].data)).toBe(-1));
    // And the optimizer is usable again.
    opt.zeroGrad();
    expect(() => opt.stateDict()).not.toThrow();
  });

  itUnless(NO_NATIVE)('the native plan itself refuses a second step while one is in flight', async () => {
    const binding = loadNative().binding!;
    const n = 50000;
    const arrays = [1, 2, 3, 4].map(() => new Float32Array(n).fill(0.25));
    const layout = binding.rules.adam;
    const isa = binding.isas.indexOf(binding.cpuInfo().best);
    const plan = new binding.Plan(layout.id, [...arrays, null], undefined, isa, 2);
    const flags = new Uint32Array(1);
    const scalars = new Float32Array(layout.scalars.length);
    adamRule.scalars(
      { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, decoupled: false, biasCorrection: true, gradScale: 1 },
      1,
      scalars,
    );
    const pending = plan.stepAsync(scalars, flags);
    expect(plan.busy).toBe(true);
    expect(() => plan.step(scalars, flags)).toThrow(new Error('a step is already in flight on this optimizer'));
    expect(() => plan.stepAsync(scalars, flags)).toThrow(new Error('a step is already in flight on this optimizer'));
    await pending;
    expect(plan.busy).toBe(false);
    // Exactly one step ran: the bits of one synchronous step on a twin plan.
    const twin = [1, 2, 3, 4].map(() => new Float32Array(n).fill(0.25));
    new binding.Plan(layout.id, [...twin, null], undefined, isa, 2).step(scalars, flags);
    expect(arrays[0][0]).not.toBe(0.25);
    arrays.forEach((a, k) => expect({ slot: k, at: firstBitDifference(a, twin[k]) }).toEqual({ slot: k, at: -1 }));
  });
});
