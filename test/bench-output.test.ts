import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

// What `npm run bench` prints, checked without benchmarking: the table and target lines from fixed
// figures, and the TF.js import, in a fresh process over dist/ (built by pretest).
const ROOT = path.join(__dirname, '..');
const run = (code: string) =>
  spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });

describe('bench output', () => {
  it('one rate unit (Gelem/s, as the README), and targets as plain statements of what was measured', () => {
    const r = run(`
      import { printTable, printTargets } from './bench/report.mjs';
      const row = { optimizer: 'Adam', size: '64M', threads: 2, elements: 2 ** 26, seconds: 0.05, roofSeconds: 0.048,
        bytesPerElement: 28, jsSeconds: 1, tfCpuSeconds: null, tfWasmSeconds: null };
      printTable([row]);
      printTargets([row], [{ threads: 2, single: 0.01, flat: 0.02, separate: 0.03 }], []);`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Gelem\/s/);
    expect(r.stdout).not.toMatch(/Melem|issue|NOT met/);
    expect(r.stdout).toMatch(/Adam 64M, 2 threads: 96% of the memory roof \(target: at least 95%\)/);
    expect(r.stdout).toMatch(/2\.00x \(views of one buffer\).*\(target: views within 1\.5x; below it\)/);
  });

  it('loading and running TF.js prints no banner', () => {
    const r = run(`
      const m = await import('./bench/tfjs.mjs');
      await m.tfSeconds('cpu', (tf) => tf.train.adam(1e-3), { tensors: 1, length: 16 }, { reps: 2, warmup: 1, budget: 0.1 });`);
    expect(r.stdout + r.stderr).not.toMatch(/TensorFlow\.js in Node\.js/);
    expect(r.status).toBe(0);
  }, 60_000);
});
