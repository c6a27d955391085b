import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Adam } from '../lib';
import { rng } from './helpers';

// A child process saves checkpoints in a loop (over the compiled package, dist/, built by pretest)
// and is killed with SIGKILL at a random moment; the file left behind must load whole: the last
// checkpoint it finished or the one it was writing, never a torn one.
const ROOT = join(__dirname, '..');
const DIR = mkdtempSync(join(tmpdir(), 'adam-kill-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
const N = 1 << 18;

const CHILD = `
const { Adam } = require(${JSON.stringify(join(ROOT, 'dist'))});
const fs = require('node:fs');
const [path, mode] = process.argv.slice(1);
const params = [{ name: 'w', data: new Float32Array(${N}), grad: new Float32Array(${N}).fill(0.25) }, { name: 'b', data: new Float32Array(7), grad: new Float32Array(7).fill(-1) }];
const opt = new Adam(params, { lr: 0.01 });
if (fs.existsSync(path)) opt.loadSync(path);
process.stdout.write('ready ' + opt.stepCount + '\\n');
(async () => {
  for (;;) {
    opt.step();
    if (mode === 'async') await opt.save(path, { params: true });
    else opt.saveSync(path, { params: true });
    process.stdout.write('saved ' + opt.stepCount + '\\n');
  }
})();
`;

function run(path: string, mode: string, delayMs: number): Promise<{ ready: number; saved: number }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['-e', CHILD, path, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout!.on('data', (d) => {
      out += d;
      // The clock starts once the child is in its save loop, so the random delay falls among saves
      // however long the child took to start (ASan, a loaded machine).
      if (!timer && out.includes('saved ')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child exited with ${code}: ${err}`));
      const ready = Number(/ready (\d+)/.exec(out)?.[1] ?? NaN);
      const saves = [...out.matchAll(/saved (\d+)/g)].map((m) => Number(m[1]));
      resolve({ ready, saved: saves.length ? saves[saves.length - 1] : ready });
    });
  });
}

describe('a process killed while saving leaves the old or the new checkpoint whole', () => {
  it.skipIf(!existsSync(join(ROOT, 'dist', 'index.js')))('50 or more kills at random moments, every survivor loads', async () => {
    const path = join(DIR, 'run.safetensors');
    const next = rng(20261201);
    let killedMidSave = 0;
    // 50 rounds, and more (up to 200) until a kill has landed inside a save.
    for (let round = 0; round < 50 || (killedMidSave === 0 && round < 200); round++) {
      const { ready, saved } = await run(path, round % 2 ? 'async' : 'sync', Math.floor(next() * 80));
      const survivor = new Adam([{ name: 'w', data: new Float32Array(N), grad: new Float32Array(N) }, { name: 'b', data: new Float32Array(7), grad: new Float32Array(7) }]);
      if (!existsSync(path)) {
        expect(saved, 'no file although a save finished').toBe(0);
        continue;
      }
      survivor.loadSync(path);
      // The last finished save, or the next one if the kill came between its rename and the print.
      expect([saved, saved + 1], `round ${round}: ready at ${ready}`).toContain(survivor.stepCount);
      // Every step adds the same lr-sized move to w[0] (constant grad): the params match the step.
      const w0 = (survivor.paramGroups[0].params[0].data as Float32Array)[0];
      expect(w0).toBeLessThan(0);
      for (const f of readdirSync(DIR)) if (f.endsWith('.tmp')) (killedMidSave++, rmSync(join(DIR, f)));
    }
    // Some kills must have landed inside a save (a temporary file left behind), or the test proved little.
    expect(killedMidSave).toBeGreaterThan(0);
  }, 600_000);
});
