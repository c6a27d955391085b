// A small CUDA-vs-js parity run over dist/, for a quick check on a GPU machine (also under
// compute-sanitizer): every optimizer, device and host-mirror params, awkward lengths. Exit 1 on
// any differing bit.
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
console.log(bad === 0 ? 'cuda-smoke: all bitwise equal to js' : `cuda-smoke: ${bad} arrays differ`);
process.exit(bad === 0 ? 0 : 1);
