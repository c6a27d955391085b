import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Adam } from '../lib';
import { pinner, transferDetaches } from '../lib/pin';
import { expectClean, runChild } from './child';
import { NO_NATIVE, itUnless } from './helpers';

// A stepAsync in flight while its param's and grad's memory is handed away and the receiver lets
// go of it, then GC and fresh allocations that would reuse freed memory. Without the pin this is a
// use-after-free: a SIGSEGV, an ASan report, or the step's writes landing in the fresh arrays.
function transferDuringStep(mode: 'clone' | 'worker-drops' | 'worker-terminated', backend = 'native') {
  return `
const { Adam } = require('./dist');
const { Worker } = require('node:worker_threads');
const { once } = require('node:events');
const n = 1 << 23;
const param = () => ({ name: 'w', data: new Float32Array(n).fill(1), grad: new Float32Array(n).fill(0.5) });
(async () => {
  const ref = { name: 'w', data: new Float32Array(16).fill(1), grad: new Float32Array(16).fill(0.5) };
  new Adam([ref], { backend: 'js' }).step();
  const p = param();
  const opt = new Adam([p], { backend: '${backend}', threads: 1 });
  let worker;
  if ('${mode}' !== 'clone') {
    worker = new Worker(\`
      const { parentPort } = require('node:worker_threads');
      let held;
      parentPort.on('message', (m) => {
        if ('${mode}' === 'worker-terminated') held = m; else globalThis.gc();
        parentPort.postMessage('received');
      });\`, { eval: true });
    await once(worker, 'online');
  }
  const buffers = [p.data.buffer, p.grad.buffer];
  const pending = opt.stepAsync();
  if ('${mode}' === 'clone') structuredClone(buffers, { transfer: buffers });
  else {
    worker.postMessage(buffers, buffers);
    await once(worker, 'message');
    if ('${mode}' === 'worker-terminated') await worker.terminate();
  }
  gc();
  const victims = [new Float32Array(n).fill(7), new Float32Array(n).fill(7), new Float32Array(1024).fill(7)];
  await pending;
  if (worker) await worker.terminate();
  if (p.data.length !== n || p.grad.length !== n) throw new Error('param or grad was detached');
  const want = new Uint32Array(ref.data.buffer)[0], got = new Uint32Array(p.data.buffer);
  for (let i = 0; i < n; i++) if (got[i] !== want) throw new Error('param[' + i + '] has other bits than the reference');
  for (const v of victims) for (let i = 0; i < v.length; i++) if (v[i] !== 7) throw new Error('the step wrote into a fresh array');
  if (p.grad.some((g) => g !== 0.5)) throw new Error('grad changed');
  console.log('ok');
})().catch((e) => { console.log('error: ' + e.message); process.exitCode = 1; });
`;
}

describe('stepAsync: the memory of a step in flight cannot be freed', () => {
  for (const mode of ['clone', 'worker-drops', 'worker-terminated'] as const)
    itUnless(NO_NATIVE)(`${mode}: the buffers are copied, not detached, and the step completes intact`, () => {
      expectClean(runChild(transferDuringStep(mode)));
    });

  itUnless(NO_NATIVE, [transferDetaches, 'ArrayBuffer.prototype.transfer detaches whatever the mark'])('the arrays stay transferable until the first stepAsync; afterwards a transfer copies', async () => {
    const p = { name: 'w', data: new Float32Array(64).fill(1), grad: new Float32Array(64).fill(0.5) };
    const opt = new Adam([p], { backend: 'native' });
    opt.step();
    const spare = new Float32Array(8);
    structuredClone(spare.buffer, { transfer: [spare.buffer] });
    expect(spare.length).toBe(0); // an unrelated, unpinned array still detaches
    await opt.stepAsync();
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(p.grad.buffer, [p.grad.buffer]);
    const copy = structuredClone(p.data, { transfer: [p.data.buffer] });
    port1.close();
    port2.close();
    expect(p.data.length).toBe(64);
    expect(p.grad.length).toBe(64);
    expect(copy).toEqual(p.data);
    expect(copy.buffer).not.toBe(p.data.buffer);
  });

  // The optimizer refuses such an array (lib/validate.ts), so the pin is called as stepAsync calls
  // it, on a state slot (pinned on every runtime): it must mark the memory, not the decoy.
  it('an own `buffer` property on the array does not hide the real buffer from the pin', () => {
    const state = new Float32Array(64);
    const real = state.buffer;
    Object.defineProperty(state, 'buffer', { value: new ArrayBuffer(256) });
    pinner([[[new Float32Array(new SharedArrayBuffer(256)), new Float32Array(new SharedArrayBuffer(256)), state]]])();
    try {
      structuredClone(real, { transfer: [real] });
    } catch (e) {
      expect((e as Error).name).toBe('DataCloneError'); // Node.js >= 21 refuses a marked buffer
    }
    expect(real.byteLength).toBe(256);
    expect(state.length).toBe(64);
  });
});
