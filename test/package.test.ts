import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelObject, vectorRegisters } from './disasm';

// What a user gets from `npm install adam-native`: the packed tarball, installed into a fresh
// project whose PATH holds node, npm and sh and nothing else (no cmake, no compiler, no nvcc). The
// setup builds the prebuilt binary (`npm run prebuilds`, always fresh) and packs the tarball once.
// Installing needs the npm registry for the dependencies; on 2 cores it takes minutes.
const ROOT = path.join(__dirname, '..');
const TARGET = `${process.platform}-${process.arch}`;
const PREBUILD = path.join('prebuilds', TARGET, 'adam-native.node');
const SLOW = 600_000;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { glibcNeeds, compareVersions } = require('../scripts/glibc-needs.js') as {
  glibcNeeds(file: string): { newest: string | null; symbols: Record<string, string[]> };
  compareVersions(a: string, b: string): number;
};

interface Check {
  info: { native: { loaded: boolean; source: string | null; path: string | null; error: string | null }; isa: string | null };
  auto: { backend: string; bits: string };
  js: { backend: string; bits: string };
  warnings: string[];
}

let tmp = '';
let bareBin = ''; // node, npm, npx and sh only
const tarballs = { full: '', noPrebuilds: '' };
let reference: Check;

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// Variables a bare machine would still have: home, temp dir, certificates, proxies, npm's registry
// and cache. Nothing else of ours (no PATH entries, no npm_* from an enclosing `npm test`).
const KEEP = /^(HOME|USER|TMPDIR|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|https?_proxy|no_proxy|npm_config_(registry|cache|userconfig))$/i;

/** Environment of the bare machine: PATH is only node, npm, npx and sh. */
function bareEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => KEEP.test(k)));
  return { ...env, PATH: bareBin, ...extra };
}

/** npm's own entry script, found through the `npm` on our PATH. */
function npmCli(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const npm = path.join(dir, 'npm');
    if (!fs.existsSync(npm)) continue;
    const real = fs.realpathSync(npm);
    if (real.endsWith('npm-cli.js')) return real;
  }
  return require.resolve('npm/bin/npm-cli.js', { paths: [path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules')] });
}

function makeBareBin(dir: string): void {
  fs.mkdirSync(dir);
  const cli = npmCli();
  fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  fs.symlinkSync('/bin/sh', path.join(dir, 'sh')); // npm runs every script through `sh`
  for (const [name, script] of [['npm', cli], ['npx', path.join(path.dirname(cli), 'npx-cli.js')]])
    fs.writeFileSync(path.join(dir, name!), `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`, { mode: 0o755 });
}

/** A new project with the tarball installed; returns its dir and the install's output. */
function installInto(name: string, tarball: string, ignoreScripts: boolean): { dir: string; output: string } {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `try-${name}`, version: '1.0.0', private: true }));
  fs.copyFileSync(path.join(__dirname, 'fixtures', 'package-check.cjs'), path.join(dir, 'check.cjs'));
  const args = ['install', tarball, '--no-audit', '--no-fund', '--foreground-scripts', '--prefer-offline'];
  if (ignoreScripts) args.push('--ignore-scripts');
  const r = sh('npm', args, { cwd: dir, env: bareEnv() });
  const output = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0) throw new Error(`npm install ${path.basename(tarball)} failed (exit ${r.status}):\n${output}`);
  return { dir, output };
}

function check(dir: string, env: NodeJS.ProcessEnv = {}): Check {
  const out = ok(sh('node', ['check.cjs'], { cwd: dir, env: bareEnv(env) }), 'check.cjs');
  return JSON.parse(out.trim().split('\n').pop()!) as Check;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adam-native-pack-'));
  bareBin = path.join(tmp, 'bin');
  makeBareBin(bareBin);
  ok(sh('npm', ['run', 'prebuilds'], { cwd: ROOT }), 'npm run prebuilds');
  const packed = JSON.parse(ok(sh('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: ROOT }), 'npm pack')) as Array<{
    filename: string;
  }>;
  tarballs.full = path.join(tmp, packed[0]!.filename);
  // The same tarball without prebuilds/: a platform we ship no binary for.
  const unpacked = path.join(tmp, 'unpacked');
  fs.mkdirSync(unpacked);
  ok(sh('tar', ['xzf', tarballs.full, '-C', unpacked]), 'tar x');
  fs.rmSync(path.join(unpacked, 'package', 'prebuilds'), { recursive: true });
  tarballs.noPrebuilds = path.join(tmp, 'no-prebuilds.tgz');
  ok(sh('tar', ['czf', tarballs.noPrebuilds, '-C', unpacked, 'package']), 'tar c');
  // The reference: this checkout's TypeScript backend.
  reference = JSON.parse(ok(sh(process.execPath, [path.join(__dirname, 'fixtures', 'package-check.cjs'), ROOT], { env: { ...process.env, ADAM_NATIVE_DISABLE: '1' } }), 'reference'));
}, SLOW);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, SLOW);

describe('the prebuilt binary', () => {
  it('was compiled with an sse2 unit free of ymm/zmm registers', () => {
    const r = vectorRegisters(kernelObject(path.join(ROOT, 'build', 'prebuildify', 'build'), 'sse2'));
    expect(r.xmm).toBeGreaterThan(0);
    expect({ ymm: r.ymm, zmm: r.zmm }).toEqual({ ymm: 0, zmm: 0 });
  });

  it('loads on old systems: no C++ runtime library, glibc 2.17 at most (README states the figure), DT_HASH, no ISA note', () => {
    const file = path.join(ROOT, PREBUILD);
    const needed = ok(sh('objdump', ['-p', file]), 'objdump -p').match(/NEEDED\s+\S+/g) ?? [];
    expect(needed.join(' ')).not.toMatch(/libstdc\+\+|libgcc_s/);
    // DT_HASH for old dynamic loaders; no x86 ISA-level note (glibc >= 2.33 refuses a binary marked
    // as needing more than the CPU has, and the AVX units must not mark the whole binary).
    expect(ok(sh('objdump', ['-p', file]), 'objdump -p')).toMatch(/^\s+HASH\s/m);
    expect(ok(sh('readelf', ['-n', file]), 'readelf -n')).not.toMatch(/ISA needed/i);
    const { newest, symbols } = glibcNeeds(file);
    expect(newest).not.toBeNull();
    expect({ newest, symbols: symbols[newest!], ok: compareVersions(newest!, '2.17') <= 0 }).toMatchObject({ ok: true });
  });

  it('is in the tarball, and the tarball holds only what a user needs', () => {
    const list = ok(sh('tar', ['tzf', tarballs.full]), 'tar t').split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    expect(list).toContain(PREBUILD);
    const allowed = /^(dist\/|prebuilds\/|native\/|scripts\/|CMakeLists\.txt$|binding\.d\.ts$|README\.md$|LICENSE$|package\.json$)/;
    expect(list.filter((f) => !allowed.test(f))).toEqual([]);
    for (const needed of ['dist/index.js', 'dist/cli.js', 'native/addon.cc', 'CMakeLists.txt', 'binding.d.ts', 'scripts/install.js', 'README.md', 'LICENSE'])
      expect(list).toContain(needed);
  });
});

describe.each([
  { label: 'with install scripts', ignoreScripts: false },
  { label: 'with --ignore-scripts', ignoreScripts: true },
])('npm install of the tarball on a machine without cmake or a compiler, $label', ({ ignoreScripts }) => {
  let full: { dir: string; output: string };
  let bare: { dir: string; output: string };
  beforeAll(() => {
    const tag = ignoreScripts ? 'ignore' : 'scripts';
    full = installInto(`full-${tag}`, tarballs.full, ignoreScripts);
    bare = installInto(`bare-${tag}`, tarballs.noPrebuilds, ignoreScripts);
  }, SLOW);

  it('the bare PATH really lacks cmake, g++ and nvcc', () => {
    expect(fs.readdirSync(bareBin).sort()).toEqual(['node', 'npm', 'npx', 'sh']);
    for (const tool of ['cmake', 'g++', 'c++', 'nvcc']) expect(sh('/bin/sh', ['-c', `command -v ${tool}`], { env: bareEnv() }).status).not.toBe(0);
  });

  it('loads the prebuilt binary and steps Adam bitwise equal to the js backend', () => {
    const r = check(full.dir);
    expect(r.info.native).toMatchObject({ loaded: true, source: 'prebuild', path: path.join(full.dir, 'node_modules', 'adam-native', PREBUILD) });
    expect(r.auto.backend).toBe(`native/${r.info.isa}`);
    expect(r.auto.bits).toBe(r.js.bits);
    expect(r.js.bits).toBe(reference.js.bits);
    if (!ignoreScripts) expect(full.output).toContain('adam-native: using the prebuilt binary');
  });

  it('without prebuilds: the install succeeds and the library runs on the js backend', () => {
    const warnings = bare.output.split('\n').filter((l) => l.includes('adam-native: warning:'));
    // The install script warns once; with --ignore-scripts it never ran.
    expect(warnings.length).toBe(ignoreScripts ? 0 : 1);
    if (!ignoreScripts) expect(warnings[0]).toMatch(/no prebuilt binary for .* needs cmake, a C\+\+ compiler .*TypeScript backend/);
    const r = check(bare.dir);
    expect(r.info.native.loaded).toBe(false);
    expect(r.auto.backend).toBe('js');
    expect(r.warnings.some((w) => w.includes('using the TypeScript backend'))).toBe(true);
    expect(r.auto.bits).toBe(reference.js.bits);
  });

  it('`npx adam-native doctor` gives its verdict: OK with the prebuild, DEGRADED without', () => {
    const good = sh('npx', ['adam-native', 'doctor'], { cwd: full.dir, env: bareEnv() });
    expect(good.stdout).toMatch(/binary: +prebuild .*adam-native\.node/);
    expect(good.stdout).toMatch(/verdict: +OK: native\/scalar, native\/sse2/);
    expect(good.status).toBe(0);
    const degraded = sh('npx', ['adam-native', 'doctor'], { cwd: bare.dir, env: bareEnv() });
    expect(degraded.stdout).toMatch(/verdict: +DEGRADED/);
    expect(degraded.status).toBe(2);
  });
});

describe('the installed prebuilt binary', () => {
  it('turns C++ exceptions into JS errors (its unwinder finds its tables via native/glibc_compat.cc)', () => {
    const installed = path.join(tmp, 'full-scripts', 'node_modules', 'adam-native', PREBUILD);
    const probe = `const b = require(${JSON.stringify(installed)}); const out = [];
      for (const f of [() => new b.Plan(99, [], undefined, 0, 1), () => new b.Plan(0, [1, 2], undefined, 0, 1), () => b.allocFloat32(-5)])
        try { f(); out.push('returned'); } catch (e) { out.push(e.constructor.name); }
      console.log(JSON.stringify(out));`;
    expect(JSON.parse(ok(sh(process.execPath, ['-e', probe]), 'exception probe'))).toEqual(['RangeError', 'RangeError', 'RangeError']);
  });
  it('forced to isa sse2 passes the bitwise suite', () => {
    const installed = path.join(tmp, 'full-scripts', 'node_modules', 'adam-native', PREBUILD);
    expect(fs.existsSync(installed)).toBe(true);
    const env = { ...process.env, ADAM_NATIVE_BINARY: installed, ADAM_NATIVE_ISA: 'sse2' };
    const probe = `const i = require('./dist').backendInfo(); console.log(JSON.stringify([i.native.source, i.native.path, i.isa]))`;
    expect(JSON.parse(ok(sh(process.execPath, ['-e', probe], { cwd: ROOT, env }), 'probe'))).toEqual(['prebuild', installed, 'sse2']);
    const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const r = sh(process.execPath, [vitest, 'run', 'test/bitwise.test.ts', 'test/setup-checks.test.ts'], { cwd: ROOT, env });
    expect({ status: r.status, tail: r.status === 0 ? '' : `${r.stdout}\n${r.stderr}`.slice(-4000) }).toEqual({ status: 0, tail: '' });
    expect(r.stdout).toMatch(/Tests\s+.*\d+ passed/);
  }, SLOW);
});

describe('the installed tarball: adam-native/tfjs', () => {
  it('is packed with its CJS, ESM and type entries', () => {
    const list = ok(sh('tar', ['tzf', tarballs.full]), 'tar t');
    for (const f of ['dist/tfjs/index.js', 'dist/tfjs/index.mjs', 'dist/tfjs/index.d.ts']) expect(list).toContain(`package/${f}`);
  });

  it('loads without tfjs installed, never loads tfjs itself, and steps a tfjs variable bit for bit as Adam', () => {
    const dir = path.join(tmp, 'full-scripts');
    const tfjs = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs');
    const probe = `const tfLoaded = () => Object.keys(require.cache).some((k) => k.includes('@tensorflow'));
      const out = {};
      const lib = require('adam-native');
      out.main = tfLoaded();
      const { nativeOptimizer } = require('adam-native/tfjs');
      out.subpath = tfLoaded();
      try { require.resolve('@tensorflow/tfjs', { paths: [process.cwd()] }); out.installed = true; } catch { out.installed = false; }
      const tf = require(${JSON.stringify(tfjs)});
      tf.setBackend('cpu').then(async () => {
        const v = tf.variable(tf.tensor1d([1, -2, 3]), true, 'w');
        const opt = nativeOptimizer(tf, 'Adam', { lr: 0.1 });
        const p = { name: 'w', data: new Float32Array([1, -2, 3]), grad: new Float32Array([0.5, 0.25, -1]) };
        const direct = new lib.Adam([p], { lr: 0.1 });
        for (let i = 0; i < 3; i++) { opt.applyGradients({ w: tf.tensor1d(p.grad) }); direct.step(); }
        out.bits = Buffer.from(v.dataSync().buffer).equals(Buffer.from(p.data.buffer));
        out.esm = typeof (await import('adam-native/tfjs')).nativeOptimizer;
        console.log(JSON.stringify(out));
      });`;
    const r = ok(sh('node', ['-e', probe], { cwd: dir, env: bareEnv() }), 'tfjs probe');
    expect(JSON.parse(r.trim().split('\n').pop()!)).toEqual({ main: false, subpath: false, installed: false, bits: true, esm: 'function' });
  });
});
