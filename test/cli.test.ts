import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

// The CLI and the loader as a user meets them, in fresh processes over dist/ (built by pretest).
const ROOT = path.join(__dirname, '..');
const cli = path.join(ROOT, 'dist', 'cli.js');
const node = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });

describe('npx adam-native', () => {
  it.each(['--help', '-h', 'help'])('%s prints the usage and exits 0', (flag) => {
    const r = node([cli, flag]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: adam-native <command>/);
    expect(r.stdout).toMatch(/doctor/);
  });

  it('an unknown command is a usage error (64) that shows the usage', () => {
    const r = node([cli, 'frobnicate']);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'\nusage:/);
  });

  it('doctor, DEGRADED, says what to do', () => {
    const r = node([cli, 'doctor'], { ADAM_NATIVE_DISABLE: '1' });
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/verdict: +DEGRADED/);
    expect(r.stdout).toMatch(/To fix: unset ADAM_NATIVE_DISABLE/);
  });
});

describe('ADAM_NATIVE_BINARY', () => {
  const code = `const { Adam, backendInfo } = require('./dist');
    console.log(JSON.stringify(backendInfo().native.error));
    try { new Adam([{ data: new Float32Array(1), grad: new Float32Array(1) }]); console.log('constructed'); }
    catch (e) { console.log(e.message); }`;

  it('a file that does not load is an error naming the file and why, not a silent fallback', () => {
    const r = node(['-e', code], { ADAM_NATIVE_BINARY: '/nonexistent/adam.node' });
    expect(r.status).toBe(0);
    const [info, construct] = r.stdout.trim().split('\n');
    expect(info).toMatch(/ADAM_NATIVE_BINARY=\/nonexistent\/adam.node did not load: Cannot find module/);
    expect(construct).toMatch(/^Adam: backend 'auto' is unavailable: ADAM_NATIVE_BINARY=\/nonexistent\/adam.node did not load/);
    expect(r.stderr).not.toMatch(/AdamNativeFallback/);
  });

  it('the reason a default load failed is given whole (no cut-off "Tried:" list)', () => {
    // dist/ alone, with no build/ and no prebuilds/ beside it: nothing to load.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adam-load-'));
    try {
      fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
      const r = spawnSync(process.execPath, ['-e', `console.log(require('./dist/backends/load').loadNative().error)`], {
        cwd: dir,
        env: { ...process.env, ADAM_NATIVE_BINARY: '', ADAM_NATIVE_DISABLE: '' },
        encoding: 'utf8',
      });
      expect(r.stdout).toMatch(/Could not locate the bindings file\. Tried: \S/);
      expect(r.stdout).toMatch(/adam_native\.node.*prebuild:/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
