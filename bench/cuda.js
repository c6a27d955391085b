// CUDA step throughput against the device's own copy bandwidth, measured in the same run.
//   npm run build:cuda && npm run build:ts && node bench/cuda.js
// BENCH_ELEMENTS (default 64M) sets the size. A step's bytes per element: Adam and AdaMax read
// param, grad, m, v (or u) and write param, m, v: 28; with amsgrad also vmax read and written: 36.
// The copy moves 8 bytes per element (read + write), so the ratio below compares like with like.
'use strict';
const { cuda, Adam, AdamW, AdaMax } = require('../dist');
const { bufferOf } = require('../dist/cuda');
const { loadNative } = require('../dist/backends/load');
const { adamRule } = require('../dist/rules/adam');
const { adamaxRule } = require('../dist/rules/adamax');

const info = cuda.info();
if (info.deviceCount === 0) {
  console.log(`skipped: no CUDA device (${info.error})`);
  process.exit(0);
}
const native = loadNative().binding;
const N = Number(process.env.BENCH_ELEMENTS || 64 * 1024 * 1024);
const GB = 1e9;

function copyBandwidth(n, iters) {
  const a = cuda.tensor(n), b = cuda.tensor(n);
  const ms = native.cuda.timeCopy(bufferOf(b, 'bench'), bufferOf(a, 'bench'), iters);
  a.free();
  b.free();
  return (8 * n * iters) / (ms / 1e3);
}

const CONFIGS = [
  { label: 'Adam', Opt: Adam, rule: adamRule, options: {}, ruleOptions: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, decoupled: false }, bytes: 28 },
  { label: 'AdamW', Opt: AdamW, rule: adamRule, options: {}, ruleOptions: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, amsgrad: false, maximize: false, decoupled: true }, bytes: 28 },
  { label: 'Adam amsgrad', Opt: Adam, rule: adamRule, options: { amsgrad: true }, ruleOptions: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: true, maximize: false, decoupled: false }, bytes: 36 },
  { label: 'AdaMax', Opt: AdaMax, rule: adamaxRule, options: {}, ruleOptions: { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maximize: false }, bytes: 28 },
];

// Splits n elements into `count` tensors (the last takes the remainder).
function split(n, count) {
  const each = Math.floor(n / count);
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? n - each * (count - 1) : each));
}

// Gradient-like values (about 1e-3, both signs), the same for every run.
function gradValues(n) {
  const out = new Float32Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = (x / 2 ** 32 - 0.5) * 2e-3;
  }
  return out;
}
const GRADS = gradValues(N);

// Kernel only: one plan over raw device buffers, `iters` launches timed with CUDA events. The
// grads hold gradient-like values, so after the warm-up launch m and v do too. zeroData leaves
// everything 0: the IEEE division then takes its slow path (0/x), the kernel's worst case.
function kernelTime(cfg, lengths, iters, zeroData = false) {
  const layout = native.rules[cfg.rule.name];
  const flags = new Uint32Array([cfg.rule.flags(cfg.ruleOptions, 1)]);
  const bufs = [];
  const items = [];
  for (const n of lengths)
    for (let k = 0; k < layout.slots.length; k++) {
      const slot = k < 2 ? null : cfg.rule.stateSlots[k - 2];
      const b = slot && !cfg.rule.needsSlot(slot, cfg.ruleOptions) ? null : new native.cuda.DeviceBuffer(n);
      if (b) bufs.push(b);
      if (b && k === 1 && !zeroData) b.copyFrom(GRADS.subarray(0, n));
      items.push(b);
    }
  const plan = new native.cuda.Plan(layout.id, items);
  const scalars = new Float32Array(layout.scalars.length);
  cfg.rule.scalars(cfg.ruleOptions, 1, scalars);
  const ms = plan.timeSteps(scalars, flags, iters) / iters;
  plan.release();
  for (const b of bufs) b.free();
  return ms;
}

// What a user sees: opt.step() on DeviceTensors (launch + wait), wall clock.
function stepTime(cfg, lengths, iters) {
  const params = lengths.map((n, i) => ({ name: `p${i}`, data: cuda.tensor(n), grad: cuda.tensor(n) }));
  for (const p of params) p.grad.copyFrom(GRADS.subarray(0, p.grad.length));
  const opt = new cfg.Opt(params, { ...cfg.options, backend: 'cuda' });
  for (let i = 0; i < 3; i++) opt.step();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) opt.step();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / iters;
  for (const p of params) {
    p.data.free();
    p.grad.free();
  }
  return ms;
}

// Host-mirror mode: Float32Array params, grads uploaded and params downloaded every step.
function mirrorTime(n, iters) {
  const data = new Float32Array(n), grad = GRADS.subarray(0, n);
  const opt = new Adam([{ data, grad }], { backend: 'cuda' });
  opt.step();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) opt.step();
  return Number(process.hrtime.bigint() - t0) / 1e6 / iters;
}

const device = info.devices[0];
const copy = copyBandwidth(N, 20);
console.log(`device: ${device.name} (sm ${device.computeCapability}, ${(device.memory / 2 ** 30).toFixed(1)} GiB)`);
console.log(`elements: ${N}; device-to-device copy: ${(copy / GB).toFixed(0)} GB/s (read + write, CUDA events)`);
const rows = [];
for (const cfg of CONFIGS)
  for (const count of [1, 1000, 10000]) {
    const lengths = split(N, count);
    const kernel = kernelTime(cfg, lengths, 20);
    const step = stepTime(cfg, lengths, 20);
    const row = {
      optimizer: cfg.label,
      tensors: count,
      kernelMs: +kernel.toFixed(3),
      stepMs: +step.toFixed(3),
      kernelGelemPerS: +(N / kernel / 1e6).toFixed(2),
      stepGelemPerS: +(N / step / 1e6).toFixed(2),
      kernelVsCopy: +((cfg.bytes * N) / (kernel / 1e3) / copy).toFixed(3),
      stepVsCopy: +((cfg.bytes * N) / (step / 1e3) / copy).toFixed(3),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
const zero = kernelTime(CONFIGS[0], [N], 20, true);
console.log(
  `Adam on all-zero data (IEEE division slow path): kernel ${zero.toFixed(3)} ms, ` +
    `${((CONFIGS[0].bytes * N) / (zero / 1e3) / copy).toFixed(3)} of copy`,
);
const mirror = mirrorTime(N, 5);
console.log(
  `host-mirror Adam, ${N} elements: ${mirror.toFixed(2)} ms/step, ${(N / mirror / 1e6).toFixed(2)} Gelem/s ` +
    `(${((8 * N) / (mirror / 1e3) / GB).toFixed(1)} GB/s of grad upload + param download, plus host copies)`,
);
console.log(
  JSON.stringify({ device: device.name, elements: N, copyGBs: +(copy / GB).toFixed(1), zeroDataKernelMs: +zero.toFixed(3), mirrorMs: +mirror.toFixed(2), rows }),
);
