import { describe, expect, it } from 'vitest';
import { CASES, fillGrads, makeParams, runSteps } from './cases';
import { LENGTHS, NATIVE_ISAS, firstBitDifference } from './helpers';

// The exactness contract: every ISA gives the same bits as the TypeScript reference, for every
// optimizer and option combination, every tail length, and views at odd offsets. Zero tolerance.
describe.each(CASES)('$label', (c) => {
  const reference = runSteps(c, LENGTHS, { backend: 'js' });

  it.each(NATIVE_ISAS)('native/%s is bitwise equal to js after 30 steps', (isa) => {
    const native = runSteps(c, LENGTHS, { backend: 'native', isa });
    expect(native.opt.backend).toBe(`native/${isa}`);
    native.params.forEach((p, i) => {
      expect({ param: p.name, at: firstBitDifference(p.data, reference.params[i].data) }).toEqual({ param: p.name, at: -1 });
      for (const [slot, array] of Object.entries(native.state.state[p.name!]))
        expect({ param: p.name, slot, at: firstBitDifference(array, reference.state.state[p.name!][slot]) }).toEqual({
          param: p.name,
          slot,
          at: -1,
        });
    });
  });

  it('moves the parameters (the comparison is not between two unchanged arrays)', () => {
    const start = runSteps(c, LENGTHS, { backend: 'js' }, 0);
    expect(firstBitDifference(reference.params[9].data, start.params[9].data)).not.toBe(-1);
  });
});

const THREAD_CASES = ['Adam {"amsgrad":true', 'SGD with three parameter groups', 'RMSProp gradScale 3', 'Adadelta gradScale 3', 'NAdam gradScale 3', 'RAdam gradScale 3', 'Lion gradScale 3'].map(
  (prefix) => CASES.find((x) => x.label.startsWith(prefix))!,
);

describe.each(THREAD_CASES)('thread count: $label', (c) => {
  const lengths = [70001, 5, 40000, ...Array.from({ length: 40 }, (_, i) => i * 37)];
  const reference = runSteps(c, lengths, { backend: 'js' }, 5);
  it.each([1, 2, 3, 7])('%i threads give the bits of the js backend', (threads) => {
    if (NATIVE_ISAS.length === 0) return expect.fail('the native addon is not loaded');
    const native = runSteps(c, lengths, { backend: 'native', threads }, 5);
    native.params.forEach((p, i) => expect(firstBitDifference(p.data, reference.params[i].data)).toBe(-1));
  });
});

describe('stepAsync', () => {
  it.each(['js', ...NATIVE_ISAS])('%s: 10 async steps give the bits of 10 sync steps', async (isa) => {
    const c = CASES[1];
    const backend = isa === 'js' ? { backend: 'js' } : { backend: 'native', isa };
    const sync = runSteps(c, LENGTHS, backend, 10);
    const params = makeParams(LENGTHS, 7);
    const opt = c.make(params, { ...c.options, ...backend });
    for (let t = 1; t <= 10; t++) {
      fillGrads(params, 7, t);
      await opt.stepAsync();
    }
    expect(opt.stepCount).toBe(10);
    params.forEach((p, i) => expect(firstBitDifference(p.data, sync.params[i].data)).toBe(-1));
  });
});
