// Crash and corruption regressions of issue 10 that hostile arrays and threads caused: a spoofed
// `buffer` hiding a resizable one, SharedArrayBuffer clones over the same memory, a worker ending
// with a step in flight, a float-to-integer cast before its range check. Each runs in a child
// process, so a crash fails one test. The cast test fails before its fix only under
// `npm run test:asan` (a UBSan report, not a wrong value).
import { it } from 'vitest';
import { expectClean, runChild } from './child';
import { NO_NATIVE, describeUnless } from './helpers';

describeUnless(NO_NATIVE)('hostile arrays and threads: no crash, no silent corruption', () => {
  it('item 2: a resizable buffer hidden by an own `buffer` property is refused, not shrunk under a step', () => {
    expectClean(
      runChild(`
const { Adam } = require('./dist');
const n = 1 << 22;
const rab = new ArrayBuffer(4 * n, { maxByteLength: 4 * n });
const data = new Float32Array(rab, 0, n);
Object.defineProperty(data, 'buffer', { value: new ArrayBuffer(4 * n) });
const p = { name: 'w', data, grad: new Float32Array(n).fill(0.5) };
(async () => {
  let opt;
  try {
    opt = new Adam([p], { backend: 'native' });
  } catch (e) {
    if (!/resizable/.test(e.message)) throw e;
    console.log('ok');
    return;
  }
  const pending = opt.stepAsync();
  rab.resize(0);
  gc();
  await pending;
  console.log('stepped over a buffer that was shrunk');
})().catch((e) => console.log('error: ' + e.message));`),
    );
  });

  it('item 2: two params over the same SharedArrayBuffer memory (a structuredClone of it) are refused as overlapping, on either backend', () => {
    expectClean(
      runChild(`
const { SGD } = require('./dist');
const sab = new SharedArrayBuffer(64);
const a = new Float32Array(sab), b = new Float32Array(structuredClone(sab));
const grad = () => new Float32Array(16).fill(0.3);
const wrong = [];
for (const backend of ['native', 'js']) {
  try {
    new SGD([{ name: 'a', data: a, grad: grad() }, { name: 'b', data: b, grad: grad() }], { lr: 1, backend });
    wrong.push(backend + ' accepted two params on the same memory');
  } catch (e) {
    if (!e.message.startsWith('SGD: params[1] "b" data shares memory with params[0] "a" data')) wrong.push(backend + ': ' + e.message);
  }
}
console.log(wrong.length ? wrong.join('; ') : 'ok');`),
    );
  });

  it('item 4: a worker thread ending while its stepAsync is in flight does not abort the process', () => {
    expectClean(
      runChild(`
const { Worker } = require('node:worker_threads');
const { once } = require('node:events');
(async () => {
  for (let run = 0; run < 3; run++) {
    const w = new Worker(\`
      const { Adam } = require(\${JSON.stringify(process.cwd() + '/dist')});
      const { parentPort } = require('node:worker_threads');
      const n = 1 << 24;
      const opt = new Adam([{ name: 'w', data: new Float32Array(n).fill(1), grad: new Float32Array(n).fill(0.5) }], { backend: 'native', threads: 1 });
      opt.stepAsync();
      parentPort.postMessage('in flight');\`, { eval: true });
    await once(w, 'message');
    await w.terminate();
  }
  await new Promise((r) => setTimeout(r, 500));
  console.log('ok');
})();`),
    );
  });

  it('item 6: a huge group size is a RangeError, checked before any float-to-integer cast', () => {
    expectClean(
      runChild(`
const b = require('./dist/backends/load').loadNative().binding;
const f = () => new Float32Array(4);
for (const size of [1e300, 2 ** 64, -1e300, Infinity]) {
  try {
    new b.Plan(b.rules.adam.id, Array.from(b.rules.adam.slots, f), [size], 0, 1);
    throw new Error('accepted ' + size);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
  }
}
console.log('ok');`),
    );
  });

  it.each([
    ['CompactPlan', 'new b.CompactPlan(b.rules.sgd.id, arrays, storages, [null, null, null], undefined, 0, 1)'],
    ['cuda.CompactPlan', "new b.cuda.CompactPlan(b.rules.sgd.id, arrays, storages, [null, null, null], undefined, null, 'host')"],
  ])('%s: a getter of its arrays that detaches and frees the storages does not make it read freed memory', (_, make) => {
    // Before the fix the constructor read the storages after the getter ran: a garbage storage
    // (thrown as "storage N is not one this slot can have") or, under test:asan, a report.
    expectClean(
      runChild(`
const b = require('./dist/backends/load').loadNative().binding;
const n = 8, storages = new Uint8Array(3), grad = new Float32Array(n).fill(1);
const arrays = [new Float32Array(n), null, null];
Object.defineProperty(arrays, 1, { get() {
  if (storages.length) {
    structuredClone(storages.buffer, { transfer: [storages.buffer] });
    gc();
    for (let i = 0; i < 1000; i++) new Uint8Array(3).fill(122).buffer;
  }
  return grad;
} });
const plan = ${make};
plan.step(new Float32Array(b.rules.sgd.scalars.length), new Uint32Array(1));
console.log('ok');`),
    );
  });
});
