import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../lib/backends/load';
import { NATIVE_LOADED } from './helpers';

// A worker thread that ends while its stepAsync is in flight: the environment is torn down before
// the promise can be settled. That must not abort the process (it did: 'terminate called after
// throwing an instance of Napi::Error'). Run in a child process so that an abort fails this test only.
const WORKER = `
  const { parentPort, workerData } = require('worker_threads');
  const b = require(workerData);
  const arrays = [0, 1, 2, 3].map(() => new Float32Array(1 << 22));
  const plan = new b.Plan(b.rules.adam.id, [...arrays, null], undefined, 0, 1);
  plan.stepAsync(new Float32Array(b.rules.adam.scalars.length).fill(0.5), new Uint32Array(1));
  parentPort.postMessage('started');`;

const PARENT = `
  const { Worker } = require('worker_threads');
  let runs = 0;
  const once = () => {
    const w = new Worker(${JSON.stringify(WORKER)}, { eval: true, workerData: process.argv[1] });
    w.once('message', () => w.terminate().then(() => (++runs < 5 ? once() : console.log('survived'))));
  };
  once();`;

describe.skipIf(!NATIVE_LOADED)('an environment torn down mid-step', () => {
  it('a worker terminated while its stepAsync is in flight does not abort the process (5 runs)', { timeout: 200_000 }, () => {
    const r = spawnSync(process.execPath, ['-e', PARENT, loadNative().path!], { encoding: 'utf8', timeout: 180_000 });
    expect({ status: r.status, signal: r.signal, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({
      status: 0,
      signal: null,
      stdout: 'survived',
      stderr: '',
    });
  });
});
