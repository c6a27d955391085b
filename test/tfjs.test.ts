import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdaGrad, AdaMax, Adam, AdamW, Optimizer, RMSProp, SGD, clipGradNorm, cosine } from '../lib';
import { nativeOptimizer } from '../lib/tfjs';
import { tuning } from '../lib/tfjs/tuning';
import { fillRandom, firstBitDifference, rng } from './helpers';

// Variables of a few shapes (a tail past every vector width), and per-step gradients from a seed.
const SHAPES: number[][] = [[17, 5], [33], [4, 4, 3], [1]];
const BACKEND = { backend: 'auto' as const };

function initial(seed: number): Float32Array[] {
  const next = rng(seed);
  return SHAPES.map((s) => fillRandom(new Float32Array(s.reduce((a, b) => a * b, 1)), next));
}

function gradsAt(step: number, seed = 7): Float32Array[] {
  const next = rng(seed * 1000 + step);
  return SHAPES.map((s) => fillRandom(new Float32Array(s.reduce((a, b) => a * b, 1)), next, 0.1));
}

let run = 0;
function makeVariables(values: Float32Array[]): tf.Variable[] {
  run++;
  return values.map((v, i) => tf.variable(tf.tensor(v.slice(), SHAPES[i]), true, `t${run}/v${i}`));
}

function named(vars: tf.Variable[], grads: Float32Array[]): tf.NamedTensorMap {
  return Object.fromEntries(vars.map((v, i) => [v.name, tf.tensor(grads[i], SHAPES[i])]));
}

/** Steps `opt` n times with gradsAt(1..n), disposing each step's gradient tensors. */
function stepTf(opt: tf.Optimizer, vars: tf.Variable[], n: number, from = 1): void {
  for (let t = from; t < from + n; t++) {
    const g = named(vars, gradsAt(t));
    opt.applyGradients(g);
    tf.dispose(Object.values(g));
  }
}

/** The same steps on this library's optimizer directly. */
function stepDirect(make: (params: Array<{ name: string; data: Float32Array; grad: Float32Array }>) => Optimizer<any, any>, values: Float32Array[], n: number, clip?: number) {
  const params = values.map((v, i) => ({ name: `v${i}`, data: v.slice(), grad: new Float32Array(v.length) }));
  const opt = make(params);
  for (let t = 1; t <= n; t++) {
    gradsAt(t).forEach((g, i) => params[i].grad.set(g));
    if (clip !== undefined) clipGradNorm(params, clip);
    opt.step();
  }
  return params.map((p) => p.data);
}

function expectBits(vars: tf.Variable[], expected: Float32Array[]): void {
  vars.forEach((v, i) => {
    const got = v.dataSync() as Float32Array;
    expect({ variable: i, firstDifference: firstBitDifference(got, expected[i]) }).toEqual({ variable: i, firstDifference: -1 });
  });
}

const CASES: Array<{ name: string; options: Record<string, unknown>; make: (p: any[], o: any) => Optimizer<any, any> }> = [
  { name: 'Adam', options: { lr: 0.01 }, make: (p, o) => new Adam(p, o) },
  { name: 'Adam', options: { lr: 0.01, amsgrad: true, weightDecay: 1e-3 }, make: (p, o) => new Adam(p, o) },
  { name: 'AdamW', options: { lr: 0.01 }, make: (p, o) => new AdamW(p, o) },
  { name: 'AdaMax', options: { lr: 0.02 }, make: (p, o) => new AdaMax(p, o) },
  { name: 'SGD', options: { lr: 0.1, momentum: 0.9, nesterov: true }, make: (p, o) => new SGD(p, o) },
  { name: 'AdaGrad', options: { lr: 0.1 }, make: (p, o) => new AdaGrad(p, o) },
  { name: 'RMSProp', options: { lr: 0.01, momentum: 0.5 }, make: (p, o) => new RMSProp(p, o) },
];

describe.each(['cpu', 'wasm'])('nativeOptimizer on the tfjs %s backend', (backend) => {
  beforeAll(async () => {
    if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    expect(await tf.setBackend(backend)).toBe(true);
    await tf.ready();
  });

  it.each(CASES)('$name $options: after 25 steps the variables equal the library stepped directly, bit for bit', ({ name, options, make }) => {
    const values = initial(1);
    const vars = makeVariables(values);
    const opt = nativeOptimizer(tf, name, { ...options, ...BACKEND });
    stepTf(opt, vars, 25);
    expect(opt.iterations).toBe(25);
    expectBits(vars, stepDirect((p) => make(p, options), values, 25));
    opt.dispose();
    tf.dispose(vars);
  });

  it('groups by variable name, a schedule and clipGradNorm: the same bits as the library with the same groups', () => {
    const values = initial(2);
    const vars = makeVariables(values);
    const lr = cosine(0.02, { totalSteps: 30, warmupSteps: 3 });
    const opt = nativeOptimizer(tf, 'Adam', { lr, clipGradNorm: 0.5, groups: [{ match: /\/v[13]$/, lr: 0.001, beta2: 0.99 }, { match: (n) => n.endsWith('/v0'), eps: 1e-6 }] });
    stepTf(opt, vars, 20);
    const expected = stepDirect(
      (p) => new Adam([{ params: [p[1], p[3]], lr: 0.001, beta2: 0.99 }, { params: [p[0]], eps: 1e-6 }, { params: [p[2]] }], { lr }),
      values, 20, 0.5,
    );
    expectBits(vars, expected);
    expect(opt.lastGradNorm).toBeGreaterThan(0);
    expect(opt.optimizer!.paramGroups.map((g) => g.params.map((p) => p.name))).toEqual([[vars[1].name, vars[3].name], [vars[0].name], [vars[2].name]]);
    opt.dispose();
    tf.dispose(vars);
  });

  it('a tensor taken from a variable (clone, model.getWeights) keeps its values through later steps', () => {
    const v = makeVariables(initial(11));
    const opt = nativeOptimizer(tf, 'Adam', { lr: 0.01 });
    stepTf(opt, v, 2);
    const kept = v.map((x) => x.clone());
    const values = kept.map((k) => (k.dataSync() as Float32Array).slice());
    stepTf(opt, v, 2, 3);
    kept.forEach((k, i) => expect(firstBitDifference(k.dataSync() as Float32Array, values[i])).toBe(-1));
    expect(firstBitDifference(v[0].dataSync() as Float32Array, values[0])).not.toBe(-1);
    tf.dispose([...kept, ...v]);
    opt.dispose();
  });

  it('model.compile + fit trains a model, leaks no tensors per step, and keeps iterations', async () => {
    const next = rng(3);
    const x = tf.tensor2d(Array.from({ length: 256 * 8 }, () => next() - 0.5), [256, 8]);
    const y = tf.tidy(() => x.sum(1, true).mul(2).add(1));
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [8], units: 16, activation: 'relu' }), tf.layers.dense({ units: 1 })] });
    const opt = nativeOptimizer(tf, 'Adam', { lr: 0.01 });
    model.compile({ optimizer: opt, loss: 'meanSquaredError' });
    await model.fit(x, y, { epochs: 1, batchSize: 32, verbose: 0 });
    const tensors = tf.memory().numTensors;
    const history = await model.fit(x, y, { epochs: 8, batchSize: 32, verbose: 0, shuffle: false });
    expect(tf.memory().numTensors).toBe(tensors);
    const loss = history.history.loss as number[];
    expect(loss[loss.length - 1]).toBeLessThan(loss[0] / 2);
    expect(opt.iterations).toBe(9 * 8);
    expect(opt.optimizer!.stepCount).toBe(9 * 8);
    model.dispose();
    opt.dispose();
    tf.dispose([x, y]);
  });
});

describe.each(['cpu', 'wasm'])('nativeOptimizer (tfjs %s)', (backend) => {
  beforeAll(async () => {
    if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    expect(await tf.setBackend(backend)).toBe(true);
    await tf.ready();
  });
  const vars: tf.Variable[] = [];
  afterEach(() => {
    tf.dispose(vars.splice(0));
  });

  it('minimize(f, returnCost, varList) steps the listed variables and returns the cost', () => {
    const w = tf.variable(tf.tensor1d([3, -2]), true, 'min/w');
    const b = tf.variable(tf.scalar(1), true, 'min/b');
    vars.push(w, b);
    const opt = nativeOptimizer(tf, 'SGD', { lr: 0.1 });
    const cost = opt.minimize(() => w.square().sum().add(b.square()) as tf.Scalar, true, [w]);
    expect(cost!.dataSync()[0]).toBe(14);
    // d/dw = 2w; b was not in varList and stays.
    expect(Array.from(w.dataSync())).toEqual([Math.fround(3 - Math.fround(0.1 * 6)), Math.fround(-2 + Math.fround(0.1 * 4))]);
    expect(b.dataSync()[0]).toBe(1);
    expect(opt.variableNames).toEqual(['min/w']);
    cost!.dispose();
    opt.dispose();
  });

  it('a variable assigned elsewhere (model.setWeights) is read back before the next step', () => {
    const values = initial(4);
    const v = makeVariables(values);
    vars.push(...v);
    const opt = nativeOptimizer(tf, 'Adam', { lr: 0.01 });
    stepTf(opt, v, 3);
    const reset = initial(5);
    v[2].assign(tf.tensor(reset[2], SHAPES[2]));
    stepTf(opt, v, 1, 4);
    // The direct run: 3 steps, then variable 2 replaced, then step 4.
    const params = values.map((d, i) => ({ name: `v${i}`, data: d.slice(), grad: new Float32Array(d.length) }));
    const direct = new Adam(params, { lr: 0.01 });
    for (let t = 1; t <= 4; t++) {
      if (t === 4) params[2].data.set(reset[2]);
      gradsAt(t).forEach((g, i) => params[i].grad.set(g));
      direct.step();
    }
    expectBits(v, params.map((p) => p.data));
    opt.dispose();
  });

  it('getWeights/setWeights: a new optimizer restored from them continues bit for bit', async () => {
    const values = initial(6);
    const a = makeVariables(values), b = makeVariables(values);
    vars.push(...a, ...b);
    const first = nativeOptimizer(tf, 'RMSProp', { lr: 0.01, momentum: 0.9, centered: true });
    const other = nativeOptimizer(tf, 'RMSProp', { lr: 0.01, momentum: 0.9, centered: true });
    stepTf(first, a, 5);
    stepTf(other, b, 5);
    const weights = await first.getWeights();
    expect(weights[0].name).toBe('iter');
    expect(weights.slice(1).map((w) => w.name)).toContain(`${a[0].name}/square_avg`);
    // Restore into a fresh optimizer for the b variables (names differ: rename a's to b's).
    const renamedWeights = weights.map((w, i) => (i === 0 ? w : { name: w.name.replace(/^t\d+/, b[0].name.split('/')[0]), tensor: w.tensor }));
    const restored = nativeOptimizer(tf, 'RMSProp', { lr: 0.01, momentum: 0.9, centered: true });
    await restored.setWeights(renamedWeights);
    expect(restored.iterations).toBe(5);
    stepTf(first, a, 5, 6);
    stepTf(restored, b, 5, 6);
    b.forEach((v, i) => expect(firstBitDifference(v.dataSync() as Float32Array, a[i].dataSync() as Float32Array)).toBe(-1));
    expect(restored.stateDict().step).toBe(10);
    tf.dispose(weights.map((w) => w.tensor));
    for (const o of [first, other, restored]) o.dispose();
  });

  it('stateDict/loadStateDict reach the wrapped optimizer', () => {
    const v = makeVariables(initial(7));
    vars.push(...v);
    const opt = nativeOptimizer(tf, 'AdaGrad', { lr: 0.1 });
    expect(() => opt.stateDict()).toThrow(/no variables yet/);
    stepTf(opt, v, 2);
    const sd = opt.stateDict();
    expect(sd.step).toBe(2);
    expect(Object.keys(sd.state)).toEqual(v.map((x) => x.name));
    stepTf(opt, v, 1, 3);
    opt.loadStateDict(sd);
    expect(opt.iterations).toBe(2);
    opt.dispose();
  });

  it('skipNonFinite: a NaN gradient changes nothing and is not counted', () => {
    const v = makeVariables(initial(8));
    vars.push(...v);
    const opt = nativeOptimizer(tf, 'Adam', { lr: 0.01, skipNonFinite: true });
    stepTf(opt, v, 1);
    const before = v.map((x) => (x.dataSync() as Float32Array).slice());
    const bad = gradsAt(2);
    bad[1][3] = NaN;
    const g = named(v, bad);
    opt.applyGradients(g);
    tf.dispose(Object.values(g));
    expect(opt.lastStepped).toBe(false);
    expect(opt.iterations).toBe(1);
    v.forEach((x, i) => expect(firstBitDifference(x.dataSync() as Float32Array, before[i])).toBe(-1));
    opt.dispose();
  });

  it('errors name the argument; a throwing call changes nothing', () => {
    expect(() => nativeOptimizer({} as typeof tf, 'Adam')).toThrow(TypeError);
    expect(() => nativeOptimizer(tf, 'Adamm')).toThrow(/name must be one of .*Adam.*got "Adamm"/);
    expect(() => nativeOptimizer(tf, 'Adamm')).toThrow(RangeError);
    expect(() => nativeOptimizer(tf, 'Adam', { lr: -1 })).toThrow(RangeError);
    expect(() => nativeOptimizer(tf, 'Adam', { betaOne: 0.9 })).toThrow(/unknown option "betaOne"/);
    expect(() => nativeOptimizer(tf, 'SGD', {})).toThrow(/'lr' is required/);
    expect(() => nativeOptimizer(tf, 'Adam', { groups: [{ match: /a/, lr: 0.1 }, { match: /b/, beta1: 2 }] })).toThrow(/groups\[1\] option 'beta1'/);
    expect(() => nativeOptimizer(tf, 'Adam', { groups: [{ match: 3 }] })).toThrow(/groups\[0\]\.match must be/);
    expect(() => nativeOptimizer(tf, 'Adam', { clipGradNorm: -1 })).toThrow(RangeError);

    const v = makeVariables(initial(9));
    vars.push(...v);
    const opt = nativeOptimizer(tf, 'Adam', { lr: 0.01 });
    stepTf(opt, v, 1);
    const before = v.map((x) => (x.dataSync() as Float32Array).slice());
    const some = named(v.slice(0, 3), gradsAt(2));
    expect(() => opt.applyGradients(some)).toThrow(new RegExp(`no gradient for "${v[3].name}"`));
    const wrong = named(v, gradsAt(2));
    wrong[v[1].name].dispose();
    wrong[v[1].name] = tf.ones([5]);
    expect(() => opt.applyGradients(wrong)).toThrow(/gradient ".*\/v1" has 5 elements, the variable 33/);
    expect(() => opt.applyGradients({ nosuch: tf.ones([1]) })).toThrow(/"nosuch" names no registered variable/);
    v.forEach((x, i) => expect(firstBitDifference(x.dataSync() as Float32Array, before[i])).toBe(-1));
    expect(opt.iterations).toBe(1);
    tf.dispose([...Object.values(some), ...Object.values(wrong)]);
    opt.dispose();
    expect(() => stepTf(opt, v, 1)).toThrow(/disposed/);
  });

  it('against tf.train.adam (epsilon 1e-7): within float32 rounding after 1,000 steps', () => {
    const values = initial(10);
    const a = makeVariables(values), b = makeVariables(values);
    vars.push(...a, ...b);
    const ours = nativeOptimizer(tf, 'Adam', { lr: 1e-3, eps: 1e-7 });
    const theirs = tf.train.adam(1e-3, 0.9, 0.999, 1e-7);
    stepTf(ours, a, 1000);
    stepTf(theirs, b, 1000);
    let maxAbs = 0, maxRel = 0, same = 0, total = 0;
    a.forEach((v, i) => {
      const x = v.dataSync() as Float32Array, y = b[i].dataSync() as Float32Array;
      for (let k = 0; k < x.length; k++) {
        const d = Math.abs(x[k] - y[k]);
        maxAbs = Math.max(maxAbs, d);
        maxRel = Math.max(maxRel, d / Math.max(Math.abs(values[i][k] - x[k]), 1e-30));
        same += d === 0 ? 1 : 0;
        total++;
      }
    });
    console.log(
      `tfjs adam vs nativeOptimizer Adam, 1000 steps: ${same}/${total} equal, max |difference| ${maxAbs.toExponential(2)} ` +
        `(${(maxAbs / 1e-3).toExponential(2)} of one step's size lr), max relative to the distance travelled ${maxRel.toExponential(2)}`,
    );
    // Each step moves every element by about lr; the two differ in float32 rounding only.
    expect(maxAbs).toBeLessThan(1e-5);
    ours.dispose();
    theirs.dispose();
  });
});

// On 'wasm' the adapter steps each variable in place, in the wasm heap; it reads the gradients
// there too, or (a small model's, below tuning.gradCopyMaxElements) copies them first. Every test
// runs both ways: the small tensors here are read in place when the threshold is 0.
describe.each([
  { grads: 'copied', copyMax: tuning.gradCopyMaxElements },
  { grads: 'read in place', copyMax: 0 },
])('nativeOptimizer in place on tfjs wasm, gradients $grads', ({ copyMax }) => {
  const defaultCopyMax = tuning.gradCopyMaxElements;
  beforeAll(async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    expect(await tf.setBackend('wasm')).toBe(true);
    await tf.ready();
    tuning.gradCopyMaxElements = copyMax;
  });
  afterAll(() => {
    tuning.gradCopyMaxElements = defaultCopyMax;
  });
  const vars: tf.Variable[] = [];
  afterEach(() => {
    tf.dispose(vars.splice(0));
  });

  it('during the step the wrapped optimizer reads the gradients where this mode says: in arrays that stay, or in the heap', () => {
    const values = initial(20);
    const v = makeVariables(values);
    vars.push(...v);
    const seen: Float32Array[][] = [];
    let opt: ReturnType<typeof nativeOptimizer> | null = null;
    const lr = () => {
      seen.push(opt!.optimizer!.paramGroups[0].params.map((p) => p.grad as Float32Array));
      return 0.01;
    };
    opt = nativeOptimizer(tf, 'Adam', { lr });
    stepTf(opt, v, 3);
    const heap = (tf.engine().backend as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
    for (const step of seen.slice(1)) for (const g of step) expect(g.buffer === heap).toBe(copyMax === 0);
    // Copied: the same arrays every step, so the wrapped optimizer keeps its prepared native plan.
    if (copyMax > 0) seen.slice(1).forEach((step) => step.forEach((g, i) => expect(g).toBe(seen[0][i])));
    expectBits(v, stepDirect((p) => new Adam(p, { lr: 0.01 }), values, 3));
    opt.dispose();
  });

  const heapBytes = () => (tf.engine().backend as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength;

  it("keeps each variable's memory (no assign, no new tensor), leaves the gradient tensors as they were, and the library's bits", () => {
    const values = initial(21);
    const v = makeVariables(values);
    vars.push(...v);
    const opt = nativeOptimizer(tf, 'Adam', { lr: 0.01 });
    stepTf(opt, v, 1);
    const ids = v.map((x) => x.dataId);
    const tensors = tf.memory().numTensors;
    for (let t = 2; t <= 6; t++) {
      const g = named(v, gradsAt(t));
      opt.applyGradients(g);
      Object.values(g).forEach((x, i) => expect(firstBitDifference(x.dataSync() as Float32Array, gradsAt(t)[i])).toBe(-1));
      tf.dispose(Object.values(g));
    }
    expect(v.map((x) => x.dataId)).toEqual(ids);
    expect(tf.memory().numTensors).toBe(tensors);
    expectBits(v, stepDirect((p) => new Adam(p, { lr: 0.01 }), values, 6));
    opt.dispose();
  });

  it('kernels that keep packed weights (matMul) see the values written in place', () => {
    const w = tf.variable(tf.tensor2d(initial(22)[0], [17, 5]), true, 'inplace/w');
    vars.push(w);
    const x = tf.tensor2d(initial(23)[0].subarray(0, 3 * 17), [3, 17]);
    const opt = nativeOptimizer(tf, 'SGD', { lr: 0.5 });
    for (let t = 1; t <= 3; t++) {
      tf.matMul(x, w).dispose(); // the kernel packs w's values once and keeps them by tensor id
      const g = { [w.name]: tf.tensor2d(gradsAt(t)[0], [17, 5]) };
      opt.applyGradients(g);
      tf.dispose(Object.values(g));
      const got = tf.matMul(x, w);
      const expected = tf.matMul(x, tf.tensor2d(w.dataSync() as Float32Array, [17, 5]));
      expect(firstBitDifference(got.dataSync() as Float32Array, expected.dataSync() as Float32Array)).toBe(-1);
      tf.dispose([got, expected]);
    }
    x.dispose();
    opt.dispose();
  });

  it("a tensor sharing a variable's memory (its initial value, a reshape) keeps its values", () => {
    const values = initial(24);
    const init = values.map((d, i) => tf.tensor(d.slice(), SHAPES[i]));
    const v = init.map((t, i) => tf.variable(t, true, `shared${run}/v${i}`));
    vars.push(...v);
    const opt = nativeOptimizer(tf, 'Adam', { lr: 0.01 });
    stepTf(opt, v, 2);
    const flat = v.map((x) => x.reshape([-1]));
    const kept = flat.map((f) => (f.dataSync() as Float32Array).slice());
    stepTf(opt, v, 2, 3);
    init.forEach((t, i) => expect(firstBitDifference(t.dataSync() as Float32Array, values[i])).toBe(-1));
    flat.forEach((f, i) => expect(firstBitDifference(f.dataSync() as Float32Array, kept[i])).toBe(-1));
    expectBits(v, stepDirect((p) => new Adam(p, { lr: 0.01 }), values, 4));
    tf.dispose([...init, ...flat]);
    opt.dispose();
  });

  it("gradients sharing memory (one tensor for two variables, a variable as a gradient): the library's bits", () => {
    const values = [new Float32Array([1, 2, 3]), new Float32Array([4, 5, 6]), new Float32Array([0.5, -0.5, 0.25])];
    const v = values.map((d, i) => tf.variable(tf.tensor1d(d.slice()), true, `alias${run}/v${i}`));
    run++;
    vars.push(...v);
    const g = tf.tensor1d([0.1, -0.2, 0.3]);
    const opt = nativeOptimizer(tf, 'SGD', { lr: 0.1, momentum: 0.9 });
    // v0 and v1 get the same tensor; v2 gets v0 itself, which the same step writes.
    for (let t = 0; t < 3; t++) opt.applyGradients([{ name: v[0].name, tensor: g }, { name: v[1].name, tensor: g }, { name: v[2].name, tensor: v[0] }]);
    const params = values.map((d, i) => ({ name: `p${i}`, data: d.slice(), grad: new Float32Array(3) }));
    const direct = new SGD(params, { lr: 0.1, momentum: 0.9 });
    for (let t = 0; t < 3; t++) {
      params[0].grad.set([0.1, -0.2, 0.3]);
      params[1].grad.set([0.1, -0.2, 0.3]);
      params[2].grad.set(params[0].data);
      direct.step();
    }
    expectBits(v, params.map((p) => p.data));
    g.dispose();
    opt.dispose();
  });

  it("the heap growing between steps and inside a schedule function (detached views): the library's bits", () => {
    const values = initial(25);
    const v = makeVariables(values);
    vars.push(...v);
    const hold: tf.Tensor[] = [];
    const grow = () => hold.push(tf.zeros([heapBytes() / 4])); // as large as the heap: the module's memory grows
    const lr = (t: number) => {
      if (t === 3) grow();
      return 0.01 / t;
    };
    const opt = nativeOptimizer(tf, 'Adam', { lr });
    const start = heapBytes();
    for (let t = 1; t <= 4; t++) {
      stepTf(opt, v, 1, t);
      if (t === 1) grow();
    }
    expect(heapBytes()).toBeGreaterThan(start);
    expectBits(v, stepDirect((p) => new Adam(p, { lr }), values, 4));
    tf.dispose(hold);
    opt.dispose();
  });

  it('the wrapped optimizer between steps works on the variables, never on freed gradient memory', () => {
    const values = initial(26);
    const v = makeVariables(values);
    vars.push(...v);
    const opt = nativeOptimizer(tf, 'Adam', { lr: 0.01 });
    stepTf(opt, v, 2);
    const after = v.map((x) => (x.dataSync() as Float32Array).slice());
    // A tensor allocated now may take the memory of step 2's (disposed) gradients.
    const probes = SHAPES.map((s) => tf.fill(s, 7));
    opt.optimizer!.zeroGrad();
    probes.forEach((p) => expect(Array.from(p.dataSync()).every((x) => x === 7)).toBe(true));
    expect(opt.optimizer!.paramGroups[0].params.map((p) => Array.from(p.data as Float32Array))).toEqual(after.map((a) => Array.from(a)));
    // A direct step on the wrapped optimizer (its grads now zero) updates the variables themselves.
    opt.optimizer!.step();
    const params = values.map((d, i) => ({ name: `v${i}`, data: d.slice(), grad: new Float32Array(d.length) }));
    const direct = new Adam(params, { lr: 0.01 });
    for (let t = 1; t <= 3; t++) {
      gradsAt(t).forEach((g, i) => params[i].grad.set(t <= 2 ? g : new Float32Array(g.length)));
      direct.step();
    }
    expectBits(v, params.map((p) => p.data));
    tf.dispose(probes);
    opt.dispose();
  });
});

describe('nativeOptimizer threads', () => {
  beforeAll(async () => {
    expect(await tf.setBackend('cpu')).toBe(true);
  });
  const defaultMax = tuning.oneThreadMaxElements;
  afterEach(() => {
    tuning.oneThreadMaxElements = defaultMax;
  });

  it.each([
    { model: 'small', threads: undefined, expected: 1 },
    { model: 'small', threads: 2, expected: 2 },
    { model: 'large', threads: undefined, expected: undefined },
  ])('$model model, option threads $threads: the wrapped optimizer gets threads $expected, and the same bits', ({ model, threads, expected }) => {
    if (model === 'large') tuning.oneThreadMaxElements = 0;
    const values = initial(30);
    const v = makeVariables(values);
    const opt = nativeOptimizer(tf, 'Adam', { lr: 0.01, clipGradNorm: 0.05, ...(threads ? { threads } : {}) });
    stepTf(opt, v, 3);
    expect(opt.getConfig().threads).toBe(expected);
    expectBits(v, stepDirect((p) => new Adam(p, { lr: 0.01 }), values, 3, 0.05));
    opt.dispose();
    tf.dispose(v);
  });
});
