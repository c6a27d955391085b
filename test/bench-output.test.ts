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

  it('the speed targets: medians of rounds with the fastest and slowest round, each against its target', () => {
    const r = run(`
      import { printSpeedTargets } from './bench/sizes.mjs';
      const row = { optimizer: 'Adam', size: '1M', threads: 2, elements: 2 ** 20, seconds: 2.5e-4, roofSeconds: 2.4e-4,
        ofProbe: { median: 0.96, min: 0.9, max: 0.99, n: 7 } };
      const small = { elements: 10, autoUs: 0.5, jsUs: 0.48, batches: 700, auto: { median: 5e-7, min: 4.9e-7, max: 6e-7, n: 7 },
        js: { median: 4.8e-7, min: 4.7e-7, max: 5e-7, n: 7 }, autoOverJs: { median: 1.04, min: 1.0, max: 1.2, n: 7 } };
      printSpeedTargets([row], [{ threads: 1, flat: 0.01, separate: 0.014, separateOverFlat: { median: 1.4, min: 1.3, max: 1.6, n: 7 } }], [small]);`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Adam 1M\/2T: .* 0\.96 \[0\.90-0\.99\] over 7 rounds of probe \(target >= 0\.95\): met/);
    expect(r.stdout).toMatch(/'auto' 0\.50 \[0\.49-0\.60\] us\/step .* 'auto' 1\.04x \[1\.00-1\.20\] of it \(target <= 1\.1x\): met/);
    expect(r.stdout).toMatch(/1\.40x \[1\.30-1\.60\] over 7 rounds the time \(target <= 1\.3x\): not met/);
  });

  it('loading and running TF.js prints no banner', () => {
    const r = run(`
      const m = await import('./bench/tfjs.mjs');
      await m.tfSeconds('cpu', (tf) => tf.train.adam(1e-3), { tensors: 1, length: 16 }, { reps: 2, warmup: 1, budget: 0.1 });`);
    expect(r.stdout + r.stderr).not.toMatch(/TensorFlow\.js in Node\.js/);
    expect(r.status).toBe(0);
  }, 60_000);
});
