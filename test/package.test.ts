import { type SpawnSyncReturns, execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelObject, vectorRegisters } from './disasm';

// What a user gets from `npm install adam-native`: the packed tarball, installed into a fresh
// project whose PATH holds node, npm and sh and nothing else (no cmake, no compiler, no nvcc). The
// setup builds both prebuilt binaries (`npm run prebuilds`, always fresh; linux-arm64 needs
// g++-aarch64-linux-gnu) and packs the tarball once (its prepack verifies them).
// Installing needs the npm registry for the dependencies; on 2 cores it takes minutes.
const ROOT = path.join(__dirname, '..');
const TARGET = `${process.platform}-${process.arch}`;
const PREBUILD = path.join('prebuilds', TARGET, 'adam-native.node');
const ARM64_BINARY = path.join(ROOT, 'prebuilds', 'linux-arm64', 'adam-native.node');
// linux-arm64 is cross-compiled with Debian's g++-aarch64-linux-gnu (CI installs it).
const CROSS = 'aarch64-linux-gnu';
const SLOW = 600_000;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { glibcNeeds, compareVersions } = require('../scripts/glibc-needs.js') as {
  glibcNeeds(file: string): { newest: string | null; symbols: Record<string, string[]> };
  compareVersions(a: string, b: string): number;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const stamp = require('../scripts/prebuild-stamp.js') as { sourcesDigest(root: string): string };

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
// The sanitizer preload of `npm run test:asan` stays, so the installed package runs under it too.
// The prebuild carries a static libstdc++ whose operator new calls malloc, while template code bound
// to node's exported instances frees through the operator delete ASan interposes: malloc and free
// underneath either way, but ASan reports the pair as a mismatch, so that one check is off here.
if (process.env.ASAN_OPTIONS) process.env.ASAN_OPTIONS += ':alloc_dealloc_mismatch=0';
const KEEP = /^(HOME|USER|TMPDIR|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|https?_proxy|no_proxy|npm_config_(registry|cache|userconfig)|LD_PRELOAD|ASAN_OPTIONS|UBSAN_OPTIONS)$/i;

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
  // Building and packing are not under test: no sanitizer preload (the compiler under ASan is slow).
  const build = { cwd: ROOT, env: { ...process.env, LD_PRELOAD: '' } };
  ok(sh('npm', ['run', 'prebuilds'], build), 'npm run prebuilds');
  const packed = JSON.parse(ok(sh('npm', ['pack', '--json', '--pack-destination', tmp], build), 'npm pack')) as Array<{
    filename: string;
  }>;
  tarballs.full = path.join(tmp, packed[0]!.filename);
  // The same tarball without prebuilds/: a platform we ship no binary for.
  fs.mkdirSync(path.join(tmp, 'contents'));
  ok(sh('tar', ['xzf', tarballs.full, '-C', path.join(tmp, 'contents')]), 'tar x');
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
    const r = vectorRegisters(kernelObject(path.join(ROOT, 'build', 'prebuildify-x64', 'build'), 'sse2'));
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

  it('the tarball holds both prebuilds, stamped with its own sources, and only what a user needs', () => {
    const list = ok(sh('tar', ['tzf', tarballs.full]), 'tar t').split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    const digest = stamp.sourcesDigest(path.join(tmp, 'contents', 'package'));
    for (const target of ['linux-x64', 'linux-arm64']) {
      expect(list).toContain(`prebuilds/${target}/adam-native.node`);
      expect(fs.readFileSync(path.join(tmp, 'contents', 'package', 'prebuilds', target, 'adam-native.sources'), 'utf8').trim()).toBe(digest);
    }
    const tree = /^(dist|native)\//;
    expect(list.filter((f) => !tree.test(f)).sort()).toEqual(
      [
        'CMakeLists.txt',
        'LICENSE',
        'README.md',
        'binding.d.ts',
        'docs/demo/bias-correction.svg',
        'docs/demo/bow.svg',
        'docs/demo/logreg.svg',
        'package.json',
        'prebuilds/linux-arm64/adam-native.node',
        'prebuilds/linux-arm64/adam-native.sources',
        'prebuilds/linux-x64/adam-native.node',
        'prebuilds/linux-x64/adam-native.sources',
        'scripts/install.js',
        'scripts/native-build.js',
      ].sort(),
    );
    for (const needed of ['dist/index.js', 'dist/cli.js', 'native/addon.cc', 'native/kernels/vec_neon.h']) expect(list).toContain(needed);
    // Every image and relative link of the README points at a file in the tarball.
    const readme = fs.readFileSync(path.join(tmp, 'contents', 'package', 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/\]\(([^)#\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t));
    expect(targets.filter((t) => !list.includes(t))).toEqual([]);
  });

  it('npm pack refuses a stale or missing prebuild (prepack), and passes the fresh ones', () => {
    const copy = path.join(tmp, 'prepack');
    for (const f of ['native', 'CMakeLists.txt', 'prebuilds']) fs.cpSync(path.join(ROOT, f), path.join(copy, f), { recursive: true });
    const prepack = () =>
      sh(process.execPath, [path.join(ROOT, 'scripts', 'prepack.js')], { env: { ...process.env, ADAM_NATIVE_PREPACK_ROOT: copy, ADAM_NATIVE_PREPACK: 'verify' } });
    expect(prepack().status).toBe(0);
    fs.appendFileSync(path.join(copy, 'native', 'kernels', 'vec_neon.h'), '// edited after the build\n');
    const stale = prepack();
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/linux-arm64\/adam-native\.node is stale/);
    fs.rmSync(path.join(copy, 'prebuilds', 'linux-arm64'), { recursive: true });
    expect(prepack().stderr).toMatch(/linux-arm64\/adam-native\.node is missing/);
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

  it('installs only adam-native and its run-time dependency bindings (no build tools, no CRC package)', () => {
    for (const { dir } of [full, bare]) expect(fs.readdirSync(path.join(dir, 'node_modules')).filter((n) => !n.startsWith('.')).sort()).toEqual(['adam-native', 'bindings', 'file-uri-to-path']);
  });

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

/** A PATH of links to every program on ours except cmake, C/C++ compilers and nvcc: a machine that has git and the usual tools but cannot build. */
function noCompilerBin(dir: string): string {
  fs.mkdirSync(dir);
  const build = /^(cmake|ctest|cpack|cc|c\+\+|gcc|g\+\+|cpp|clang.*|nvcc|.*-(gcc|g\+\+|cc|c\+\+)(-\d+)?|(gcc|g\+\+|cpp)-\d+)$/;
  for (const from of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    if (!fs.existsSync(from) || !fs.statSync(from).isDirectory()) continue;
    for (const name of fs.readdirSync(from))
      if (!build.test(name) && !fs.existsSync(path.join(dir, name))) fs.symlinkSync(path.join(from, name), path.join(dir, name));
  }
  return dir;
}

describe('npm install from a git URL on a machine with git but without cmake or a compiler', () => {
  it('succeeds with one warning, and the library runs on the TypeScript backend', () => {
    const bin = noCompilerBin(path.join(tmp, 'git-bin'));
    for (const tool of ['cmake', 'g++', 'c++', 'cc']) expect(sh('/bin/sh', ['-c', `command -v ${tool}`], { env: { PATH: bin } }).status).not.toBe(0);
    const head = ok(sh('git', ['rev-parse', 'HEAD'], { cwd: ROOT }), 'git rev-parse').trim();
    const dir = path.join(tmp, 'git-url');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'try-git-url', version: '1.0.0', private: true }));
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'package-check.cjs'), path.join(dir, 'check.cjs'));
    const r = sh('npm', ['install', `git+file://${ROOT}#${head}`, '--no-audit', '--no-fund', '--foreground-scripts', '--prefer-offline'], {
      cwd: dir,
      env: bareEnv({ PATH: bin }),
    });
    const output = `${r.stdout}\n${r.stderr}`;
    expect({ status: r.status, tail: r.status === 0 ? '' : output.slice(-3000) }).toEqual({ status: 0, tail: '' });
    const warnings = output.split('\n').filter((l) => l.includes('adam-native: warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/needs cmake, a C\+\+ compiler .*TypeScript backend/);
    const c = JSON.parse(ok(sh('node', ['check.cjs'], { cwd: dir, env: bareEnv({ PATH: bin }) }), 'check.cjs').trim().split('\n').pop()!) as Check;
    expect(c.auto.backend).toBe('js');
    expect(c.auto.bits).toBe(reference.js.bits);
  }, SLOW);
});

// nvcc on PATH or in CUDA's default place (CI has it; CI_EXPECT_CUDA=1 makes its absence a failure).
const NVCC_DIR = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/cuda/bin'].find((d) => d && fs.existsSync(path.join(d, 'nvcc')));
const expectCuda = process.env.CI_EXPECT_CUDA === '1';

describe('CUDA for a user who installed the package', () => {
  it.skipIf(!NVCC_DIR && !expectCuda)(
    `the hint's command, \`ADAM_NATIVE_CUDA=1 npm rebuild adam-native\`, builds the CUDA backend in the project${NVCC_DIR || expectCuda ? '' : ' (skipped: no nvcc)'}`,
    () => {
      expect(NVCC_DIR, 'nvcc not found').toBeTruthy();
      const { dir } = installInto('cuda', tarballs.full, false);
      const cudaInfo = () =>
        JSON.parse(ok(sh('node', ['-e', "console.log(JSON.stringify(require('adam-native').cuda.info()))"], { cwd: dir, env: bareEnv() }), 'cuda.info').trim()) as {
          compiled: boolean;
          error: string | null;
        };
      const before = cudaInfo();
      expect(before.compiled).toBe(false);
      const hint = /`([^`]*npm rebuild adam-native)`/.exec(before.error ?? '')?.[1];
      expect(hint).toBe('ADAM_NATIVE_CUDA=1 npm rebuild adam-native');
      // The hint's command as a shell runs it, with the build tools on PATH; one GPU architecture
      // (ADAM_NATIVE_CMAKE_ARGS) keeps the nvcc step short. Building is not under test: no
      // sanitizer preload (nvcc's tools fail CMake's compiler check under it); cudaInfo keeps it.
      const r = sh('/bin/sh', ['-c', `${hint} --foreground-scripts`], {
        cwd: dir,
        env: bareEnv({ PATH: `${NVCC_DIR}${path.delimiter}${process.env.PATH}`, ADAM_NATIVE_CMAKE_ARGS: '--CDCMAKE_CUDA_ARCHITECTURES=90-real', LD_PRELOAD: '' }),
      });
      expect({ status: r.status, tail: r.status === 0 ? '' : `${r.stdout}\n${r.stderr}`.slice(-3000) }).toEqual({ status: 0, tail: '' });
      expect(r.stdout).toContain('adam-native: building from source: ADAM_NATIVE_CUDA=1');
      const after = cudaInfo();
      expect({ compiled: after.compiled, error: after.error }).toMatchObject({ compiled: true });
      expect(after.error ?? '').not.toMatch(/built without CUDA/);
    },
    SLOW,
  );
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

/** AArch64 fused multiply-adds: fmla/fmls (vector), fmadd/fmsub/fnmadd/fnmsub (scalar). */
function fusedMultiplyAddsArm64(object: string): number {
  const asm = execFileSync(`${CROSS}-objdump`, ['-d', '--no-show-raw-insn', object], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return (asm.match(/\bf(n?)m(add|sub|la|ls)\b/g) ?? []).length;
}

// The linux-arm64 prebuild as `npm run prebuilds` cross-compiles it (build/prebuildify-arm64/):
// the NEON unit free of fused multiply-adds, and a binary that loads on old AArch64 systems. Its
// bits are checked by running it under emulation (npm run test:arm64, in CI).
describe('the linux-arm64 prebuild (cross-compiled)', () => {
  it('has a neon unit without fmla/fmadd (-ffp-contract=off)', () => {
    const object = kernelObject(path.join(ROOT, 'build', 'prebuildify-arm64', 'build'), 'neon');
    expect(fs.existsSync(object), object).toBe(true);
    const asm = execFileSync(`${CROSS}-objdump`, ['-d', '--no-show-raw-insn', object], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(asm).toMatch(/\bfsqrt\s+v\d+\.4s/); // vsqrtq_f32: the unit really is vector code
    expect(asm).toMatch(/\bfdiv\s+v\d+\.4s/);
    expect(fusedMultiplyAddsArm64(object)).toBe(0);
  });

  it('has a scalar unit without fmadd (-ffp-contract=off)', () => {
    const object = kernelObject(path.join(ROOT, 'build', 'prebuildify-arm64', 'build'), 'scalar');
    expect(fs.existsSync(object), object).toBe(true);
    expect(fusedMultiplyAddsArm64(object)).toBe(0);
  });

  it('the scan finds one where the cross compiler contracts a*b+c (its default)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adam-fma-arm64-'));
    const src = path.join(dir, 'f.cc'), obj = path.join(dir, 'f.o');
    fs.writeFileSync(src, 'float f(float a, float b, float c) { return a * b + c; }\n');
    execFileSync(`${CROSS}-g++`, ['-O2', '-c', src, '-o', obj]);
    expect(fusedMultiplyAddsArm64(obj)).toBeGreaterThan(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loads on old systems: AArch64, no C++ runtime library, glibc 2.17 at most (README states the figure), DT_HASH', () => {
    const headers = execFileSync(`${CROSS}-objdump`, ['-p', '-f', ARM64_BINARY], { encoding: 'utf8' });
    expect(headers).toMatch(/architecture: aarch64/);
    expect((headers.match(/NEEDED\s+\S+/g) ?? []).join(' ')).not.toMatch(/libstdc\+\+|libgcc_s/);
    expect(headers).toMatch(/^\s+HASH\s/m);
    const { newest, symbols } = glibcNeeds(ARM64_BINARY);
    expect(newest).not.toBeNull();
    expect({ newest, symbols: symbols[newest!], ok: compareVersions(newest!, '2.17') <= 0 }).toMatchObject({ ok: true });
  });
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
