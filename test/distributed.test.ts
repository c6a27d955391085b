import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Adam } from '../lib';
import { describeChild, expectClean, runChild } from './child';

const ROOT = path.join(__dirname, '..');
const MPI_ADDON = path.join(ROOT, 'build', 'Release', 'adam_native_mpi.node');
const MPIRUN = spawnSync('mpirun', ['--version'], { encoding: 'utf8' }).status === 0;
const NO_MPI = !MPIRUN ? 'mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)' : !fs.existsSync(MPI_ADDON) ? 'the MPI addon was not built (CMake found no MPI)' : null;

/** `mpirun -np n node script`: every rank must end with "ok rank r of n". */
function mpirun(n: number, script: string) {
  const r = spawnSync('mpirun', ['--allow-run-as-root', '--oversubscribe', '-np', String(n), process.execPath, path.join(__dirname, 'distributed', script)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 240_000,
    maxBuffer: 64 << 20,
  });
  const result = { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  expect(result.status, describeChild(result)).toBe(0);
  for (let rank = 0; rank < n; rank++) expect(result.stdout, describeChild(result)).toContain(`ok rank ${rank} of ${n}`);
  expect(result.stdout).not.toContain('FAIL');
}

describe('distributed without MPI', () => {
  it('distributed.mpi() says what to install when the MPI addon is missing', () => {
    const r = runChild(
      `const { distributed } = require('./dist');
       try { distributed.mpi(); console.log('no throw'); } catch (e) { console.log(e.message); }`,
      { env: { ADAM_NATIVE_MPI_BINARY: path.join(ROOT, 'build', 'no-such-mpi-addon.node') } },
    );
    expect(r.status, describeChild(r)).toBe(0);
    expect(r.stdout).toMatch(/distributed\.mpi\(\): MPI is not available: .*no-such-mpi-addon\.node was not built.*apt-get install openmpi-bin libopenmpi-dev.*npx cmake-js compile/);
  });

  it('the rest of the package loads and steps without MPI', () => {
    const r = runChild(
      `const { Adam } = require('./dist');
       const p = { data: new Float32Array(4), grad: new Float32Array(4).fill(1) };
       new Adam([p], { lr: 0.1 }).step(); console.log(p.data[0] < 0 ? 'ok' : 'bad');`,
      { env: { ADAM_NATIVE_MPI_BINARY: path.join(ROOT, 'build', 'no-such-mpi-addon.node') } },
    );
    expectClean(r);
  });

  it('checks the shard options before anything else', () => {
    const p = () => ({ data: new Float32Array(4), grad: new Float32Array(4) });
    expect(() => new Adam([p()], { lr: 0.1, shard: {} as never })).toThrow(TypeError);
    expect(() => new Adam([p()], { lr: 0.1, shard: {} as never })).toThrow(/option 'shard' must be a communicator from distributed\.mpi\(\), got an Object/);
    expect(() => new Adam([p()], { lr: 0.1, gradAverage: false })).toThrow(new TypeError("Adam: option 'gradAverage' applies only with 'shard'"));
    expect(() => new Adam([p()], { lr: 0.1, shard: 1 as never, gradAverage: 'no' as never })).toThrow(/option 'gradAverage' must be a boolean/);
  });
});

describe.skipIf(NO_MPI !== null)(`sharded over MPI${NO_MPI ? ` (skipped: ${NO_MPI})` : ''}`, () => {
  it('every optimizer, 2 ranks: bitwise equal to one process stepping the rank-order sum; state gathers and resumes', () => mpirun(2, 'parity.cjs'), 300_000);
  it('every optimizer, 3 ranks: the same', () => mpirun(3, 'parity.cjs'), 300_000);
  it('errors: differing parameter lists, skipNonFinite on one rank, busy and finalised communicators, foreign state dicts and files; allReduce', () => mpirun(2, 'errors.cjs'), 120_000);
  it('the same at 3 ranks (where the order of a sum matters)', () => mpirun(3, 'errors.cjs'), 120_000);
});
