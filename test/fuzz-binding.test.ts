// Raw-binding fuzz: the compiled addon called directly with hostile arguments (lib/ validates
// nothing here). The only property: no crash, each call returns or throws a JS error. Each entry
// point runs in its own child process (fast-check, fixed seed), so a crash fails one test.
// Cases whose fix belongs to branch `arch-native` (group sizes beyond 2^64, a cast before the
// range check; resizable buffers resized between calls) join with ADAM_PENDING=1.
import { describe, expect, it } from 'vitest';
import { describeChild, runChild } from './child';
import { NATIVE_LOADED } from './helpers';

const SEED = 20261201;
/** Cases per entry point. */
export const BINDING_RUNS = 400;

// Shared by every child: hostile values of every kind, and typed arrays in odd states.
const PRELUDE = `
const fc = require('fast-check');
const b = require('./dist/backends/load').loadNative().binding;
const PENDING = process.env.ADAM_PENDING === '1';
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
);
const numbers = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1, 2, 3, 4, 5, -1, 1e-46, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 53, 1025, 1024, 0.5, 7.9),
  fc.double(),
  fc.integer({ min: -3, max: 20 }),
  ...(PENDING ? [fc.constantFrom(1e300, -1e300, 2 ** 64)] : []),
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
run(fc.tuple(fc.oneof(small, anything), fc.oneof(small, anything), fc.oneof(list(fc.oneof(arrays, anything)), anything), fc.oneof(list(numbers), anything, fc.constant(undefined))),
  ([rule, slots, arrs, groups]) => groups === undefined ? new b.Plan(rule, slots, arrs) : new b.Plan(rule, slots, arrs, groups));`,
  'Plan.step and stepAsync': `
const plans = (which) => {
  const f = () => new Float32Array(40).fill(0.25);
  const shared = () => new Float32Array(new SharedArrayBuffer(160));
  const arrs = which === 0 ? [f(), f(), f(), f(), null] : [shared(), shared(), shared(), f(), f(), f()];
  const plan = which === 0 ? new b.Plan(b.rules.adam.id, b.rules.adam.slots, arrs) : new b.Plan(b.rules.sgd.id, b.rules.sgd.slots, arrs, [1, 1]);
  return { plan, arrs };
};
const pending = [];
run(fc.tuple(fc.nat(1), fc.oneof(small, anything), fc.oneof(arrays, fc.integer({ min: 0, max: 40 }).map((n) => new Float32Array(n)), anything),
    fc.oneof(small, anything, fc.constant(0).map(() => new Uint32Array(2)), fc.constant(0).map(() => new Uint32Array(1))), fc.oneof(small, anything),
    fc.constantFrom(-1, 0, 3, 5), fc.boolean()),
  ([which, isa, scalars, flags, threads, detach, async]) => {
    const { plan, arrs } = plans(which);
    const victim = arrs[detach];
    if (victim && victim.buffer instanceof ArrayBuffer) structuredClone(victim.buffer, { transfer: [victim.buffer] });
    const r = async ? plan.stepAsync(isa, scalars, flags, threads) : plan.step(isa, scalars, flags, threads);
    if (r && r.then) pending.push(r.catch(() => {}));
  });
Promise.all(pending).then(() => { global.gc(); console.log('cases ' + cases); console.log('ok'); });
`,
  'allocFloat32, cpuInfo, sumSquares, scaleArrays, clampArrays, streamProbe': `
run(fc.tuple(fc.nat(5), fc.oneof(small, anything), fc.oneof(small, anything), fc.oneof(list(arrays), anything), fc.oneof(numbers, anything)),
  ([which, a, c, arrs, x]) => {
    if (which === 0) b.allocFloat32(typeof a === 'number' && a > 1 << 20 ? 1 << 20 : a);
    if (which === 1) b.cpuInfo(a);
    if (which === 2) b.sumSquares(a, c, arrs);
    if (which === 3) b.scaleArrays(a, c, arrs, x);
    if (which === 4) b.clampArrays(a, c, arrs, x);
    if (which === 5) b.streamProbe(a, arrs, c);
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

describe.skipIf(!NATIVE_LOADED)(`fuzz: the raw binding never crashes (${BINDING_RUNS} cases per entry point; skipped: no native addon)`, () => {
  for (const [name, body] of Object.entries(ENTRIES))
    it(name, () => {
      const finish = body.includes("console.log('ok')") ? '' : "\nglobal.gc(); console.log('cases ' + cases); console.log('ok');";
      const r = runChild(PRELUDE + body + finish);
      expect(r.stdout.trim().split('\n').pop(), describeChild(r)).toBe('ok');
      expect(r.stdout).toContain(`cases ${BINDING_RUNS}`);
    });
});
