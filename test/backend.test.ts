import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Binding } from '../binding';
import { Adam, backendInfo } from '../lib';
import { loadNative } from '../lib/backends/load';
import { NATIVE_LOADED } from './helpers';

const ROOT = path.join(__dirname, '..');

/** Runs a snippet in a fresh node process against the compiled package (dist/, built by pretest). */
function runNode(code: string, env: Record<string, string>, type: 'commonjs' | 'module' = 'commonjs') {
  const r = spawnSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('backendInfo', () => {
  it.skipIf(!NATIVE_LOADED)('reports the loaded addon, the chosen ISA and the CPU ISAs', () => {
    const info = backendInfo();
    expect(info.native).toMatchObject({ loaded: true, error: null });
    expect(info.native.source).toMatch(/^(prebuild|build)$/);
    expect(info.supportedIsas[0]).toBe('scalar'); // the portable unit: every CPU
    if (process.arch === 'x64') expect(info.supportedIsas[1]).toBe('sse2');
    expect(info.supportedIsas).toContain(info.isa);
    expect(info.threads).toBeGreaterThanOrEqual(1);
  });
});

describe('ADAM_NATIVE_ISA', () => {
  const saved = process.env.ADAM_NATIVE_ISA;
  afterEach(() => {
    if (saved === undefined) delete process.env.ADAM_NATIVE_ISA;
    else process.env.ADAM_NATIVE_ISA = saved;
  });
  const param = () => [{ data: new Float32Array(3), grad: new Float32Array(3) }];

  it.skipIf(!NATIVE_LOADED)('picks the ISA of isa: auto', () => {
    process.env.ADAM_NATIVE_ISA = 'sse2';
    expect(new Adam(param()).backend).toBe('native/sse2');
    expect(backendInfo().isa).toBe('sse2');
    expect(new Adam(param(), { isa: backendInfo().supportedIsas.at(-1) }).backend).toBe(`native/${backendInfo().supportedIsas.at(-1)}`);
  });

  it.skipIf(!NATIVE_LOADED)('is a clear error when unknown', () => {
    process.env.ADAM_NATIVE_ISA = 'avx1024';
    expect(() => new Adam(param())).toThrow(/ADAM_NATIVE_ISA must be one of 'auto', 'scalar', 'sse2', 'avx2', 'avx512', 'neon', got 'avx1024'/);
    expect(backendInfo().isaError).toMatch(/avx1024/);
  });
});

describe('when the addon cannot load', () => {
  const env = { ADAM_NATIVE_DISABLE: '1' };
  const snippet = `
    const { Adam, backendInfo } = require('./dist');
    const p = () => [{ data: new Float32Array(2), grad: new Float32Array(2).fill(1) }];
    const a = new Adam(p()), b = new Adam(p());
    a.step();
    console.log(JSON.stringify({ a: a.backend, b: b.backend, info: backendInfo().native }));`;

  it("backend 'auto' falls back to TypeScript with exactly one warning saying why", () => {
    const r = runNode(snippet, env);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ a: 'js', b: 'js', info: { loaded: false, error: 'disabled by ADAM_NATIVE_DISABLE=1' } });
    expect(r.stderr.match(/AdamNativeFallback/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/using the TypeScript backend \(disabled by ADAM_NATIVE_DISABLE=1\)/);
  });

  it("backend 'native' throws an error that says why", () => {
    const r = runNode(`
      const { Adam } = require('./dist');
      try { new Adam([{ data: new Float32Array(1), grad: new Float32Array(1) }], { backend: 'native' }); }
      catch (e) { console.log(e.message); }`, env);
    expect(r.stdout).toMatch(/^Adam: backend 'native' is unavailable: disabled by ADAM_NATIVE_DISABLE=1/);
  });

  it('the ESM entry exports the same API', () => {
    const r = runNode(`import * as m from 'adam-native'; import { Adam } from 'adam-native';
      console.log(Object.keys(m).sort().join(','), typeof Adam)`, env, 'module');
    expect(r.stdout).toMatch(/^AdaGrad,AdaMax,Adadelta,Adam,AdamW,.*Lion,.*NAdam,.*RAdam,RMSProp,SGD,.*backendInfo.*clipGradNorm.*inverseSqrt.* function/);
  });
});

// The N-API layer re-checks what the kernels rely on: wrong input from JavaScript throws, never crashes.
describe.skipIf(!NATIVE_LOADED)('native Plan re-checks its input', () => {
  const b = () => loadNative().binding as Binding;
  const arrays = (n: number) => [new Float32Array(n), new Float32Array(n), new Float32Array(n), new Float32Array(n), null];
  const scalars = (groups = 1) => new Float32Array(groups * b().rules.adam.scalars.length);
  const flags = (...f: number[]) => new Uint32Array(f.length ? f : [0]);
  const isa = () => b().isas.indexOf(b().cpuInfo().best);

  it('rejects wrong types and shapes', () => {
    const { Plan, rules } = b();
    const id = rules.adam.id;
    expect(() => new Plan(id, [new Float64Array(3), new Float32Array(3)] as never, undefined, 0, 1)).toThrow(/not a multiple of rule adam's 5 slots/);
    expect(() => new Plan(id, [new Float64Array(3), ...arrays(3).slice(1)] as never, undefined, 0, 1)).toThrow(/tensor 0 slot 0 \(param\) is not a Float32Array/);
    expect(() => new Plan(id, [new Float32Array(3), new Float32Array(4), ...arrays(3).slice(2)], undefined, 0, 1)).toThrow(/tensor 0 slot 1 \(grad\) has a different length/);
    expect(() => new Plan(99, arrays(3), undefined, 0, 1)).toThrow(new RangeError(`CpuPlan: rule must be an integer in [0, ${Object.keys(rules).length})`));
    expect(() => new Plan(id, arrays(3), undefined, 1e300, 1)).toThrow(RangeError);
    expect(() => new Plan(id, arrays(3), undefined, 0, 1025)).toThrow(new RangeError('CpuPlan: threads must be an integer in [0, 1025)'));
    expect(() => new Plan(id, arrays(3), undefined, 0, -1e300)).toThrow(RangeError);
    expect(() => new Plan(id, [null, null, ...arrays(3).slice(2)], undefined, 0, 1)).toThrow(/tensor 0 needs a param and a grad/);
    expect(() => new (Plan as unknown as (...a: unknown[]) => unknown)()).toThrow();
  });

  it('rejects bad step arguments', () => {
    const { Plan, rules, flags: bits } = b();
    const held = arrays(3); // the plan holds its arrays weakly: the test keeps them alive
    const plan = new Plan(rules.adam.id, held, undefined, isa(), 1);
    expect(() => plan.step(new Float32Array(2), flags())).toThrow(new RegExp(`scalars must be a Float32Array of ${rules.adam.scalars.length} per group`));
    expect(() => plan.step(scalars(), 0 as never)).toThrow(/flags must be a Uint32Array of one entry per group/);
    expect(() => plan.step(scalars(), flags(bits.amsgrad))).toThrow(/state slot the options of group 0 need/);
    expect(() => (plan.step as (...a: unknown[]) => void)('x')).toThrow(TypeError);
    expect(() => plan.step(scalars(), flags())).not.toThrow();
    expect(held).toHaveLength(5); // still referenced here, so alive through every step above
  });

  it('is made for an ISA this CPU runs', () => {
    const { Plan, rules, isas, cpuInfo } = b();
    expect(() => new Plan(rules.adam.id, arrays(3), undefined, isas.length, 1)).toThrow(new RegExp(`isa must be an integer in \\[0, ${isas.length}\\)`));
    for (const name of isas)
      if (cpuInfo().supported.includes(name)) expect(() => new Plan(rules.adam.id, arrays(3), undefined, isas.indexOf(name), 1)).not.toThrow();
      else expect(() => new Plan(rules.adam.id, arrays(3), undefined, isas.indexOf(name), 1)).toThrow(`cannot run isa ${name}`);
  });

  it('takes parameter groups: sizes that add up, scalars and flags per group', () => {
    const { Plan, rules, flags: bits } = b();
    const id = rules.adam.id;
    const a = [...arrays(3), ...arrays(4), ...arrays(5)];
    expect(() => new Plan(id, a, [1, 1], 0, 1)).toThrow(/do not add up/);
    expect(() => new Plan(id, a, [1, 3], 0, 1)).toThrow(/groups\[1\] \(tensors left: 2\) must be an integer in \[0, 3\)/);
    expect(() => new Plan(id, a, [], 0, 1)).toThrow(/groups is empty/);
    const plan = new Plan(id, a, [1, 2], isa(), 1);
    expect(() => plan.step(scalars(), flags(0, 0))).toThrow(/per group \(rule adam, 2 groups\)/);
    expect(() => plan.step(scalars(2), flags(0, 0, 0))).toThrow(/one entry per group/);
    expect(() => plan.step(scalars(2), flags(0, bits.amsgrad))).toThrow(/options of group 1 need/);
    expect(() => plan.step(scalars(2), flags(0, 0))).not.toThrow();
    expect(a).toHaveLength(15); // the plan holds its arrays weakly: keep them alive through the steps
  });

  it('checks every group before running any: a detached array in the last group leaves the first unchanged', () => {
    const { Plan, rules } = b();
    const first = arrays(40), last = arrays(40);
    first[1]!.fill(1); // a grad: the step would move first[0]
    const plan = new Plan(rules.adam.id, [...first, ...last], [1, 1], isa(), 1);
    const s = scalars(2).fill(0.5);
    structuredClone(last[1]!.buffer, { transfer: [last[1]!.buffer] });
    expect(() => plan.step(s, flags(0, 0))).toThrow(/tensor 1 slot 1 \(grad\) was detached since/);
    expect(first.slice(0, 4).every((x) => x!.every((v) => v === 0 || v === 1))).toBe(true);
    expect(first[0]!.every((v) => v === 0)).toBe(true);
  });

  it('throws, instead of writing through a stale pointer, when an array was detached', () => {
    const { Plan, rules } = b();
    const a = arrays(1000);
    const plan = new Plan(rules.adam.id, a, undefined, isa(), 2);
    structuredClone(a[3]!.buffer, { transfer: [a[3]!.buffer] });
    expect(() => plan.step(scalars(), flags())).toThrow(/tensor 0 slot 3 \(exp_avg_sq\) was detached since/);
  });

  it('gradient entries check their numbers before any cast', () => {
    const { scaleArrays, clampArrays, sumSquares } = b();
    const x = [new Float32Array(4).fill(2)];
    expect(() => scaleArrays(isa(), 1, x, 1e300)).toThrow(new RangeError('scaleArrays: the last argument is outside the float32 range'));
    expect(() => clampArrays(isa(), 1, x, -1e39)).toThrow(RangeError);
    expect(() => sumSquares(isa(), 2 ** 40, x)).toThrow(RangeError);
    expect(() => sumSquares(-1, 1, x)).toThrow(RangeError);
    expect(Array.from(x[0])).toEqual([2, 2, 2, 2]);
    scaleArrays(isa(), 1, x, Infinity);
    expect(x[0][0]).toBe(Infinity);
  });

  it('allocFloat32 gives aligned zeroed native memory and rejects bad sizes', () => {
    const a = b().allocFloat32(1 << 20);
    expect(a.length).toBe(1 << 20);
    expect(a.every((x) => x === 0)).toBe(true);
    expect(() => b().allocFloat32(-1)).toThrow(RangeError);
    expect(() => b().allocFloat32(1.5)).toThrow(RangeError);
    expect(b().allocFloat32(0).length).toBe(0);
  });
});
