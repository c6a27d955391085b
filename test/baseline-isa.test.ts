import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { flagFiles, kernelObject, vectorRegisters } from './disasm';

// The baseline unit runs on every x86-64 CPU only if it holds no AVX instruction. It is checked in
// the build tree that `npm ci` made (scripts/install.js builds from source in a checkout); a missing
// object is a failure, not a skip. test/package.test.ts checks the prebuilt binary's tree the same way.
const BUILD = path.join(__dirname, '..', 'build');

describe('baseline (sse2) kernel unit', () => {
  it('contains the sse2 kernels, in xmm registers only: no ymm, no zmm', () => {
    const r = vectorRegisters(kernelObject(BUILD, 'sse2'));
    expect(r.functions.some((f) => f.includes('adam_sse2'))).toBe(true);
    expect(r.xmm).toBeGreaterThan(0);
    expect({ ymm: r.ymm, zmm: r.zmm }).toEqual({ ymm: 0, zmm: 0 });
  });

  it('the portable unit (plain C++ on VecScalar) is baseline x86-64 too: no ymm, no zmm', () => {
    const r = vectorRegisters(kernelObject(BUILD, 'scalar'));
    expect(r.functions.some((f) => f.includes('adam_scalar'))).toBe(true);
    expect({ ymm: r.ymm, zmm: r.zmm }).toEqual({ ymm: 0, zmm: 0 });
  });

  it('is checked by a scan that does find wide registers (the avx2 and avx512 units have them)', () => {
    expect(vectorRegisters(kernelObject(BUILD, 'avx2')).ymm).toBeGreaterThan(0);
    expect(vectorRegisters(kernelObject(BUILD, 'avx512')).zmm).toBeGreaterThan(0);
  });

  it('nothing in the build is compiled with -march=native', () => {
    const files = flagFiles(BUILD);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect({ file: f, native: fs.readFileSync(f, 'utf8').includes('march=native') }).toEqual({ file: f, native: false });
  });
});
