import { describe, expect, it } from 'vitest';
import { describeChild, expectClean, runChild } from './child';
import { NO_NATIVE, itUnless } from './helpers';

// Under `npm run test:asan` V8's calloc of 4 GiB+ takes ~15 s (ASan fills the shadow): there the
// refused-buffer path runs once, at the smallest size that takes it.
const SANITIZED = /libasan/.test(process.env.LD_PRELOAD ?? '');
const canDropToNobody = process.getuid?.() === 0 && runChild('', { wrap: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] }).status === 0;

describe('allocFloat32: sizes up to 2^32, lazily committed', () => {
  itUnless(NO_NATIVE)('gives arrays beyond Node.js external-buffer limit (2^30 + 1 .. 2^32 elements) without a double free', () => {
    // Untouched pages cost nothing: 16 GiB of address space, a few pages written.
    const r = runChild(`
const { allocFloat32 } = require('./dist');
for (const n of ${SANITIZED ? '[2 ** 30 + 1]' : '[2 ** 30, 2 ** 30 + 1, 2 ** 31, 2 ** 32]'}) {
  let a = allocFloat32(n);
  if (a.length !== n || a[0] !== 0 || a[n - 1] !== 0) throw new Error('bad array of ' + n);
  a[n - 1] = 1;
  a = null;
  gc();
}
console.log('ok');`, { timeout: 300_000 });
    expectClean(r);
  }, 300_000);

  itUnless(NO_NATIVE)('refuses n > 2^32 with a RangeError before allocating', async () => {
    const { loadNative } = await import('../lib/backends/load');
    const b = loadNative().binding!;
    expect(() => b.allocFloat32(2 ** 32 + 1)).toThrow(RangeError);
    expect(() => b.allocFloat32(Infinity)).toThrow(RangeError);
    expect(() => b.allocFloat32(NaN)).toThrow(RangeError);
  });

  itUnless(NO_NATIVE, [SANITIZED, "under ASan: its calloc fills V8's buffers"])('commits on first touch: 2^28 elements (1 GiB) in well under the ~800 ms a memset takes', () => {
    const r = runChild(`
const { allocFloat32 } = require('./dist');
allocFloat32(1 << 22);  // warm up
const t = process.hrtime.bigint();
const a = allocFloat32(2 ** 28);
const ms = Number(process.hrtime.bigint() - t) / 1e6;
console.log(a.length === 2 ** 28 && a[12345] === 0 ? ms : -1);`);
    const ms = Number(r.stdout.trim());
    expect(ms, describeChild(r)).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(200);
  });

  itUnless(NO_NATIVE, [SANITIZED, 'under ASan: 16 GiB of calloc'])('a param of 2^30 + 16 elements: its state arena is allocated without a crash', () => {
    const r = runChild(`
const { Adam } = require('./dist');
const n = 2 ** 30 + 16;
const p = { name: 'big', data: new Float32Array(n), grad: new Float32Array(n) };
const opt = new Adam([p], { backend: 'native' });
gc();
console.log('ok');`);
    expectClean(r);
  });
});

// Threads of this process (helpers included), from /proc.
const TASKS = "const tasks = () => require('node:fs').readdirSync('/proc/self/task').length;";

describe('thread pool', () => {
  itUnless(NO_NATIVE)('uses one thread per job at most, and starts none for fewer than 4 jobs: 1 job none, 3 none, 33 jobs with threads 64 start 32', () => {
    const r = runChild(`${TASKS}
const { Adam } = require('./dist');
const make = (n) => [{ name: 'w', data: new Float32Array(n).fill(1), grad: new Float32Array(n).fill(0.5) }];
const job = 8 * 16384; // parallel.h kJobElements
const one = new Adam(make(job), { backend: 'native', threads: 8 });
const three = new Adam(make(3 * job), { backend: 'native', threads: 4 });
const many = new Adam(make(33 * job), { backend: 'native', threads: 64 });
one.step();
const base = tasks();
one.step();
const afterOne = tasks();
three.step();
const afterThree = tasks();
many.step();
console.log(afterOne - base, afterThree - base, tasks() - base);`);
    expect(r.stdout.trim(), describeChild(r)).toBe('0 0 32');
  });

  itUnless(NO_NATIVE)('threads 1024 does not keep 1,023 threads: idle helpers end after about a second', () => {
    const r = runChild(`${TASKS}
const { Adam } = require('./dist');
const p = { name: 'w', data: new Float32Array(1024 * 16384).fill(1), grad: new Float32Array(1024 * 16384).fill(0.5) };
const opt = new Adam([p], { backend: 'native', threads: 1024 });
const base = tasks();
opt.step();
const busy = tasks() - base;
// Released after 1 s idle; exiting 1,023 threads can take a while more on a loaded machine (or under ASan).
const start = Date.now();
const poll = setInterval(() => {
  if (tasks() > base && Date.now() - start < 15000) return;
  clearInterval(poll);
  console.log(busy > 100 ? 'started' : 'too few: ' + busy, tasks() - base);
}, 250);`);
    expect(r.stdout.trim(), describeChild(r)).toBe('started 0');
  });

  itUnless(NO_NATIVE)('a tiny synchronous call does not wait for an unrelated async step on the pool', () => {
    const r = runChild(`
const { Adam, clipGradNorm } = require('./dist');
// The step must take long enough for a waiting call to show: grow it until it takes 25 ms (a fast
// or idle machine finishes 2^25 elements sooner than that).
let n = 1 << 25, p, opt, stepMs, t;
for (;;) {
  p = { name: 'w', data: new Float32Array(n).fill(1), grad: new Float32Array(n).fill(0.5) };
  opt = new Adam([p], { backend: 'native', threads: 2 });
  opt.step();
  t = process.hrtime.bigint();
  opt.step();
  stepMs = Number(process.hrtime.bigint() - t) / 1e6;
  if (stepMs > 25 || n >= 1 << 28) break;
  opt.dispose();
  n *= 2;
}
const small = new Float32Array(16).fill(3);
(async () => {
  const pending = opt.stepAsync();
  await new Promise((r) => setTimeout(r, 2));  // the step now runs on the pool
  t = process.hrtime.bigint();
  clipGradNorm([small], 1, { backend: 'native', threads: 2 });
  const clipMs = Number(process.hrtime.bigint() - t) / 1e6;
  await pending;
  console.log(stepMs, clipMs);
})();`);
    const [stepMs, clipMs] = r.stdout.trim().split(' ').map(Number);
    expect(stepMs, describeChild(r)).toBeGreaterThan(20); // the loop above makes it so, up to 2^28 elements
    expect(clipMs).toBeLessThan(stepMs / 4);
  });

  itUnless(NO_NATIVE, [!canDropToNobody, 'not root with setpriv to drop to an unprivileged user for RLIMIT_NPROC'])('where the OS refuses threads, runs on fewer instead of aborting', () => {
    const r = runChild(
      `${TASKS}
const { Adam } = require('./dist');
const p = { name: 'w', data: new Float32Array(1 << 20).fill(1), grad: new Float32Array(1 << 20).fill(0.5) };
const ref = { name: 'w', data: new Float32Array(16).fill(1), grad: new Float32Array(16).fill(0.5) };
new Adam([ref], { backend: 'js' }).step();
const opt = new Adam([p], { backend: 'native', threads: 64 });
require('node:child_process').execFileSync('prlimit', ['--pid', String(process.pid), '--nproc=' + (tasks() + 3)]);
opt.step();
if (!p.data.every((x) => Object.is(x, ref.data[0]))) throw new Error('wrong result');
console.log('ok');`,
      { wrap: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] },
    );
    expectClean(r);
  });
});
