// A small CUDA-vs-js parity run over dist/, for a quick check on a GPU machine (also under
// compute-sanitizer): every optimizer, device and host-mirror params, awkward lengths; then every
// compact setting (bf16/int8 state, bf16/fp16 params with and without master), params and state
// dicts compared. Exit 1 on any differing bit.
'use strict';
const { cuda, OPTIMIZERS } = require('../dist');

const info = cuda.info();
if (info.deviceCount === 0) {
  console.log(`skipped: no CUDA device (${info.error})`);
  process.exit(0);
}
const LENGTHS = [0, 1, 3, 4, 5, 2047, 2049, 8193];
// Every optimizer of the registry, through its rule's main paths, with a loss scale that rounds.
const CASES = OPTIMIZERS.map((e) => [e.Class, { ...e.base, ...e.paths, gradScale: 3 }]);

function run(Opt, options, backend, mode) {
  let seed = 1;
  const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  const host = LENGTHS.map((n, i) => ({ name: `p${i}`, data: Float32Array.from({ length: n }, next), grad: new Float32Array(n) }));
  const dev = mode === 'device' ? host.map((p) => ({ name: p.name, data: cuda.upload(p.data), grad: cuda.tensor(p.data.length) })) : null;
  const opt = new Opt(dev ?? host, { ...options, backend });
  for (let t = 1; t <= 10; t++) {
    for (const p of host) for (let i = 0; i < p.grad.length; i++) p.grad[i] = next();
    if (dev) dev.forEach((p, i) => p.grad.copyFrom(host[i].grad));
    opt.step();
  }
  return dev ? dev.map((p) => p.data.download()) : host.map((p) => p.data);
}

let bad = 0;
for (const [Opt, options] of CASES) {
  const want = run(Opt, options, 'js', 'host');
  for (const mode of ['device', 'mirror']) {
    const got = run(Opt, options, 'cuda', mode);
    got.forEach((a, i) => {
      const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(want[i].buffer, want[i].byteOffset, a.length);
      const at = x.findIndex((v, j) => v !== y[j]);
      if (at !== -1) {
        bad++;
        console.log(`${Opt.name} ${mode} length ${a.length}: first differing bit at ${at}`);
      }
    });
  }
}
// Compact settings: [param dtype, masterWeights, stateDtype]; device params only for fp32.
const SETTINGS = [
  ['fp32', undefined, 'bf16'],
  ['fp32', undefined, 'int8'],
  ...['bf16', 'fp16'].flatMap((d) => [true, false].flatMap((m) => ['fp32', 'bf16', 'int8'].map((s) => [d, m, s]))),
];
const toHalf = (dtype, x) => {
  const u = new Uint32Array(Float32Array.from(x).buffer);
  // Nearest even by the library's own rounding: a master copy's narrowing (masterWeights writes it).
  return Uint16Array.from(u, (b) => (dtype === 'bf16' ? (b + 0x7fff + ((b >>> 16) & 1)) >>> 16 : halfBits(b)));
};
function halfBits(b) {
  // Truncation is enough for starting values: both backends start from the same bits.
  const sign = (b >>> 16) & 0x8000, e = ((b >>> 23) & 0xff) - 112, m = (b >>> 13) & 0x3ff;
  return e <= 0 ? sign : e >= 31 ? sign | 0x7bff : sign | (e << 10) | m;
}
function runCompact(Opt, options, [dtype, masterWeights, stateDtype], backend, mode) {
  let seed = 1;
  const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  const host = LENGTHS.map((n, i) => ({ name: `p${i}`, data: Float32Array.from({ length: n }, next), grad: new Float32Array(n) }));
  const params =
    dtype !== 'fp32'
      ? host.map((p) => ({ name: p.name, data: toHalf(dtype, p.data), grad: new Uint16Array(p.grad.length), dtype }))
      : mode === 'device'
        ? host.map((p) => ({ name: p.name, data: cuda.upload(p.data), grad: cuda.tensor(p.data.length) }))
        : host;
  const opt = new Opt(params, { ...options, backend, stateDtype, seed: 3, ...(masterWeights === undefined ? {} : { masterWeights }) });
  for (let t = 1; t <= 6; t++) {
    for (const [i, p] of host.entries()) {
      for (let k = 0; k < p.grad.length; k++) p.grad[k] = next();
      if (dtype !== 'fp32') params[i].grad.set(toHalf(dtype, p.grad));
      else if (mode === 'device') params[i].grad.copyFrom(p.grad);
    }
    opt.step();
  }
  const out = params.map((p) => ['param ' + p.name, p.data.download ? p.data.download() : p.data]);
  for (const [name, slots] of Object.entries(opt.stateDict().state)) for (const [slot, a] of Object.entries(slots)) out.push([`${name}.${slot}`, a]);
  opt.dispose();
  return out;
}
const bytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
for (const [Opt, options] of CASES)
  for (const setting of SETTINGS) {
    let want;
    try {
      want = runCompact(Opt, options, setting, 'js', 'host');
    } catch (e) {
      continue; // a combination the library refuses (centred RMSProp with int8 state)
    }
    for (const mode of setting[0] === 'fp32' ? ['device', 'mirror'] : ['mirror']) {
      const got = runCompact(Opt, options, setting, 'cuda', mode);
      got.forEach(([key, a], i) => {
        if (key !== want[i][0] || !bytes(a).equals(bytes(want[i][1]))) {
          bad++;
          console.log(`${Opt.name} ${setting.join(' ')} ${mode}: ${key} differs`);
        }
      });
    }
  }
console.log(bad === 0 ? 'cuda-smoke: all bitwise equal to js' : `cuda-smoke: ${bad} arrays differ`);
process.exit(bad === 0 ? 0 : 1);
