import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as lib from '../lib';
import { PARITY_SUMMARY } from '../lib/doctor/parity';
import { OPTIMIZERS } from '../lib/optimizers';
import { CASES, gridCases } from './cases';

// The registry (lib/optimizers/index.ts) is the one list of optimizers: everything that
// enumerates them reads it, so an optimizer added there is exported, tested, checked by the
// doctor and described without another list to update.
const root = path.join(__dirname, '..');
const names = OPTIMIZERS.map((o) => o.name);

describe('the optimizer registry', () => {
  it('lists each class under its own name, and the package exports it', () => {
    for (const o of OPTIMIZERS) {
      expect(o.Class.name).toBe(o.name);
      expect((lib as Record<string, unknown>)[o.name]).toBe(o.Class);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('every grid case constructs, and the parity cases cover every optimizer', () => {
    for (const o of OPTIMIZERS)
      for (const options of gridCases(o)) expect(() => new o.Class([{ data: new Float32Array(2), grad: new Float32Array(2) }], { ...options, backend: 'js' })).not.toThrow();
    for (const n of names) expect(CASES.some((c) => c.label.startsWith(`${n} `))).toBe(true);
  });

  it('the doctor, the CUDA smoke script and the bench take every optimizer from it', () => {
    for (const n of names) expect(PARITY_SUMMARY).toContain(n);
    expect(fs.readFileSync(path.join(root, 'scripts', 'cuda-smoke.js'), 'utf8')).toContain('OPTIMIZERS');
    // The bench runs on dist/ in its own process, as `npm run bench` does.
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', "const { SUBJECTS } = await import('./bench/subjects.mjs'); console.log(SUBJECTS.length)"], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(Number(r.stdout)).toBe(names.length);
  });
});
