import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fusedMultiplyAdds, kernelObject } from './disasm';

// The exactness contract: no FMA contraction anywhere in the kernels (-ffp-contract=off), or the
// AVX2/AVX-512 results would stop matching SSE2 and TypeScript in the last bit. Checked in the build
// tree `npm ci` made; a missing object is a failure, not a skip.
const BUILD = path.join(__dirname, '..', 'build');

describe('no fused multiply-add in the kernels', () => {
  it.each(['scalar', 'sse2', 'avx2', 'avx512'])('the %s unit has none', (isa) => {
    expect(fusedMultiplyAdds(kernelObject(BUILD, isa))).toBe(0);
  });

  it('the scan finds one where the compiler contracts a*b+c (control)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adam-fma-'));
    const src = path.join(dir, 'f.cc'), obj = path.join(dir, 'f.o');
    fs.writeFileSync(src, 'float f(float a, float b, float c) { return a * b + c; }\n');
    execFileSync('c++', ['-O2', '-mfma', '-ffp-contract=fast', '-c', src, '-o', obj]);
    expect(fusedMultiplyAdds(obj)).toBeGreaterThan(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
