// Property-based fuzz of the public API (fast-check, fixed seed: every run sees the same cases).
// Each case: either a thrown Error of the documented class naming what was wrong, with params,
// grads and state byte-for-byte as before the call; or, when it does not throw, the native backend
// gives the bits of the js backend.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AdaGrad,
  AdaMax,
  Adam,
  AdamW,
  RMSProp,
  SGD,
  allocFloat32,
  clipGradNorm,
  clipGradValue,
  constant,
  cosine,
  exponential,
  inverseSqrt,
  stepDecay,
} from '../lib';
import { NO_NATIVE, describeUnless } from './helpers';

const SEED = 20261201;
/** Cases per property; the whole file runs a few thousand in well under a minute. */
export const FUZZ_RUNS = { optimizer: 1500, params: 600, stateDict: 600, clip: 800, schedule: 400, alloc: 200 };

const CLASSES = { Adam, AdamW, AdaMax, SGD, AdaGrad, RMSProp } as const;
type ClassName = keyof typeof CLASSES;
const OPTIONS: Record<ClassName, string[]> = {
  Adam: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'amsgrad', 'maximize', 'biasCorrection'],
  AdamW: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'amsgrad', 'maximize', 'biasCorrection'],
  AdaMax: ['lr', 'beta1', 'beta2', 'eps', 'weightDecay'],
  SGD: ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'maximize'],
  AdaGrad: ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps', 'maximize'],
  RMSProp: ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'maximize'],
};
const COMMON = ['skipNonFinite', 'gradScale', 'threads', 'isa'];

/** The user's own error, thrown from a getter or a schedule: it may pass through as it is. */
class UserError extends Error {}

const HOSTILE_NUMBERS = [NaN, Infinity, -Infinity, -0, 1e-46, -1e-46, 2 ** 53, 2 ** 53 + 2, 1e39, -1, 0.5, 1, 3.4e38, 5e-324];

const number = fc.oneof(
  fc.constantFrom(...HOSTILE_NUMBERS),
  fc.double({ noNaN: false }),
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.integer({ min: -4, max: 2048 }),
);
const hostileValue = fc.oneof(
  number,
  fc.constantFrom<unknown>(null, undefined, '', '0.1', '__proto__', true, false, [], {}, [0.1], Symbol('x'), 10n),
  fc.constant('getter-throws'),
  fc.constant('proxy-number'),
);

/** Materialises the special markers of hostileValue into an options object. */
function setOption(options: Record<string, unknown>, key: string, value: unknown): void {
  if (value === 'getter-throws')
    Object.defineProperty(options, key, { enumerable: true, get: () => { throw new UserError(`getter ${key}`); } });
  else if (value === 'proxy-number') options[key] = new Proxy({}, {});
  else options[key] = value;
}

/** A float32 value: finite mostly, with NaN, infinities, subnormals and signed zeros. */
const float = fc.oneof(
  { weight: 8, arbitrary: fc.float({ min: -4, max: 4, noNaN: true }) },
  { weight: 1, arbitrary: fc.float() },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e-45, -1e-45, 3.4e38, NaN, Infinity, -Infinity) },
);
const tensor = fc.integer({ min: 0, max: 40 }).chain((n) =>
  fc.record({ data: fc.array(float, { minLength: n, maxLength: n }), grad: fc.array(float, { minLength: n, maxLength: n }) }),
);
const NAMES = ['w', 'b', '__proto__', 'constructor', 'toString', 'a.b', ''];

interface ParamSpec {
  name: string;
  data: number[];
  grad: number[];
}

function makeParams(specs: ParamSpec[]) {
  return specs.map((s) => ({ name: s.name, data: Float32Array.from(s.data), grad: Float32Array.from(s.grad) }));
}

/** Bits of everything a call may change: params, grads and (via stateDict) the state. */
function snapshot(params: Array<{ data: Float32Array; grad: Float32Array }>, opt?: { stateDict(): unknown }): string {
  const bits = (a: Float32Array) => (a.length === 0 ? 'empty' : Array.from(new Uint32Array(a.slice().buffer)).join(','));
  let state = '';
  if (opt) {
    try {
      state = JSON.stringify(opt.stateDict(), (_k, v) => (v instanceof Float32Array ? bits(v) : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
    } catch (e) {
      state = `stateDict threw ${(e as Error).message}`;
    }
  }
  return params.map((p) => `${bits(p.data)}|${bits(p.grad)}`).join(';') + '#' + state;
}

/** A thrown value is acceptable: the user's own error, or a documented class with a message naming `names`. */
function checkThrown(e: unknown, owner: string, names: string[]): void {
  if (e instanceof UserError) return;
  expect(e, String(e)).toBeInstanceOf(Error);
  const err = e as Error;
  expect([TypeError, RangeError, Error]).toContain(err.constructor);
  expect(err.message.startsWith(owner), `"${err.message}" should start with ${owner}`).toBe(true);
  if (names.length) expect(names.some((n) => err.message.includes(n)), `"${err.message}" should name one of ${names.join(', ')}`).toBe(true);
}

type Outcome = { threw: unknown } | { value: unknown };
function attempt(f: () => unknown): Outcome {
  try {
    return { value: f() };
  } catch (e) {
    return { threw: e };
  }
}

describeUnless(NO_NATIVE)('fuzz: public API', () => {
  it(`optimizers: options, params and steps (${FUZZ_RUNS.optimizer} cases)`, async () => {
    const arb = fc.record({
      cls: fc.constantFrom(...(Object.keys(CLASSES) as ClassName[])),
      params: fc.array(tensor, { minLength: 1, maxLength: 3 }),
      names: fc.array(fc.constantFrom(...NAMES), { minLength: 3, maxLength: 3 }),
      // Valid-ish options, then at most one key set to a hostile value.
      lr: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(1e-3)),
      mutate: fc.option(fc.tuple(fc.nat(), hostileValue), { freq: 2 }),
      flags: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      steps: fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }), // true: stepAsync
      gradScale: fc.constantFrom(undefined, 1, 2, 1024, 0.25),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const Cls = CLASSES[c.cls] as unknown as new (p: unknown, o: unknown) => InstanceType<typeof Adam>;
        const specs = c.params.map((t, i) => ({ name: `${c.names[i]}${i}`, ...t }));
        const keys = [...OPTIONS[c.cls], ...COMMON];
        const options = (backend: string) => {
          const o: Record<string, unknown> = { lr: c.lr, backend, skipNonFinite: c.flags[0], gradScale: c.gradScale };
          if (c.cls === 'SGD' && c.flags[1]) Object.assign(o, { momentum: 0.9, nesterov: c.flags[2] });
          if (c.cls.startsWith('Adam') && c.cls !== 'AdaMax') o.amsgrad = c.flags[3];
          if (c.mutate) setOption(o, keys[c.mutate[0] % keys.length], c.mutate[1]);
          return o;
        };
        const native = makeParams(specs), js = makeParams(specs);
        const made = [attempt(() => new Cls(native, options('native'))), attempt(() => new Cls(js, options('js')))];
        const key = c.mutate ? keys[c.mutate[0] % keys.length] : '';
        if ('threw' in made[0] || 'threw' in made[1]) {
          // Both backends validate the same options the same way.
          expect('threw' in made[0] && 'threw' in made[1]).toBe(true);
          const [a, b] = made as Array<{ threw: Error }>;
          checkThrown(a.threw, c.cls, key ? [key] : []);
          expect(a.threw.message).toBe(b.threw.message);
          expect(snapshot(native)).toBe(snapshot(makeParams(specs)));
          return;
        }
        const optN = (made[0] as { value: InstanceType<typeof Adam> }).value;
        const optJ = (made[1] as { value: InstanceType<typeof Adam> }).value;
        for (const isAsync of c.steps) {
          const before = snapshot(native, optN);
          let rn: unknown, rj: unknown;
          try {
            rn = isAsync ? await optN.stepAsync() : optN.step();
          } catch (e) {
            checkThrown(e, c.cls, []);
            expect(snapshot(native, optN)).toBe(before);
            expect(() => optJ.step()).toThrow((e as Error).message.replace(/stepAsync/, 'step'));
            return;
          }
          rj = optJ.step();
          expect(rn).toBe(rj);
          expect(snapshot(native, optN)).toBe(snapshot(js, optJ));
        }
      }),
      { seed: SEED, numRuns: FUZZ_RUNS.optimizer },
    );
  });

  it(`hostile params: detached, holes, Proxies, SharedArrayBuffers and their clones, own \`buffer\`, odd names (${FUZZ_RUNS.params} cases)`, () => {
    const KINDS = ['plain', 'detached grad', 'detached data later', 'shared', 'shared clone', 'own buffer', 'not an object', 'length mismatch', 'hole', 'proxy', 'object-create'];
    fc.assert(
      fc.property(fc.constantFrom(...(Object.keys(CLASSES) as ClassName[])), fc.array(fc.constantFrom(...KINDS), { minLength: 1, maxLength: 3 }), fc.constantFrom(...NAMES), (cls, kinds, name) => {
        const Cls = CLASSES[cls] as unknown as new (p: unknown, o: unknown) => InstanceType<typeof Adam>;
        // The same hostile list for each backend; `later` runs after construction, before the step.
        const build = () => {
          const list: unknown[] = [];
          const later: Array<() => void> = [];
          const tensors: Array<{ data: Float32Array; grad: Float32Array }> = [];
          kinds.forEach((kind, i) => {
            const n = 5 + i;
            let data = Float32Array.from({ length: n }, (_, k) => k - 2);
            let grad = Float32Array.from({ length: n }, (_, k) => (k % 3) - 0.5);
            if (kind === 'shared') {
              data = new Float32Array(new SharedArrayBuffer(4 * n)).fill(1);
              grad = new Float32Array(new SharedArrayBuffer(4 * n)).fill(0.5);
            }
            if (kind === 'shared clone') {
              const sab = new SharedArrayBuffer(4 * n);
              data = new Float32Array(sab);
              grad = new Float32Array(structuredClone(sab));
            }
            if (kind === 'own buffer') Object.defineProperty(grad, 'buffer', { value: new ArrayBuffer(4 * n) });
            if (kind === 'detached grad') structuredClone(grad.buffer, { transfer: [grad.buffer] });
            if (kind === 'detached data later') later.push(() => void structuredClone(data.buffer, { transfer: [data.buffer] }));
            if (kind === 'length mismatch') grad = grad.subarray(1);
            const p: Record<string, unknown> = { name: `${name}${i}`, data, grad };
            if (kind === 'proxy') p.data = new Proxy(data, {});
            if (kind === 'object-create') p.grad = Object.create(Float32Array.prototype);
            tensors.push({ data, grad });
            if (kind === 'hole') list.length++;
            else list.push(kind === 'not an object' ? 7 : p);
          });
          return { list, later, tensors };
        };
        const runs = ['native', 'js'].map((backend) => {
          const b = build();
          const made = attempt(() => new Cls(b.list, { lr: 0.1, backend }));
          if ('threw' in made) return { threw: made.threw, snap: snapshot(b.tensors) };
          const opt = (made as { value: InstanceType<typeof Adam> }).value;
          b.later.forEach((f) => f());
          const before = snapshot(b.tensors.filter((t) => t.data.length && t.grad.length), opt);
          const stepped = attempt(() => opt.step());
          return { ...stepped, before, snap: snapshot(b.tensors.filter((t) => t.data.length && t.grad.length), opt) };
        });
        const [n, j] = runs;
        if ('threw' in n) {
          checkThrown(n.threw, cls, []);
          expect('threw' in j, `js did not throw where native threw ${(n.threw as Error).message}`).toBe(true);
          if ('before' in n) expect(n.snap).toBe(n.before);
          return;
        }
        expect('threw' in j, `js threw ${'threw' in j ? (j.threw as Error).message : ''} where native did not`).toBe(false);
        expect(n.snap).toBe(j.snap);
      }),
      { seed: SEED, numRuns: FUZZ_RUNS.params },
    );
  });

  it(`loadStateDict: one field spoiled (${FUZZ_RUNS.stateDict} cases)`, () => {
    const spoil = fc.record({
      path: fc.constantFrom('step', 'optimizer', 'groups', 'options', 'state', 'state.x', 'state.x.slot', 'extra', '__proto__'),
      value: hostileValue,
      shape: fc.constantFrom('value', 'short array', 'long array', 'delete', 'getter', 'length getter'),
    });
    fc.assert(
      fc.property(fc.constantFrom('Adam', 'SGD', 'RMSProp', 'AdaGrad', 'AdaMax') as fc.Arbitrary<ClassName>, spoil, fc.boolean(), (cls, s, amsgrad) => {
        const Cls = CLASSES[cls] as unknown as new (p: unknown, o: unknown) => InstanceType<typeof Adam>;
        const params = makeParams([{ name: 'x', data: [1, 2, 3, 4, 5], grad: [0.5, -1, 0.25, 2, -3] }]);
        const opts: Record<string, unknown> = { lr: 0.1, backend: 'native' };
        if (cls === 'Adam') opts.amsgrad = amsgrad;
        if (cls === 'SGD') opts.momentum = 0.9;
        const opt = new Cls(params, opts);
        opt.step();
        const sd = opt.stateDict() as unknown as Record<string, unknown>;
        opt.step();
        const before = snapshot(params, opt);
        // Spoil one field of the dict.
        const parts = s.path.split('.');
        let target: Record<string, unknown> = sd;
        for (const p of parts.slice(0, -1)) {
          const next = p === 'slot' ? Object.keys(target)[0] : p;
          if (typeof target[next] !== 'object' || target[next] === null) break;
          target = target[next] as Record<string, unknown>;
        }
        let last = parts[parts.length - 1];
        if (last === 'slot') last = Object.keys(target)[0] ?? 'slot';
        const old = target[last];
        if (s.shape === 'delete') delete target[last];
        else if (s.shape === 'short array' && old instanceof Float32Array) target[last] = old.subarray(1);
        else if (s.shape === 'long array' && old instanceof Float32Array) target[last] = new Float32Array(old.length + 1);
        else if (s.shape === 'getter') Object.defineProperty(target, last, { enumerable: true, get: () => { throw new UserError('getter'); } });
        else if (s.shape === 'length getter' && old instanceof Float32Array)
          Object.defineProperty(old, 'length', { value: old.length + 7 });
        else if (last === '__proto__') Object.defineProperty(target, '__proto__', { value: s.value, enumerable: true });
        else setOption(target, last, s.value);
        const r = attempt(() => opt.loadStateDict(sd as never));
        if ('threw' in r) {
          checkThrown(r.threw, `${cls}.loadStateDict`, []);
          expect(snapshot(params, opt)).toBe(before);
        }
      }),
      { seed: SEED, numRuns: FUZZ_RUNS.stateDict },
    );
  });

  it(`clipGradNorm and clipGradValue: native gives js's bits, a throw changes nothing (${FUZZ_RUNS.clip} cases)`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(float, { maxLength: 70 }), { maxLength: 4 }),
        fc.oneof(number, fc.constantFrom<unknown>(null, '1', undefined)),
        fc.boolean(),
        fc.constantFrom(undefined, 1, 3, 1024, 0, 1.5),
        (arrays, limit, byValue, threads) => {
          const native = arrays.map((a) => Float32Array.from(a)), js = arrays.map((a) => Float32Array.from(a));
          const f = byValue ? clipGradValue : clipGradNorm;
          const name = byValue ? 'clipGradValue' : 'clipGradNorm';
          const rn = attempt(() => f(native, limit as number, { backend: 'native', threads }));
          const rj = attempt(() => f(js, limit as number, { backend: 'js' }));
          if ('threw' in rn) {
            checkThrown(rn.threw, name, []);
            expect(native.map((a) => Array.from(a))).toEqual(arrays.map((a) => Array.from(Float32Array.from(a))));
            if (threads !== 0 && threads !== 1.5) expect('threw' in rj).toBe(true);
            return;
          }
          expect('value' in rj).toBe(true);
          expect(Object.is((rn as { value: unknown }).value, (rj as { value: unknown }).value)).toBe(true);
          native.forEach((a, i) => expect(new Uint32Array(a.buffer)).toEqual(new Uint32Array(js[i].buffer)));
        },
      ),
      { seed: SEED, numRuns: FUZZ_RUNS.clip },
    );
  });

  it(`schedules: bad arguments throw the documented class naming the schedule (${FUZZ_RUNS.schedule} cases)`, () => {
    const SCHEDULES = { constant, cosine, exponential, inverseSqrt, stepDecay } as Record<string, (...a: unknown[]) => unknown>;
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(SCHEDULES)),
        number,
        fc.oneof(
          number,
          fc.constantFrom<unknown>(undefined, {}, { totalSteps: 10 }, { stepSize: 3, gamma: 0.5 }, { epochLength: 0 }, null),
        ),
        fc.nat({ max: 100 }),
        (name, lr, second, t) => {
          const r = attempt(() => SCHEDULES[name](lr, second));
          if ('threw' in r) return checkThrown(r.threw, name, []);
          const s = (r as { value: (step: number) => number }).value;
          const v = attempt(() => s(t + 1));
          if ('threw' in v) checkThrown(v.threw, name, []);
        },
      ),
      { seed: SEED, numRuns: FUZZ_RUNS.schedule },
    );
  });

  it(`allocFloat32: TypeError or RangeError, or n zeros (${FUZZ_RUNS.alloc} cases)`, () => {
    fc.assert(
      fc.property(fc.oneof(number, fc.integer({ min: 0, max: 1 << 16 }), fc.constantFrom<unknown>('8', null, undefined, {}, 2 ** 32 + 1, -0)), (n) => {
        const r = attempt(() => allocFloat32(n as number));
        if ('threw' in r) return checkThrown(r.threw, 'allocFloat32', ['n']);
        const a = (r as { value: Float32Array }).value;
        expect(a.length === n).toBe(true);
        expect(a.every((x) => Object.is(x, 0))).toBe(true);
      }),
      { seed: SEED, numRuns: FUZZ_RUNS.alloc },
    );
  });
});
