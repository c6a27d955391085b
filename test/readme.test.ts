import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cuda } from '../lib';

// Every ```js snippet of the README, run as written (a CommonJS .js file, `adam-native` resolved
// to this checkout's build): a snippet that needs names it does not define, or top-level await,
// fails here. The CUDA ones run where a device exists.
const root = path.join(__dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const snippets = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m, i) => ({
  label: `snippet ${i + 1}: ${m[1].split('\n').find((l) => l.trim() && !l.startsWith('const {'))?.trim().slice(0, 50)}`,
  code: m[1],
}));
const hasDevice = (() => {
  try {
    return cuda.info().deviceCount > 0;
  } catch {
    return false;
  }
})();
const TFJS_BANNER = /^\s*=+\s*Hi, looks like you are running TensorFlow\.js in Node\.js[\s\S]*?=+\s*$/m;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adam-readme-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('README snippets', () => {
  it('there are snippets to run', () => expect(snippets.length).toBeGreaterThan(5));

  const needsGpu = (code: string) => /cuda\.upload|backend: 'cuda'/.test(code);
  const run = (code: string) => {
    const file = path.join(dir, `s${snippets.findIndex((s) => s.code === code)}.js`);
    const source = code
      .replace(/require\('adam-native'\)/g, `require(${JSON.stringify(root)})`)
      .replace(/require\('adam-native\/tfjs'\)/g, `require(${JSON.stringify(path.join(root, 'dist', 'tfjs'))})`);
    fs.writeFileSync(file, source);
    // The snippet's own dependencies (@tensorflow/tfjs) come from this checkout, as a user's project has them.
    const env = { ...process.env, NODE_NO_WARNINGS: '1', NODE_PATH: path.join(root, 'node_modules') };
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', env });
    // TF.js prints one banner on import in Node.js (pointing to tfjs-node); anything else on stderr fails.
    expect(r.stderr.replace(TFJS_BANNER, '')).toBe('');
    expect(r.status).toBe(0);
  };
  it.each(snippets.filter((s) => !needsGpu(s.code)))('$label', ({ code }) => run(code), 30_000);
  const gpu = snippets.filter((s) => needsGpu(s.code)).map((s) => ({ ...s, label: hasDevice ? s.label : `(skipped: no CUDA device) ${s.label}` }));
  it.skipIf(!hasDevice).each(gpu)('$label', ({ code }) => run(code), 30_000);
});
