import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Adam,
  type BuiltInSchedule,
  SGD,
  constant,
  cosine,
  exponential,
  inverseSqrt,
  linear,
  linearWarmup,
  multiStep,
  oneCycle,
  reduceOnPlateau,
  sequential,
  stepDecay,
} from '../lib';
import { scheduleFromDescription } from '../lib/schedules';
import { type HostParam, fillGrads, makeParams } from './cases';
import { firstBitDifference } from './helpers';

// Checkpoints of what the training-loop API changes: schedules (descriptions and state), groups
// added later, hyperparameters written mid-run, replaced arrays, dispose().

const DIR = mkdtempSync(join(tmpdir(), 'adam-ckpt-train-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
let files = 0;
const fresh = () => join(DIR, `t${files++}.safetensors`);

function metadataGroups(path: string) {
  const file = readFileSync(path);
  const n = Number(file.readBigUInt64LE(0));
  return JSON.parse(JSON.parse(file.subarray(8, 8 + n).toString('utf8')).__metadata__.groups);
}

const sameBits = (a: HostParam[], b: HostParam[]) => a.every((p, i) => firstBitDifference(p.data, b[i].data) === -1);
function expectSameState(a: { stateDict(): { state: Record<string, Record<string, Float32Array>> } }, b: typeof a) {
  const x = a.stateDict().state;
  const y = b.stateDict().state;
  expect(Object.keys(y)).toEqual(Object.keys(x));
  for (const [name, slots] of Object.entries(x)) {
    expect(Object.keys(y[name]).sort()).toEqual(Object.keys(slots).sort());
    for (const [slot, v] of Object.entries(slots)) expect(firstBitDifference(v, y[name][slot]), `${name}.${slot}`).toBe(-1);
  }
}

/** One of every built-in schedule (and the alias), as a user would write it. */
const EXAMPLES: Array<[string, () => BuiltInSchedule]> = [
  ['constant', () => constant(0.1) as BuiltInSchedule],
  ['inverseSqrt', () => inverseSqrt(0.1, { epochLength: 3 }) as BuiltInSchedule],
  ['stepDecay', () => stepDecay(0.1, { stepSize: 2 }) as BuiltInSchedule],
  ['exponential', () => exponential(0.1, 0.9) as BuiltInSchedule],
  ['cosine', () => cosine(0.1, { totalSteps: 9, warmupSteps: 2, minLr: 0.01 }) as BuiltInSchedule],
  ['linearWarmup', () => linearWarmup(0.1, { totalSteps: 9, warmupSteps: 3 })],
  ['linear', () => linear(0.1, { totalSteps: 9 })],
  ['multiStep', () => multiStep(0.1, { milestones: [2, 5], gamma: 0.5 })],
  ['oneCycle', () => oneCycle(0.1, { totalSteps: 9, threePhase: true, annealStrategy: 'linear' })],
  ['reduceOnPlateau', () => reduceOnPlateau(0.1, { patience: 0, mode: 'max' })],
  ['sequential', () => sequential([linearWarmup(0.1, { totalSteps: 3, warmupSteps: 2 }), reduceOnPlateau(0.1, { patience: 0 }), cosine(0.05, { totalSteps: 4 }) as BuiltInSchedule], [3, 6])],
];
const values = (s: (t: number) => number) => Array.from({ length: 12 }, (_, t) => s(t + 1));

describe('every built-in schedule goes through a checkpoint as its description', () => {
  it.each(EXAMPLES)('%s', (_label, make) => {
    const lr = make();
    const opt = new SGD(makeParams([3], 1), { lr });
    const path = fresh();
    opt.saveSync(path);
    expect(metadataGroups(path)[0].options.lr).toEqual(JSON.parse(JSON.stringify(lr.schedule)));
    const other = new SGD(makeParams([3], 2), { lr: 0.5 });
    other.loadSync(path);
    const rebuilt = other.lr as BuiltInSchedule;
    expect(rebuilt).not.toBe(lr);
    expect(rebuilt.schedule).toEqual(lr.schedule);
    expect(values(rebuilt)).toEqual(values(lr));
    expect(scheduleFromDescription('d', lr.schedule).schedule).toEqual(lr.schedule);
  });

  it('a description that names no built-in, or bad arguments, is refused naming where', () => {
    expect(() => scheduleFromDescription('d', { name: 'zigzag', args: [] })).toThrow(/d\.name must be one of .*reduceOnPlateau/);
    expect(() => scheduleFromDescription('d', { name: 'multiStep', args: [0.1, { milestones: [3, 2] }] })).toThrow(RangeError);
    expect(() => scheduleFromDescription('d', { name: 'sequential', args: [[{ name: 'nope', args: [] }], []] })).toThrow(/d\.args\[0\]\[0\]\.name/);
  });

  it('a sequential holding a custom function is custom: it must be given again', () => {
    const custom = (t: number) => 0.1 / t;
    const lr = sequential([custom, constant(0.01)], [4]);
    const opt = new SGD(makeParams([3], 1), { lr });
    const path = fresh();
    opt.saveSync(path);
    expect(metadataGroups(path)[0].options.lr).toEqual({ name: 'custom' });
    const other = new SGD(makeParams([3], 2), { lr: 0.5 });
    expect(() => other.loadSync(path)).toThrow(/custom schedule function/);
    other.lr = lr;
    other.loadSync(path);
    expect(other.lr).toBe(lr);
  });
});

describe('schedule state goes into checkpoints', () => {
  const run = (lr: ReturnType<typeof reduceOnPlateau>, metrics: number[]) => metrics.map((m) => (lr.report(m), lr(1)));

  it('reduceOnPlateau: the state and Infinity before any report; the caller\'s own schedule object stays connected', () => {
    const metrics = [3, 2, 2.5, 2.6, 1, 1.2, 1.3, 1.4];
    const a = reduceOnPlateau(0.1, { patience: 1, cooldown: 1 });
    const opt = new SGD(makeParams([4], 1), { lr: a });
    // Before any report: best is Infinity, which JSON cannot hold.
    const early = fresh();
    opt.saveSync(early);
    run(a, metrics.slice(0, 4));
    const path = fresh();
    opt.saveSync(path);
    const saved = a.state();
    expect(saved.best).toBe(2);
    expect(metadataGroups(path)[0].lrState).toEqual(saved);

    const mine = reduceOnPlateau(0.1, { patience: 1, cooldown: 1 });
    const b = new SGD(makeParams([4], 2), { lr: mine });
    b.loadSync(early);
    expect(mine.state().best).toBe(Infinity);
    b.loadSync(path);
    expect(b.lr).toBe(mine);
    expect(mine.state()).toEqual(a.state());
    expect(run(mine, metrics.slice(4))).toEqual(run(a, metrics.slice(4)));

    // Into an optimizer without it: made from the description, reachable through paramGroups.
    const c = new SGD(makeParams([4], 3), { lr: 0.5 });
    c.loadSync(path);
    const made = c.paramGroups[0].lr as ReturnType<typeof reduceOnPlateau>;
    expect(made.schedule).toEqual(a.schedule);
    expect(made.state()).toEqual(saved);
  });

  it('sequential with a reduceOnPlateau inside: its parts\' state, in stateDict() and in the file', async () => {
    const make = () => sequential([reduceOnPlateau(0.1, { patience: 0 }), constant(0.01) as BuiltInSchedule], [5]);
    const lr = make();
    const opt = new Adam(makeParams([4], 1), { lr });
    const path = fresh();
    const inner = (s: BuiltInSchedule) => (s.schedule.args[0] as unknown[]).length;
    expect(inner(lr)).toBe(2);
    // Reports go to the part, through the sequential's state.
    lr.loadState!({ ...lr.state!(), '0.lr': 0.05, '0.best': 1, '0.reports': 3 });
    await opt.save(path);
    expect(opt.stateDict().groups[0].lrState).toMatchObject({ '0.lr': 0.05, '0.best': 1, '0.reports': 3 });
    expect(metadataGroups(path)[0].lrState).toEqual(lr.state!());
    const other = new Adam(makeParams([4], 2), { lr: 0.3 });
    await other.load(path);
    const made = other.lr as BuiltInSchedule;
    expect(made.state!()).toEqual(lr.state!());
    expect(values(made)).toEqual(values(lr));
  });

  it('a bad lrState in the file is refused, changing nothing', () => {
    const a = reduceOnPlateau(0.1);
    const opt = new SGD(makeParams([4], 1), { lr: a });
    const path = fresh();
    opt.saveSync(path);
    const file = readFileSync(path);
    const n = Number(file.readBigUInt64LE(0));
    const edited = file.subarray(8, 8 + n).toString('utf8').trimEnd().replace('\\"reports\\":0', '\\"reports\\":-1');
    expect(edited).toContain('-1');
    // Offsets count from the end of the header: a longer header, padded to 8 bytes, keeps them valid.
    const header = Buffer.from(edited.padEnd(Math.ceil(edited.length / 8) * 8, ' '));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    const bad = fresh();
    writeFileSync(bad, Buffer.concat([length, header, file.subarray(8 + n)]));
    const mine = reduceOnPlateau(0.1);
    mine.report(5);
    const other = new SGD(makeParams([4], 2), { lr: mine });
    expect(() => other.loadSync(bad)).toThrow(/groups\[0\]\.lrState.*reports/);
    expect(mine.state().reports).toBe(1);
  });
});

describe('checkpoints resume bitwise after training-loop changes', () => {
  const LENGTHS = [5, 33, 17, 9];

  it('after addParamGroup: the later group\'s own step count is saved and restored', async () => {
    const seed = 7;
    const params = makeParams(LENGTHS, seed);
    const opt = new Adam(params.slice(0, 2), { lr: 0.01 });
    const path = fresh();
    for (let t = 1; t <= 6; t++) {
      if (t === 3) opt.addParamGroup({ params: params.slice(2), lr: 0.05, amsgrad: true, beta2: 0.99 });
      fillGrads(params, seed, t);
      opt.step();
      if (t === 4) await opt.save(path, { params: true });
    }
    const groups = metadataGroups(path);
    expect(groups.map((g: { step?: number }) => g.step)).toEqual([undefined, 2]);

    const other = makeParams(LENGTHS, seed + 100);
    const resumed = new Adam([{ params: other.slice(0, 2) }, { params: other.slice(2), lr: 0.05, amsgrad: true, beta2: 0.99 }], { lr: 0.01 });
    await resumed.load(path);
    for (let t = 5; t <= 6; t++) {
      fillGrads(other, seed, t);
      resumed.step();
    }
    expect(sameBits(params, other)).toBe(true);
    expectSameState(opt, resumed);
  });

  it('after hyperparameters were written: the written values are saved, and new state (amsgrad, momentum) is allocated on load', () => {
    const seed = 9;
    const params = makeParams(LENGTHS, seed);
    const opt = new Adam(params, { lr: 0.01 });
    const path = fresh();
    for (let t = 1; t <= 6; t++) {
      if (t === 2) {
        opt.paramGroups[0].beta1 = 0.95;
        opt.paramGroups[0].weightDecay = 0.01;
        opt.paramGroups[0].amsgrad = true;
      }
      fillGrads(params, seed, t);
      opt.step();
      if (t === 3) opt.saveSync(path, { params: true });
    }
    expect(metadataGroups(path)[0].options).toMatchObject({ beta1: 0.95, weightDecay: 0.01, amsgrad: true });

    // A fresh optimizer without amsgrad state: the file's max_exp_avg_sq is allocated, as loadStateDict does.
    const other = makeParams(LENGTHS, seed + 100);
    const resumed = new Adam(other, { lr: 0.01 });
    expect(Object.keys(resumed.stateDict().state.p0)).not.toContain('max_exp_avg_sq');
    resumed.loadSync(path);
    expect(resumed.paramGroups[0].beta1).toBe(0.95);
    expect(Object.keys(resumed.stateDict().state.p0)).toContain('max_exp_avg_sq');
    for (let t = 4; t <= 6; t++) {
      fillGrads(other, seed, t);
      resumed.step();
    }
    expect(sameBits(params, other)).toBe(true);
    expectSameState(opt, resumed);

    // SGD: momentum switched on mid-run needs a momentum_buffer the fresh optimizer lacks.
    const s = makeParams(LENGTHS, seed);
    const sgd = new SGD(s, { lr: 0.1 });
    fillGrads(s, seed, 1);
    sgd.step();
    sgd.paramGroups[0].momentum = 0.9;
    fillGrads(s, seed, 2);
    sgd.step();
    sgd.saveSync(path, { params: true });
    const s2 = makeParams(LENGTHS, seed + 1);
    const sgd2 = new SGD(s2, { lr: 0.1 });
    sgd2.loadSync(path);
    fillGrads(s, seed, 3);
    fillGrads(s2, seed, 3);
    sgd.step();
    sgd2.step();
    expect(sameBits(s, s2)).toBe(true);
  });

  it('saves and loads the arrays the parameter objects hold now (p.data replaced)', () => {
    const params = makeParams([6, 4], 3);
    const opt = new Adam(params, { lr: 0.01 });
    fillGrads(params, 3, 1);
    opt.step();
    params[0].data = new Float32Array(params[0].data).map((x) => x + 1);
    const path = fresh();
    opt.saveSync(path, { params: true });
    const other = makeParams([6, 4], 4);
    const resumed = new Adam(other, { lr: 0.01 });
    other[1].data = new Float32Array(4);
    resumed.loadSync(path);
    expect(sameBits(params, other)).toBe(true);
  });
});

describe('dispose()', () => {
  it('makes save, saveSync, load and loadSync throw "disposed", writing nothing', async () => {
    const opt = new Adam(makeParams([4], 1));
    const path = fresh();
    opt.saveSync(path);
    const absent = fresh();
    opt.dispose();
    const disposed = (what: string) => new RegExp(`Adam\\.${what}: the optimizer was disposed`);
    await expect(opt.save(absent)).rejects.toThrow(disposed('save'));
    expect(() => opt.saveSync(absent)).toThrow(disposed('saveSync'));
    await expect(opt.load(path)).rejects.toThrow(disposed('load'));
    expect(() => opt.loadSync(path)).toThrow(disposed('loadSync'));
    expect(existsSync(absent)).toBe(false);
  });
});
