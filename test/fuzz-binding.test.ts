// Raw-binding fuzz: the compiled addon called directly with hostile arguments (lib/ validates
// nothing here). The only property: no crash, each call returns or throws a JS error. Each entry
// point runs in its own child process (fast-check, fixed seed), so a crash fails one test.
import { describe, expect, it } from 'vitest';
import { describeChild, runChild } from './child';
import { NO_NATIVE, describeUnless } from './helpers';

const SEED = 20261201;
/** Cases per entry point. */
export const BINDING_RUNS = 400;

// Shared by every child: hostile values of every kind, and typed arrays in odd states.
const PRELUDE = `
const fc = require('fast-check');
const b = require('./dist/backends/load').loadNative().binding;
const sharedOnce = new SharedArrayBuffer(64);
const detached = () => { const a = new Float32Array(8); structuredClone(a.buffer, { transfer: [a.buffer] }); return a; };
const arrays = fc.oneof(
  fc.integer({ min: 0, max: 70 }).map((n) => new Float32Array(n).fill(0.5)),
  fc.integer({ min: 0, max: 70 }).map((n) => new Float32Array(new SharedArrayBuffer(4 * n))),
  fc.integer({ min: 1, max: 40 }).map((n) => new Float32Array(64).subarray(n)),
  fc.constant(0).map(() => detached()),
  fc.constant(0).map(() => new Float64Array(4)),
  fc.constant(0).map(() => new Uint32Array(4)),
  fc.constant(0).map(() => new Proxy(new Float32Array(4), {})),
  fc.constant(0).map(() => Object.create(Float32Array.prototype)),
  fc.constant(0).map(() => { const a = new Float32Array(4); Object.defineProperty(a, 'buffer', { value: new ArrayBuffer(1 << 20) }); Object.defineProperty(a, 'length', { value: 1 << 18 }); return a; }),
  fc.constant(0).map(() => new DataView(new ArrayBuffer(16))),
  fc.constant(0).map(() => new Float32Array(new ArrayBuffer(16, { maxByteLength: 64 }))),
  fc.constant(0).map(() => new Float32Array(new SharedArrayBuffer(16, { maxByteLength: 64 }))),
  fc.constant(0).map(() => new Float32Array(structuredClone(sharedOnce))),  // the same memory each time
);
const numbers = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1, 2, 3, 4, 5, -1, 1e-46, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 53, 1025, 1024, 0.5, 7.9),
  fc.double(),
  fc.integer({ min: -3, max: 20 }),
  fc.constantFrom(1e300, -1e300, 2 ** 64),
);
const small = fc.oneof(fc.integer({ min: -3, max: 20 }), fc.constantFrom(NaN, Infinity, -1, 0.5, 2 ** 32 + 1));
const anything = fc.oneof(
  numbers,
  arrays,
  fc.constantFrom(null, undefined, '', 'x', '__proto__', true, {}, [], Symbol('s'), 10n, () => 1),
  fc.constant(0).map(() => ({ get length() { throw new Error('getter'); } })),
  fc.constant(0).map(() => new Proxy([], { get() { throw new Error('trap'); } })),
);
const list = (of) => fc.oneof(
  fc.array(of, { maxLength: 12 }),
  fc.array(of, { maxLength: 6 }).map((a) => { a.length += 3; return a; }),  // holes
  fc.constant(0).map(() => new Proxy([new Float32Array(4)], { get(t, k) { if (k === '0') throw new Error('trap'); return t[k]; } })),
);
let cases = 0;
const run = (arb, f) => fc.assert(fc.property(arb, (args) => {
  cases++;
  try { f(args); } catch (e) { if (!(e instanceof Error)) throw new Error('threw a non-Error: ' + String(e)); }
}), { seed: ${SEED}, numRuns: ${BINDING_RUNS} });
`;

const ENTRIES: Record<string, string> = {
  'new Plan': `
const ruleIds = Object.values(b.rules).map((r) => r.id);
// Arrays the rule's slot count fits, one group per tensor, so the checks past the count run too.
const shaped = fc.tuple(fc.constantFrom(...ruleIds), fc.integer({ min: 1, max: 3 }), fc.array(fc.oneof(arrays, fc.constant(null)), { minLength: 1, maxLength: 18 }))
  .map(([id, tensors, pool]) => {
    const slots = Object.values(b.rules).find((r) => r.id === id).slots.length;
    return [id, Array.from({ length: tensors * slots }, (_, i) => pool[i % pool.length]), Array(tensors).fill(1)];
  });
run(fc.tuple(fc.oneof(shaped, fc.tuple(fc.oneof(small, anything), fc.oneof(list(fc.oneof(arrays, anything)), anything), fc.oneof(list(numbers), anything, fc.constant(undefined)))),
    fc.oneof(small, anything), fc.oneof(small, anything), fc.nat(2)),
  ([[rule, arrs, groups], isa, threads, argc]) => {
    const args = [rule, arrs, groups, isa, threads];
    new b.Plan(...args.slice(0, args.length - argc));
  });`,
  'Plan.step and stepAsync': `
const fresh = () => new Float32Array(40).fill(0.25);
const shared = () => new Float32Array(new SharedArrayBuffer(160));
const plans = (which, isa, threads) => {
  const arrs = which === 0 ? [fresh(), fresh(), fresh(), fresh(), null] : [shared(), shared(), shared(), fresh(), fresh(), fresh()];
  const rule = which === 0 ? b.rules.adam : b.rules.sgd;
  return { plan: new b.Plan(rule.id, arrs.slice(0, rule.slots.length * (which === 0 ? 1 : 2)), which === 0 ? [1] : [1, 1], isa, threads), arrs };
};
const pending = [];
run(fc.tuple(fc.nat(1), fc.oneof(fc.constantFrom(...b.isas.keys()), small, anything), fc.oneof(arrays, fc.integer({ min: 0, max: 40 }).map((n) => new Float32Array(n)), anything),
    fc.oneof(small, anything, fc.constant(0).map(() => new Uint32Array(2)), fc.constant(0).map(() => new Uint32Array(1))), fc.oneof(fc.constantFrom(1, 2, 0), small, anything),
    fc.constantFrom(-1, 0, 3, 5), fc.boolean()),
  ([which, isa, scalars, flags, threads, detach, async]) => {
    const { plan, arrs } = plans(which, isa, threads);
    const victim = arrs[detach];
    if (victim && victim.buffer instanceof ArrayBuffer) structuredClone(victim.buffer, { transfer: [victim.buffer] });
    const r = async ? plan.stepAsync(scalars, flags) : plan.step(scalars, flags);
    if (r && r.then) pending.push(r.catch(() => {}));
  });
Promise.all(pending).then(() => { global.gc(); console.log('cases ' + cases); console.log('ok'); });
`,
  'allocFloat32, cpuInfo, sumSquares, scaleArrays, clampArrays, StreamProbe': `
run(fc.tuple(fc.nat(5), fc.oneof(small, anything), fc.oneof(small, anything), fc.oneof(list(arrays), anything), fc.oneof(numbers, anything)),
  ([which, a, c, arrs, x]) => {
    if (which === 0) b.allocFloat32(typeof a === 'number' && a > 1 << 20 ? 1 << 20 : a);
    if (which === 1) b.cpuInfo(a);
    if (which === 2) b.sumSquares(a, c, arrs);
    if (which === 3) b.scaleArrays(a, c, arrs, x);
    if (which === 4) b.clampArrays(a, c, arrs, x);
    if (which === 5) new b.StreamProbe(a, arrs, c).run();
  });`,
  'cuda entry points (no device: each answers with its reason)': `
run(fc.tuple(fc.nat(4), fc.oneof(small, anything), fc.oneof(small, anything), fc.oneof(list(fc.oneof(arrays, anything)), anything)),
  ([which, a, c, items]) => {
    if (which === 0) b.cuda.info(a);
    if (which === 1) new b.cuda.DeviceBuffer(typeof a === 'number' && a > 1 << 20 ? 1 << 20 : a);
    if (which === 2) new b.cuda.Plan(a, c, items);
    if (which === 3) b.cuda.timeCopy(a, c, items);
    if (which === 4) b.cuda.DeviceBuffer.prototype.download.call(a, c);
  });`,
};

describeUnless(NO_NATIVE)(`fuzz: the raw binding never crashes (${BINDING_RUNS} cases per entry point)`, () => {
  for (const [name, body] of Object.entries(ENTRIES))
    it(name, () => {
      const finish = body.includes("console.log('ok')") ? '' : "\nglobal.gc(); console.log('cases ' + cases); console.log('ok');";
      const r = runChild(PRELUDE + body + finish);
      expect(r.stdout.trim().split('\n').pop(), describeChild(r)).toBe('ok');
      expect(r.stdout).toContain(`cases ${BINDING_RUNS}`);
    });
});
